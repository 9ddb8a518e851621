from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from course.cohorts.export import SECTIONS, dashboard_tables, dashboard_zip, matrix_table
from course.cohorts.models import Cohort
from course.cohorts.selectors import cohort_dashboard, cohort_progress, staff_cohort_ids
from course.cohorts.services import cohort_settings_update
from course.config.api import CSVFileRenderer, ErrorsAsJsonMixin, ZipFileRenderer
from course.errors import Invalid


def _staff_cohort(request, cohort_id: int) -> Cohort:
    # Learners and staff of other cohorts get the same 404: the cohort's existence is not theirs to know.
    if cohort_id not in staff_cohort_ids(request.user):
        raise NotFound("no such cohort")
    return Cohort.objects.get(id=cohort_id)


class CohortProgressApi(ErrorsAsJsonMixin, APIView):
    """Per learner and module: status, score and time (staff of the cohort; ``?format=csv`` for a sheet)."""

    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVFileRenderer]

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
        rows = cohort_progress(cohort=_staff_cohort(request, cohort_id))
        if request.accepted_renderer.format == "csv":
            return _download(matrix_table(rows).csv(), f"cohort-{cohort_id}-progress.csv")
        return Response(rows)


class CohortDashboardApi(ErrorsAsJsonMixin, APIView):
    """Everything on the cohort page, section by section: the learners x modules matrix, the
    completion funnel, hours per module against the estimate, and the stuck learners.

    JSON by default; ``?format=csv&section=<name>`` for one section as a sheet; ``?format=zip``
    for every section's CSV in one download.
    """

    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVFileRenderer, ZipFileRenderer]

    @extend_schema(
        responses={(200, "application/json"): dict, (200, "text/csv"): str, (200, "application/zip"): bytes},
        parameters=[
            OpenApiParameter("format", str, enum=["json", "csv", "zip"], required=False),
            OpenApiParameter("section", str, enum=list(SECTIONS), required=False, description="required for csv"),
        ],
    )
    def get(self, request, cohort_id: int):
        cohort = _staff_cohort(request, cohort_id)
        fmt = request.accepted_renderer.format
        section = request.query_params.get("section")
        if fmt == "csv" and section not in SECTIONS:
            raise Invalid(f"section must be one of {', '.join(SECTIONS)} (or ask for format=zip)")
        tables = dashboard_tables(cohort_dashboard(cohort=cohort))
        prefix = f"cohort-{cohort_id}"
        if fmt == "csv":
            return _download(tables[section].csv(), f"{prefix}-{section}.csv")
        if fmt == "zip":
            return _download(dashboard_zip(tables, prefix), f"{prefix}.zip")
        return Response({"cohort": cohort.name, "sections": {name: tables[name].rows for name in SECTIONS}})


class CohortSettingsApi(APIView):
    """The cohort's settings its staff may change (send any of them): ``prerequisites_advisory`` (true:
    no module is locked for its learners; the dashboard still advises the prerequisites) and when its
    learners may reveal a solution (``solution_policy``, ``solution_after_attempts``)."""

    class InputSerializer(serializers.Serializer):
        prerequisites_advisory = serializers.BooleanField(required=False)
        solution_policy = serializers.ChoiceField(choices=Cohort.SolutionPolicy.values, required=False)
        solution_after_attempts = serializers.IntegerField(required=False, min_value=0)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField()
        prerequisites_advisory = serializers.BooleanField()
        solution_policy = serializers.CharField()
        solution_after_attempts = serializers.IntegerField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request, cohort_id: int):
        return Response(self.OutputSerializer(_staff_cohort(request, cohort_id)).data)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def patch(self, request, cohort_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cohort = cohort_settings_update(user=request.user, cohort_id=cohort_id, **data.validated_data)
        return Response(self.OutputSerializer(cohort).data)


def _download(content: str | bytes, filename: str) -> Response:
    response = Response(content)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
