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


class LearnerClock(models.Model):
    """The learner's last heartbeat, from any source: one timeline per learner."""

    learner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clock")
    last_seen_at = models.DateTimeField()
    last_exercise = models.ForeignKey("curriculum.Exercise", on_delete=models.SET_NULL, null=True, related_name="+")


class ActivityDay(models.Model):
    """Active seconds of one learner on one exercise on one day (UTC): what time on task is built from.

    Heartbeats are folded in as they arrive and not kept, so a year of a 1,000-learner cohort is at
    most 365 rows per learner and exercise worked on.
    """

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity")
    exercise = models.ForeignKey("curriculum.Exercise", on_delete=models.CASCADE, related_name="activity")
    day = models.DateField()
    seconds = models.PositiveIntegerField(default=0)
    heartbeats = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["learner", "exercise", "day"], name="one_activity_row_per_day")]


class Reveal(models.Model):
    """A hint or the solution of an exercise shown to a learner: staff see who passed after which."""

    class Kind(models.TextChoices):
        HINT = "hint", "Hint"
        SOLUTION = "solution", "Solution"

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reveals")
    exercise = models.ForeignKey("curriculum.Exercise", on_delete=models.CASCADE, related_name="reveals")
    # The version whose hint or solution was shown (hints may change between versions).
    version = models.ForeignKey("curriculum.ExerciseVersion", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    number = models.PositiveSmallIntegerField(default=0, help_text="the hint's number, from 1; 0 for the solution")
    revealed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["learner", "exercise", "kind", "number"], name="one_reveal_each")
        ]
        ordering = ["revealed_at"]
