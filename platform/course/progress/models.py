from django.conf import settings
from django.db import models


class ExerciseProgress(models.Model):
    """A learner's standing on one exercise, kept up to date as submissions are graded."""

    class State(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        ATTEMPTED = "attempted", "Attempted"
        PASSED = "passed", "Passed"

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exercise_progress")
    exercise = models.ForeignKey("curriculum.Exercise", on_delete=models.CASCADE, related_name="progress")
    state = models.CharField(max_length=20, choices=State.choices, default=State.NOT_STARTED)
    best_score = models.FloatField(default=0)
    max_score = models.FloatField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    passed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["learner", "exercise"], name="one_progress_per_exercise")]


class ActivitySession(models.Model):
    """Active time on an exercise: heartbeats closer than the idle cutoff extend one session."""

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity")
    exercise = models.ForeignKey("curriculum.Exercise", on_delete=models.CASCADE, related_name="activity")
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    seconds = models.PositiveIntegerField(default=0)
    sources = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["learner", "last_seen_at"])]
