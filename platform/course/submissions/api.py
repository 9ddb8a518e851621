from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from course.errors import Invalid
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
