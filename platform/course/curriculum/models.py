from django.conf import settings
from django.db import models


class Step(models.Model):
    """A stretch of the published path (several modules) with the guides' time range for it."""

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    published_low_hours = models.FloatField()
    published_high_hours = models.FloatField()

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.slug


class Module(models.Model):
    """A module of the curriculum; ``requires`` makes the prerequisite DAG."""

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    estimated_hours = models.FloatField(default=0)
    description = models.TextField(blank=True)
    resources = models.JSONField(default=list, blank=True)
    requires = models.ManyToManyField("self", symmetrical=False, related_name="unlocks", blank=True)
    # What a learner can do at the end (curriculum.toml); meeting them, they may test out.
    criteria = models.JSONField(default=list, blank=True)
    step = models.ForeignKey(Step, on_delete=models.SET_NULL, null=True, blank=True, related_name="modules")

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.slug


class Exercise(models.Model):
    module = models.ForeignKey(Module, on_delete=models.PROTECT, related_name="exercises")
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    # Passing every checkpoint of a module satisfies it as a prerequisite; open while the module is locked.
    checkpoint = models.BooleanField(default=False)
    # The version new submissions are graded against; older versions stay for their submissions.
    current_version = models.ForeignKey(
        "ExerciseVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["module__position", "position", "slug"]

    def __str__(self) -> str:
        return self.slug


class ExerciseVersion(models.Model):
    """An immutable snapshot of a bundle, keyed by the hash of its content."""

    class Gpu(models.TextChoices):
        NONE = "none", "No GPU"
        OPTIONAL = "optional", "GPU if available"
        REQUIRED = "required", "GPU required"

    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="versions")
    content_hash = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    points = models.FloatField()
    gpu = models.CharField(max_length=10, choices=Gpu.choices, default=Gpu.NONE)
    estimated_minutes = models.PositiveIntegerField(null=True, blank=True)
    # The sandbox environment (sandbox/environments/<name>) the exercise is graded in.
    environment = models.CharField(max_length=40, default="base")
    statement = models.TextField(blank=True)
    template = models.JSONField(help_text="the learner's template notebook")
    # The bundle's files, copied under MEDIA_ROOT so grading never reads a folder that may change.
    bundle_path = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["exercise", "content_hash"], name="one_version_per_content")]
        ordering = ["exercise", "-created_at"]

    def __str__(self) -> str:
        return f"{self.exercise.slug}@{self.content_hash[:12]}"


class BundleUpload(models.Model):
    """A bundle zip sent by an instructor: validated in the sandbox, then published or refused."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for validation"
        VALIDATING = "validating", "Validating"
        PUBLISHED = "published", "Published"
        REJECTED = "rejected", "Rejected"

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    archive = models.FileField(upload_to="bundle-uploads/")
    module = models.SlugField(blank=True, help_text="needed when the zip is not laid out as <module>/<slug>/")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    report = models.JSONField(null=True, blank=True)
    version = models.ForeignKey(ExerciseVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The claim of the worker validating it, and how many claims there were (a killed worker's upload is
    # taken again by the stuck job, like a submission).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"upload #{self.pk} ({self.status})"


class SandboxEnvironment(models.Model):
    """A sandbox environment some grading worker has: its image and exactly what is installed.

    Written by each worker when it starts (the packages come from the image itself), read by the
    exercise page and API so learners and authors see what their code runs with.
    """

    name = models.CharField(max_length=40, unique=True)
    image = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    heavy_modules = models.JSONField(default=list, blank=True)
    packages = models.JSONField(default=list, blank=True, help_text="name==version lines, as pip freeze")
    registered_by = models.CharField(max_length=200, blank=True, help_text="the worker that last registered it")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.image})"
