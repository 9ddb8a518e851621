import uuid

from django.conf import settings
from django.db import models


def _notebook_path(instance: "Submission", filename: str) -> str:
    return f"submissions/{instance.learner_id}/{uuid.uuid4().hex}.ipynb"


class Submission(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        GRADED = "graded", "Graded"
        ERROR = "error", "Error"

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    exercise = models.ForeignKey("curriculum.Exercise", on_delete=models.PROTECT, related_name="submissions")
    version = models.ForeignKey("curriculum.ExerciseVersion", on_delete=models.PROTECT, related_name="submissions")
    notebook = models.FileField(upload_to=_notebook_path)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    verdict = models.CharField(max_length=20, blank=True)
    score = models.FloatField(null=True, blank=True)
    max_score = models.FloatField()
    result = models.JSONField(null=True, blank=True)
    queue = models.CharField(max_length=40, default="cpu")
    # The sandbox environment and image (its content-hash tag) the result was graded in.
    environment = models.CharField(max_length=40, blank=True)
    image = models.CharField(max_length=200, blank=True)
    queued_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When its last grading task was sent: the stuck job's clock (queued_at is the queue order, kept).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # When the notebook had run and the hidden tests started on it (the "judging" stage).
    judging_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    # How many times a worker claimed it (re-enqueued after a crash: more than one).
    attempts = models.PositiveIntegerField(default=0)
    # Set on the copies a regrade makes: the original keeps its own result as history.
    regrade = models.ForeignKey("Regrade", on_delete=models.CASCADE, null=True, blank=True, related_name="submissions")
    regrade_of = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="regrades")

    class Meta:
        ordering = ["-queued_at"]
        indexes = [models.Index(fields=["learner", "exercise", "status"])]
        constraints = [
            # One learner submission of an exercise in flight at a time, enforced by the database:
            # concurrent POSTs cannot both pass a check made before the insert. Regrade copies are
            # staff work and exempt.
            models.UniqueConstraint(
                fields=["learner", "exercise"],
                condition=models.Q(status__in=["queued", "running"], regrade__isnull=True),
                name="one_submission_in_flight",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.exercise_id} by {self.learner_id} ({self.status})"

    @property
    def stage(self) -> str:
        """The status with "running" split in two: the notebook running, then "judging"."""
        if self.status == self.Status.RUNNING and self.judging_at is not None:
            return "judging"
        return self.status


class Regrade(models.Model):
    """Every submission of an exercise graded again against its current version."""

    exercise = models.ForeignKey("curriculum.Exercise", on_delete=models.CASCADE, related_name="regrades")
    version = models.ForeignKey("curriculum.ExerciseVersion", on_delete=models.PROTECT, related_name="regrades")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"regrade #{self.pk} of {self.exercise_id}"


class TestResult(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="test_results")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=10)
    score = models.FloatField()
    max_score = models.FloatField()
    visibility = models.CharField(max_length=10)
    output = models.TextField(blank=True)
    duration = models.FloatField(default=0, help_text="seconds the test took in the judge")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["submission", "name"], name="one_result_per_test")]

    def __str__(self) -> str:
        return f"{self.name}: {self.status}"
