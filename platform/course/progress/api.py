from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from course.curriculum.selectors import exercise_get
from course.errors import NotFound
from course.progress.services import activity_record

SOURCES = ("web", "cli", "submission")


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
