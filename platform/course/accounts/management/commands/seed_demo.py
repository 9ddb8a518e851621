from django.core.management.base import BaseCommand
from django.db import transaction

from course.accounts.models import User
from course.accounts.services import user_create
from course.cohorts import demo_learners
from course.cohorts.models import Cohort, Enrollment
from course.submissions.management.commands.submit_shipped import DEFAULT_USER as DEMO_LEARNER

DEMO_USERS = [
    ("learner", User.Role.LEARNER, Enrollment.Role.LEARNER),
    ("instructor", User.Role.INSTRUCTOR, Enrollment.Role.STAFF),
    ("admin", User.Role.ADMIN, Enrollment.Role.STAFF),
    # The account the run command grades the shipped references and templates as (submit_shipped):
    # staff, so no module is locked to it and no per-minute limit slows it, and followed by the
    # cohort as a learner, so that its graded notebooks show on the cohort's pages.
    (DEMO_LEARNER, User.Role.INSTRUCTOR, Enrollment.Role.LEARNER),
]


class Command(BaseCommand):
    help = (
        "Create a demo cohort with a learner, an instructor, an admin and the demo learner the run command "
        "grades as (passwords are printed once), and fill it with synthetic learners' weeks of work."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cohort", default="Demo cohort")
        parser.add_argument("--password-file", help="also write 'username password' lines here (mode 600)")
        parser.add_argument(
            "--synthetic",
            type=int,
            default=36,
            help="synthetic learners to add when the cohort has none yet (0: none); needs load_curriculum first",
        )
        parser.add_argument("--seed", type=int, default=0, help="the synthetic learners' random seed")

    @transaction.atomic
    def handle(self, *args, cohort, password_file=None, synthetic=36, seed=0, **options):
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
        added = demo_learners.populate(group, count=synthetic, seed=seed)
        if added:
            self.stdout.write(f"added {added} synthetic learners with {demo_learners.WEEKS} weeks of work")
        self.stdout.write(f"cohort {group.name!r} has id {group.id}")
        if password_file and lines:
            import os

            fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a") as f:
                f.write("\n".join(lines) + "\n")
