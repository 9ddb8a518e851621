from django.core.management.base import BaseCommand
from django.db import transaction

from course.accounts.models import User
from course.accounts.services import user_create
from course.cohorts.models import Cohort, Enrollment

DEMO_USERS = [
    ("learner", User.Role.LEARNER, Enrollment.Role.LEARNER),
    ("instructor", User.Role.INSTRUCTOR, Enrollment.Role.STAFF),
    ("admin", User.Role.ADMIN, Enrollment.Role.STAFF),
]


class Command(BaseCommand):
    help = "Create a demo cohort with a learner, an instructor and an admin; passwords are printed once."

    def add_arguments(self, parser):
        parser.add_argument("--cohort", default="Demo cohort")
        parser.add_argument("--password-file", help="also write 'username password' lines here (mode 600)")

    @transaction.atomic
    def handle(self, *args, cohort, password_file=None, **options):
        group, _ = Cohort.objects.get_or_create(name=cohort)
        lines = []
        for username, role, enrollment_role in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user, password = user_create(username=username, role=role)
                if role == User.Role.ADMIN:
                    user.is_superuser = True
                    user.save(update_fields=["is_superuser"])
                lines.append(f"{username} {password}")
                self.stdout.write(f"created {role:10} {username:12} password: {password}")
            else:
                self.stdout.write(f"exists  {role:10} {username:12} (password unchanged)")
            Enrollment.objects.get_or_create(cohort=group, user=user, defaults={"role": enrollment_role})
        self.stdout.write(f"cohort {group.name!r} has id {group.id}")
        if password_file and lines:
            import os

            fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a") as f:
                f.write("\n".join(lines) + "\n")
