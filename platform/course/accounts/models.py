from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    class Role(models.TextChoices):
        LEARNER = "learner", "Learner"
        INSTRUCTOR = "instructor", "Instructor"
        ADMIN = "admin", "Admin"

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.LEARNER)

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self._password_changed = True

    def save(self, *args: object, **kwargs: object) -> None:
        super().save(*args, **kwargs)
        if getattr(self, "_password_changed", False):
            # A new password ends every API token issued under the old one (the CLI logs in again).
            from rest_framework.authtoken.models import Token

            Token.objects.filter(user=self).delete()
            self._password_changed = False

    @property
    def is_course_staff(self) -> bool:
        """Instructors and admins: they author and grade exercises and watch their cohorts."""
        return self.is_superuser or self.role in (self.Role.INSTRUCTOR, self.Role.ADMIN)
