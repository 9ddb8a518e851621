from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from course.curriculum.services import curriculum_load
from course.errors import ServiceError
from grader.bundle import BundleError


class Command(BaseCommand):
    help = "Import or update the modules of curriculum.toml and every exercise bundle under the exercises folder."

    def add_arguments(self, parser):
        parser.add_argument("--root", type=Path, default=None, help=f"default: {settings.EXERCISES_DIR}")

    def handle(self, *args, root=None, **options):
        try:
            report = curriculum_load(root=root)
        except (ServiceError, BundleError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{report.modules} modules; {len(report.created)} new exercise versions, {len(report.unchanged)} unchanged"
        )
        for name in report.created:
            self.stdout.write(f"  published {name}")
