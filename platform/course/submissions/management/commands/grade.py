from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from course.curriculum.selectors import exercise_get
from grader.engine import grade


class Command(BaseCommand):
    help = "Grade a notebook once against an exercise's current version in the real sandbox; print the Result JSON."

    def add_arguments(self, parser):
        parser.add_argument("exercise", help="exercise slug")
        parser.add_argument("notebook", type=Path)

    def handle(self, *args, exercise, notebook, **options):
        found = exercise_get(slug=exercise)
        if found is None or found.current_version is None:
            raise CommandError(f"there is no exercise {exercise!r} (run load_curriculum?)")
        try:
            data = notebook.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {notebook}: {exc.strerror}") from exc
        self.stdout.write(grade(found.current_version.bundle_path, data).to_json(indent=2))
