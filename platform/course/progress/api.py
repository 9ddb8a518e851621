from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from course.config.api import CSVFileRenderer, ErrorsAsJsonMixin
from course.curriculum.selectors import exercise_get
from course.errors import Forbidden, NotFound
from course.progress.services import activity_record
from course.progress.time_report import QUARTILE_METHOD, report_csv, report_filename, report_rows, time_report_for

SOURCES = ("web", "cli", "submission", "notebook")


class ActivityApi(APIView):
    """A time-tracking heartbeat: the learner is working on ``exercise`` now.

    Only the server's clock counts: a client's own timestamp (an ``at`` field, as older clients
    send) is ignored, so no client can credit time it did not spend.
    """

    class InputSerializer(serializers.Serializer):
        exercise = serializers.SlugField()
        source = serializers.ChoiceField(choices=SOURCES)

    @extend_schema(request=InputSerializer, responses={204: None})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        exercise = exercise_get(slug=data.validated_data["exercise"])
        if exercise is None:
            raise NotFound(f"there is no exercise {data.validated_data['exercise']!r}")
        activity_record(
            learner_id=request.user.id,
            exercise_id=exercise.id,
            source=data.validated_data["source"],
        )
        return Response(status=204)


class StepTimeSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    modules = serializers.ListField(child=serializers.CharField())
    published_low_hours = serializers.FloatField()
    published_high_hours = serializers.FloatField()
    learners = serializers.IntegerField(allow_null=True, help_text="null below the minimum group")
    q1_hours = serializers.FloatField(allow_null=True)
    median_hours = serializers.FloatField(allow_null=True)
    q3_hours = serializers.FloatField(allow_null=True)
    share_above_range = serializers.FloatField(allow_null=True, help_text="share of learners above the top")
    share_below_range = serializers.FloatField(allow_null=True, help_text="share of learners below the bottom")
    note = serializers.CharField(help_text='"fewer than N learners" when the figures are withheld')


class ModuleTimeSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    step = serializers.CharField(allow_null=True)
    estimated_hours = serializers.FloatField()
    learners = serializers.IntegerField(allow_null=True, help_text="null below the minimum group")
    q1_hours = serializers.FloatField(allow_null=True)
    median_hours = serializers.FloatField(allow_null=True)
    q3_hours = serializers.FloatField(allow_null=True)
    share_above_estimate = serializers.FloatField(allow_null=True)
    note = serializers.CharField()


class TimeReportApi(ErrorsAsJsonMixin, APIView):
    """Active hours per step of the published path and per module, over the learners who completed
    them, against the published ranges and the course's estimates (``?format=csv`` for a sheet).

    Open to anyone while ``TIME_REPORT_PUBLIC`` is on, else course staff; ``?cohort=<id>`` for one
    cohort, for its staff. Groups smaller than ``TIME_REPORT_MIN_GROUP`` have no figures.
    """

    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVFileRenderer]

    class OutputSerializer(serializers.Serializer):
        cohort = serializers.IntegerField(allow_null=True)
        min_group = serializers.IntegerField()
        learners = serializers.IntegerField(help_text="learners enrolled in the cohorts looked at")
        computed_at = serializers.DateTimeField(help_text="when these figures were computed (reused for a few minutes)")
        quartile_method = serializers.CharField()
        steps = StepTimeSerializer(many=True)
        modules = ModuleTimeSerializer(many=True)

    @extend_schema(
        responses={(200, "application/json"): OutputSerializer, (200, "text/csv"): str},
        parameters=[
            OpenApiParameter("format", str, enum=["json", "csv"], required=False),
            OpenApiParameter("cohort", int, required=False, description="one cohort (its staff only)"),
        ],
    )
    def get(self, request):
        try:
            report = time_report_for(viewer=request.user, cohort=request.query_params.get("cohort"))
        except Forbidden:
            if not request.user.is_authenticated:
                raise NotAuthenticated() from None
            raise
        if request.accepted_renderer.format == "csv":
            response = Response(report_csv(report))
            response["Content-Disposition"] = f'attachment; filename="{report_filename(report)}"'
            return response
        body = {
            "cohort": report.cohort_id,
            "min_group": report.min_group,
            "learners": report.learners,
            "computed_at": report.computed_at,
            "quartile_method": QUARTILE_METHOD,
            **report_rows(report),
        }
        return Response(self.OutputSerializer(body).data)
