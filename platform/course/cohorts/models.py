from django.conf import settings
from django.db import models


def default_solution_after_attempts() -> int:
    # The course's rule (also that of learners in no cohort) is where a new cohort starts.
    return settings.SOLUTION_AFTER_ATTEMPTS


class Cohort(models.Model):
    name = models.CharField(max_length=200, unique=True)
    starts_on = models.DateField(null=True, blank=True)
    # Staff may let their learners open any module: prerequisites are then shown as advice.
    prerequisites_advisory = models.BooleanField(default=False)

    class SolutionPolicy(models.TextChoices):
        AFTER_ATTEMPTS = "after_attempts", "After a number of graded attempts, or a pass"
        AFTER_PASSING = "after_passing", "Only after passing"
        ALWAYS = "always", "Always"
        NEVER = "never", "Never"

    # When its learners may reveal an exercise's solution (hints are always theirs to reveal).
    solution_policy = models.CharField(
        max_length=20, choices=SolutionPolicy.choices, default=SolutionPolicy.AFTER_ATTEMPTS
    )
    solution_after_attempts = models.PositiveSmallIntegerField(default=default_solution_after_attempts)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Enrollment(models.Model):
    """A person in a cohort: learners are followed, staff (instructors, organisers) see the cohort."""

    class Role(models.TextChoices):
        LEARNER = "learner", "Learner"
        STAFF = "staff", "Staff"

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="enrollments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.LEARNER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "user"], name="one_enrollment_per_cohort")]

    def __str__(self) -> str:
        return f"{self.user} in {self.cohort} ({self.role})"
