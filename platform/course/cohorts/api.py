from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from course.cohorts.models import Cohort
from course.cohorts.selectors import cohort_progress, staff_cohort_ids
from course.config.api import CSVRenderer


class CohortProgressApi(APIView):
    """Per learner and module: status, score and time (staff of the cohort; ``?format=csv`` for a sheet)."""

    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]

    class OutputSerializer(serializers.Serializer):
        learner = serializers.CharField()
        module = serializers.CharField()
        status = serializers.CharField()
        score = serializers.FloatField()
        max_score = serializers.FloatField()
        time_s = serializers.IntegerField()
        estimated_hours = serializers.FloatField()

    @extend_schema(
        responses=OutputSerializer(many=True),
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"], required=False)],
    )
    def get(self, request, cohort_id: int):
        # Learners and staff of other cohorts get the same 404: the cohort's existence is not theirs to know.
        if cohort_id not in staff_cohort_ids(request.user):
            raise NotFound("no such cohort")
        rows = cohort_progress(cohort=Cohort.objects.get(id=cohort_id))
        response = Response(rows)
        if request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = f'attachment; filename="cohort-{cohort_id}-progress.csv"'
        return response
