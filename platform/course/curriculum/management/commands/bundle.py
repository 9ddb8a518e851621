import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from course.curriculum.services import exercise_publish
from course.errors import ServiceError
from grader.bundle import BundleError
from grader.scaffold import scaffold
from grader.validate import validate


class Command(BaseCommand):
    help = "Author exercise bundles: `bundle new <module> <slug>`, `bundle validate <path>`, `bundle publish <path>`."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        new = sub.add_parser("new", help="scaffold a bundle that validates as it is")
        new.add_argument("module")
        new.add_argument("slug")
        new.add_argument("--root", type=Path, default=None, help=f"default: {settings.EXERCISES_DIR}")
        check = sub.add_parser("validate", help="check a bundle, grading its reference and template in the sandbox")
        check.add_argument("path", type=Path, nargs="+")
        check.add_argument("--json", action="store_true", help="print the report as JSON")
        publish = sub.add_parser("publish", help="validate, then store as the exercise's current version")
        publish.add_argument("path", type=Path)

    def handle(self, *args, action, **options):
        if action == "new":
            try:
                path = scaffold(options["root"] or settings.EXERCISES_DIR, options["module"], options["slug"])
            except (ValueError, FileExistsError) as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"created {path}; next: manage.py bundle validate {path}")
            return
        if action == "validate":
            reports = [validate(p) for p in options["path"]]
            if options["json"]:
                self.stdout.write(json.dumps([r.to_dict() for r in reports], indent=2))
            else:
                self.stdout.write("\n\n".join(r.to_text() for r in reports))
            if not all(r.ok for r in reports):
                raise CommandError("validation failed")
            return
        report = validate(options["path"])
        self.stdout.write(report.to_text())
        if not report.ok:
            raise CommandError("not published: validation failed")
        try:
            version, created = exercise_publish(path=options["path"])
        except (ServiceError, BundleError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{'published' if created else 'already published, unchanged:'} {version}")
