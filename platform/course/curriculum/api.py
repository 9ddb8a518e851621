import json
from dataclasses import asdict

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from course.curriculum.models import BundleUpload
from course.curriculum.selectors import environment_view, published_exercise
from course.curriculum.services import bundle_upload_create
from course.errors import Invalid
from course.notebook_client import site_url, with_metadata
from course.progress.selectors import ModuleState, exercise_standing_for, help_for, standings, unlock_advice
from course.progress.services import hint_reveal, solution_reveal


class ExerciseStandingSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField()
    open = serializers.BooleanField(help_text="you may submit it: its module is open, or it is a checkpoint")
    best_score = serializers.FloatField()
    max_score = serializers.FloatField()
    attempts = serializers.IntegerField()
    time_s = serializers.IntegerField()
    checkpoint = serializers.BooleanField(help_text="passing every checkpoint of a module tests you out of it")


class ExerciseRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    passed = serializers.BooleanField()


class MissingPrerequisiteSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    checkpoints = ExerciseRefSerializer(many=True, help_text="pass them all to test out of this prerequisite")


class ModuleStandingSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    estimated_hours = serializers.FloatField()
    requires = serializers.ListField(child=serializers.CharField())
    state = serializers.ChoiceField(choices=list(ModuleState.ALL))
    score = serializers.FloatField()
    max_score = serializers.FloatField()
    time_s = serializers.IntegerField(help_text="active time spent on the module's exercises, in seconds")
    exercises = ExerciseStandingSerializer(many=True)
    criteria = serializers.ListField(child=serializers.CharField(), help_text="what a learner can do at the end")
    missing = MissingPrerequisiteSerializer(many=True, help_text="prerequisites not yet complete or tested out")
    advisory = serializers.BooleanField(help_text="your cohort made prerequisites advice: missing ones do not lock")
    unlock = serializers.CharField(allow_blank=True, help_text="why the module is locked and how to open it")


class ModuleListApi(APIView):
    """The curriculum in order, with the caller's state, score and time per module."""

    @extend_schema(responses=ModuleStandingSerializer(many=True))
    def get(self, request):
        modules = standings(learner_ids=[request.user.id])[request.user.id]
        return Response(
            [asdict(m) | {"unlock": unlock_advice(m) if m.state == ModuleState.LOCKED else ""} for m in modules]
        )


class EnvironmentSerializer(serializers.Serializer):
    name = serializers.CharField()
    available = serializers.BooleanField(help_text="whether a grading worker has registered this environment")
    image = serializers.CharField(allow_blank=True, help_text="the sandbox image (content-hash tag) graders use")
    description = serializers.CharField(allow_blank=True)
    packages = serializers.ListField(child=serializers.CharField(), help_text="name==version, as pip freeze")


class ExerciseDetailApi(APIView):
    class OutputSerializer(serializers.Serializer):
        slug = serializers.CharField()
        title = serializers.CharField()
        module = serializers.CharField(source="module.slug")
        points = serializers.FloatField(source="current_version.points")
        gpu = serializers.CharField(source="current_version.gpu")
        estimated_minutes = serializers.IntegerField(source="current_version.estimated_minutes", allow_null=True)
        statement = serializers.CharField(source="current_version.statement", help_text="Markdown")
        version = serializers.CharField(source="current_version.content_hash")
        environment = EnvironmentSerializer(
            required=False, help_text="the sandbox environment it is graded in, and its packages"
        )

    @extend_schema(responses=OutputSerializer)
    def get(self, request, slug: str):
        exercise = published_exercise(slug=slug)
        data = self.OutputSerializer(exercise).data | {
            "environment": environment_view(exercise.current_version.environment)
        }
        return Response(data)


class HelpSerializer(serializers.Serializer):
    hints_total = serializers.IntegerField(help_text="how many hints the exercise has")
    hints = serializers.ListField(child=serializers.CharField(), help_text="the hints you revealed (Markdown)")
    solution_open = serializers.BooleanField(help_text="whether you may reveal the solution now")
    solution_rule = serializers.CharField(help_text="when the solution opens (your cohort's rule)")
    solution = serializers.CharField(allow_null=True, help_text="the solution (Markdown), once revealed")
    locked = serializers.BooleanField(help_text="the exercise's module is locked to you: nothing can be revealed yet")


class ExerciseHelpApi(APIView):
    """The exercise's hints and solution as far as you revealed them, and when the solution opens."""

    @extend_schema(responses=HelpSerializer)
    def get(self, request, slug: str):
        exercise = published_exercise(slug=slug)
        _module, standing = exercise_standing_for(learner=request.user, exercise=exercise)
        return Response(asdict(help_for(learner=request.user, exercise=exercise, open_=standing.open)))


class ExerciseHintApi(APIView):
    """Reveal the next hint (recorded; staff see who saw what). 409 when every hint is shown."""

    @extend_schema(request=None, responses=HelpSerializer)
    def post(self, request, slug: str):
        return Response(asdict(hint_reveal(learner=request.user, exercise_slug=slug)))


class ExerciseSolutionApi(APIView):
    """Reveal the solution (recorded) if your cohort's rule allows it now; 409 says when it opens."""

    @extend_schema(request=None, responses=HelpSerializer)
    def post(self, request, slug: str):
        return Response(asdict(solution_reveal(learner=request.user, exercise_slug=slug)))


class ExerciseNotebookApi(APIView):
    """The learner's template notebook for the exercise, as an .ipynb download."""

    @extend_schema(responses={(200, "application/x-ipynb+json"): OpenApiTypes.BINARY})
    def get(self, request, slug: str):
        exercise = published_exercise(slug=slug)
        # The notebook client reads its exercise and site from the notebook's metadata.
        template = with_metadata(exercise.current_version.template, exercise=exercise.slug, site=site_url(request))
        response = HttpResponse(json.dumps(template, indent=1), content_type="application/x-ipynb+json")
        response["Content-Disposition"] = f'attachment; filename="{exercise.slug}.ipynb"'
        return response


class BundleUploadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    report = serializers.JSONField(allow_null=True, help_text="the validation report")
    version = serializers.CharField(source="version.content_hash", allow_null=True, default=None)


class BundleUploadCreateApi(APIView):
    """Upload a bundle as a zip (staff): it is validated in the sandbox, then published if valid."""

    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        bundle = serializers.FileField()
        module = serializers.SlugField(required=False, allow_blank=True)

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={202: BundleUploadSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            raise Invalid("send the zip as a multipart file field named 'bundle'")
        upload = bundle_upload_create(
            user=request.user, archive=data.validated_data["bundle"], module=data.validated_data.get("module", "")
        )
        return Response(BundleUploadSerializer(upload).data, status=202)


class BundleUploadDetailApi(APIView):
    @extend_schema(responses=BundleUploadSerializer)
    def get(self, request, upload_id: int):
        upload = BundleUpload.objects.select_related("version").filter(id=upload_id).first()
        if upload is None or not request.user.is_course_staff:
            raise NotFound("no such upload")
        return Response(BundleUploadSerializer(upload).data)


class ExerciseStarterApi(APIView):
    """The starter pack: template, data, visible tests and ``check.py`` to run them offline (zip)."""

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request, slug: str):
        from grader.starter import starter_pack

        version = published_exercise(slug=slug).current_version
        template = with_metadata(version.template, exercise=slug, site=site_url(request))
        response = HttpResponse(starter_pack(version.bundle_path, template), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{slug}-starter.zip"'
        return response
