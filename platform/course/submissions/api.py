from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from course.config.api import CSVFileRenderer, ErrorsAsJsonMixin
from course.errors import Invalid
from course.submissions.item_stats import exercise_item_stats, item_stats_table
from course.submissions.selectors import regrade_status, regrade_visible_to, submissions_visible_to
from course.submissions.services import regrade_start, submission_create


class SubmissionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    exercise = serializers.CharField(source="exercise.slug")
    status = serializers.CharField(help_text="queued, running, graded or error")
    stage = serializers.CharField(help_text="the status, with the running part split into running and judging")
    verdict = serializers.CharField()
    score = serializers.FloatField(allow_null=True)
    max_score = serializers.FloatField()
    queued_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    judging_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    result = serializers.JSONField(allow_null=True, help_text="the Result format of DESIGN.md")
    queue_position = serializers.SerializerMethodField(help_text="submissions ahead of this one while it is queued")

    def get_queue_position(self, submission) -> int | None:
        from course.submissions.selectors import queue_position

        return queue_position(submission=submission)


class SubmissionCreateApi(APIView):
    """Submit a notebook (multipart field ``notebook``); grading happens in the background."""

    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        notebook = serializers.FileField()

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.CharField()

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={202: OutputSerializer})
    def post(self, request, slug: str):
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            raise Invalid("send the notebook as a multipart file field named 'notebook'")
        submission = submission_create(
            learner=request.user, exercise_slug=slug, notebook=data.validated_data["notebook"]
        )
        return Response(self.OutputSerializer(submission).data, status=202)


class SubmissionListApi(APIView):
    """The caller's own submissions, newest first (``?exercise=<slug>`` to filter), at most 100."""

    class FilterSerializer(serializers.Serializer):
        exercise = serializers.SlugField(required=False)

    @extend_schema(parameters=[FilterSerializer], responses=SubmissionOutputSerializer(many=True))
    def get(self, request):
        # Checked as a slug first: anything else (a NUL, say) is a 400, never a database error.
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = submissions_visible_to(request.user).filter(learner=request.user)
        if filters.validated_data.get("exercise"):
            qs = qs.filter(exercise__slug=filters.validated_data["exercise"])
        return Response(SubmissionOutputSerializer(qs.order_by("-queued_at")[:100], many=True).data)


class SubmissionDetailApi(APIView):
    @extend_schema(responses=SubmissionOutputSerializer)
    def get(self, request, submission_id: int):
        submission = submissions_visible_to(request.user).filter(id=submission_id).first()
        if submission is None:
            raise NotFound("no such submission")
        return Response(SubmissionOutputSerializer(submission).data)


class RegradeStatusSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    exercise = serializers.CharField()
    version = serializers.CharField()
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    finished = serializers.BooleanField()
    lowered = serializers.ListField(child=serializers.DictField(), help_text="learners whose score went down")


class RegradeCreateApi(APIView):
    """Regrade every submission of the exercise against its current version (staff)."""

    @extend_schema(request=None, responses={202: RegradeStatusSerializer})
    def post(self, request, slug: str):
        regrade = regrade_start(exercise_slug=slug, requested_by=request.user)
        return Response(regrade_status(regrade=regrade, viewer=request.user), status=202)


class RegradeDetailApi(APIView):
    @extend_schema(responses=RegradeStatusSerializer)
    def get(self, request, regrade_id: int):
        regrade = regrade_visible_to(regrade_id=regrade_id, viewer=request.user)
        if regrade is None:
            raise NotFound("no such regrade")
        return Response(regrade_status(regrade=regrade, viewer=request.user))


class ItemSpreadSerializer(serializers.Serializer):
    q1 = serializers.FloatField()
    median = serializers.FloatField()
    q3 = serializers.FloatField()
    n = serializers.IntegerField(help_text="how many learners the figures are over")


class ItemTestSerializer(serializers.Serializer):
    name = serializers.CharField()
    learners_ran = serializers.IntegerField()
    learners_passed = serializers.IntegerField(help_text="learners who passed it in at least one submission")
    passed_share = serializers.FloatField(allow_null=True)
    first_attempt_passed = serializers.IntegerField(help_text="learners who passed it the first time they ran it")
    first_attempt_pass_rate = serializers.FloatField(allow_null=True)
    failures = serializers.IntegerField(help_text="runs of it that did not pass")
    discrimination = serializers.FloatField(
        allow_null=True,
        help_text="correlation with the share of the other tests passed in each learner's best submission; "
        "null when there is not enough data",
    )
    likely_broken = serializers.BooleanField(help_text="enough learners ran it and nearly all of them never passed it")


class ExerciseStatisticsApi(ErrorsAsJsonMixin, APIView):
    """Item statistics of an exercise over the learners the caller sees (staff): first-attempt pass rate,
    attempts and active time to pass, discrimination within its module, and per test of its current
    version: who ran it, who passed it, its discrimination and whether it is likely broken.
    ``?format=csv`` for a sheet with one row per exercise figure and one per test.
    """

    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVFileRenderer]

    class OutputSerializer(serializers.Serializer):
        exercise = serializers.CharField()
        version = serializers.CharField(allow_blank=True, help_text="the current version, which the tests are of")
        attempts = serializers.IntegerField(help_text="graded learner submissions")
        learners = serializers.IntegerField(help_text="learners with at least one graded submission")
        passed = serializers.IntegerField(help_text="learners with a full-marks submission of their own")
        pass_rate = serializers.FloatField(allow_null=True)
        standing_passed = serializers.IntegerField(help_text="learners whose standing is passed (regrades count)")
        first_attempt_passed = serializers.IntegerField()
        first_attempt_pass_rate = serializers.FloatField(allow_null=True)
        attempts_to_pass = ItemSpreadSerializer(allow_null=True, help_text="over the learners who passed")
        seconds_to_pass = ItemSpreadSerializer(
            allow_null=True, help_text="active time up to the day they passed, over the learners who passed"
        )
        other_exercises = serializers.IntegerField(help_text="the module's other published exercises")
        discrimination = serializers.FloatField(
            allow_null=True,
            help_text="correlation with the share of the module's other exercises passed; "
            "null when there is not enough data",
        )
        tests = ItemTestSerializer(many=True, help_text="the current version's tests")
        hints_seen = serializers.IntegerField(help_text="learners who revealed at least one hint")
        solution_seen = serializers.IntegerField(help_text="learners who revealed the solution")
        passed_after_solution = serializers.IntegerField(help_text="of those, learners who passed after seeing it")

    @extend_schema(
        responses={(200, "application/json"): OutputSerializer, (200, "text/csv"): str},
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"], required=False)],
    )
    def get(self, request, slug: str):
        stats = exercise_item_stats(slug=slug, viewer=request.user)
        if request.accepted_renderer.format == "csv":
            response = Response(item_stats_table(stats).csv())
            response["Content-Disposition"] = f'attachment; filename="exercise-{slug}-statistics.csv"'
            return response
        return Response(self.OutputSerializer(stats).data)
