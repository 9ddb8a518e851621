from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    class Role(models.TextChoices):
        LEARNER = "learner", "Learner"
        INSTRUCTOR = "instructor", "Instructor"
        ADMIN = "admin", "Admin"

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.LEARNER)

    @property
    def is_course_staff(self) -> bool:
        """Instructors and admins: they author and grade exercises and watch their cohorts."""
        return self.is_superuser or self.role in (self.Role.INSTRUCTOR, self.Role.ADMIN)
