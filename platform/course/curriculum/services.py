"""Writes for the curriculum: loading curriculum.toml and publishing bundles as immutable versions."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from course.config.celery import broker_queue_length, send_task
from course.curriculum.models import BundleUpload, Exercise, ExerciseVersion, Module, SandboxEnvironment, Step
from course.errors import Forbidden, Invalid, ServiceError, TooLarge
from grader.archive import MAX_ARCHIVE_BYTES, ArchiveError, extract_bundle
from grader.bundle import SLUG_RE, Bundle, BundleError, load_bundle
from grader.template import make_template
from grader.validate import validate

log = logging.getLogger(__name__)
_MODULE_KEYS = {
    "slug", "title", "requires", "estimated_hours", "description", "resources", "exercises", "criteria", "checkpoints",
}  # fmt: skip
_STEP_KEYS = {"slug", "title", "modules", "published_hours"}


class CurriculumError(Invalid):
    pass


@dataclass
class LoadReport:
    modules: int = 0
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _read_curriculum(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``[[modules]]`` and ``[[steps]]`` of curriculum.toml, checked; CurriculumError names the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CurriculumError(f"{path}: {exc}") from exc
    modules = data.get("modules")
    if not isinstance(modules, list) or not modules:
        raise CurriculumError(f"{path}: needs a [[modules]] list")
    slugs = [m.get("slug") for m in modules]
    for m in modules:
        unknown = set(m) - _MODULE_KEYS
        if unknown:
            raise CurriculumError(f"{path}: module {m.get('slug')!r}: unknown keys {sorted(unknown)}")
        for req in m.get("requires", []):
            if req not in slugs:
                raise CurriculumError(f"{path}: module {m['slug']!r} requires unknown module {req!r}")
        for key in ("criteria", "checkpoints"):
            value = m.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                raise CurriculumError(f"{path}: module {m['slug']!r}: {key} must be a list of strings")
    _check_acyclic({m["slug"]: list(m.get("requires", [])) for m in modules}, path)
    return modules, _read_steps(data.get("steps", []), set(slugs), path)


def _read_steps(steps: Any, modules: set[str], path: Path) -> list[dict[str, Any]]:
    if not isinstance(steps, list):
        raise CurriculumError(f"{path}: steps must be a [[steps]] list")
    placed: dict[str, str] = {}
    seen: set[str] = set()
    for step in steps:
        where = f"{path}: step {step.get('slug')!r}" if isinstance(step, dict) else f"{path}: a step"
        if (
            not isinstance(step, dict)
            or not isinstance(step.get("slug"), str)
            or not isinstance(step.get("title"), str)
        ):
            raise CurriculumError(f"{where}: needs a slug and a title")
        if unknown := set(step) - _STEP_KEYS:
            raise CurriculumError(f"{where}: unknown keys {sorted(unknown)}")
        if step["slug"] in seen:
            raise CurriculumError(f"{where}: a second step with this slug")
        seen.add(step["slug"])
        members = step.get("modules", [])
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise CurriculumError(f"{where}: modules must be a list of module slugs")
        hours = step.get("published_hours")
        if (
            not isinstance(hours, list)
            or len(hours) != 2
            or not all(isinstance(h, (int, float)) and not isinstance(h, bool) for h in hours)
            or not 0 <= hours[0] <= hours[1]
        ):
            raise CurriculumError(f"{where}: published_hours must be [low, high] hours, low <= high")
        for slug in members:
            if slug not in modules:
                raise CurriculumError(f"{where}: unknown module {slug!r}")
            if slug in placed:
                raise CurriculumError(f"{where}: module {slug!r} is already in step {placed[slug]!r}")
            placed[slug] = step["slug"]
    return steps


def _check_acyclic(graph: dict[str, list[str]], path: Path) -> None:
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == 1:
            raise CurriculumError(f"{path}: prerequisites form a cycle: {' -> '.join(trail + [node])}")
        if state.get(node) == 2:
            return
        state[node] = 1
        for req in graph[node]:
            visit(req, trail + [node])
        state[node] = 2

    for node in graph:
        visit(node, [])


@transaction.atomic
def curriculum_load(*, root: Path | None = None) -> LoadReport:
    """Create or update every module and step of ``curriculum.toml`` and publish every bundle under ``root``."""
    root = Path(root or settings.EXERCISES_DIR)
    report = LoadReport()
    specs, step_specs = _read_curriculum(root / "curriculum.toml")
    steps = {}
    for position, spec in enumerate(step_specs):
        low, high = spec["published_hours"]
        steps[spec["slug"]], _ = Step.objects.update_or_create(
            slug=spec["slug"],
            defaults={
                "title": spec["title"],
                "position": position,
                "published_low_hours": float(low),
                "published_high_hours": float(high),
            },
        )
    Step.objects.exclude(slug__in=steps).delete()
    step_of = {module: steps[spec["slug"]] for spec in step_specs for module in spec.get("modules", [])}
    modules: dict[str, Module] = {}
    for position, spec in enumerate(specs):
        module, _ = Module.objects.update_or_create(
            slug=spec["slug"],
            defaults={
                "title": spec["title"],
                "position": position,
                "estimated_hours": float(spec.get("estimated_hours", 0)),
                "description": spec.get("description", ""),
                "resources": spec.get("resources", []),
                "criteria": spec.get("criteria", []),
                "step": step_of.get(spec["slug"]),
            },
        )
        modules[module.slug] = module
    for spec in specs:
        modules[spec["slug"]].requires.set([modules[r] for r in spec.get("requires", [])])
    report.modules = len(modules)
    bundles = sorted(root.glob("*/*/exercise.toml"))
    order = _exercise_order(specs, {meta.parent.name for meta in bundles}, root / "curriculum.toml")
    for fallback, meta in enumerate(bundles, start=len(order)):
        version, created = exercise_publish(path=meta.parent, position=order.get(meta.parent.name, fallback))
        (report.created if created else report.unchanged).append(str(version))
    _mark_checkpoints(specs)
    return report


def _mark_checkpoints(specs: list[dict[str, Any]]) -> None:
    """Mark each module's checkpoint exercises (and unmark its others). As with ``exercises``, a listed
    slug that is not among the module's published exercises is passed over (a partial copy of the
    course); the shipped list is checked by a test."""
    for spec in specs:
        listed = spec.get("checkpoints", [])
        exercises = Exercise.objects.filter(module__slug=spec["slug"])
        exercises.filter(slug__in=listed).update(checkpoint=True)
        exercises.exclude(slug__in=listed).update(checkpoint=False)


def _exercise_order(specs: list[dict[str, Any]], slugs: set[str], path: Path) -> dict[str, int]:
    """Positions from each module's optional ``exercises`` list (its order on the pages); the
    exercises a module does not list come after, by folder name. A listed slug with no bundle
    here is passed over (a partial copy of the course); the shipped list is checked by a test."""
    order: dict[str, int] = {}
    for spec in specs:
        listed = spec.get("exercises", [])
        if not isinstance(listed, list) or not all(isinstance(s, str) for s in listed):
            raise CurriculumError(f"{path}: module {spec['slug']!r}: exercises must be a list of exercise slugs")
        for slug in listed:
            if slug in slugs:
                order[slug] = len(order)
    return order


@transaction.atomic
def exercise_publish(*, path: Path, position: int | None = None) -> tuple[ExerciseVersion, bool]:
    """Store the bundle at ``path`` as an immutable version and make it current.

    Publishing content that is already stored changes nothing; submissions keep their version.
    """
    bundle = load_bundle(path)
    module = Module.objects.filter(slug=bundle.module).first()
    if module is None:
        raise CurriculumError(f"{path}: module {bundle.module!r} is not in curriculum.toml")
    exercise, _ = Exercise.objects.get_or_create(
        slug=bundle.slug, defaults={"module": module, "title": bundle.title, "position": position or 0}
    )
    if exercise.module_id != module.id:
        raise CurriculumError(f"{path}: exercise {bundle.slug!r} already belongs to module {exercise.module.slug!r}")
    fields = {"title": bundle.title}
    if position is not None:
        fields["position"] = position
    Exercise.objects.filter(pk=exercise.pk).update(**fields)
    digest = bundle.content_hash()
    version = ExerciseVersion.objects.filter(exercise=exercise, content_hash=digest).first()
    created = version is None
    if version is None:
        version = ExerciseVersion.objects.create(
            exercise=exercise,
            content_hash=digest,
            title=bundle.title,
            points=bundle.points,
            gpu=bundle.gpu,
            environment=bundle.environment,
            estimated_minutes=bundle.estimated_minutes,
            statement=_read(bundle.path / "README.md"),
            template=make_template(json.loads(_read(bundle.path / "solution.ipynb") or '{"cells": []}')),
            bundle_path=str(_snapshot(bundle, digest)),
        )
    if exercise.current_version_id != version.id:
        Exercise.objects.filter(pk=exercise.pk).update(current_version=version)
    return version, created


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _snapshot(bundle: Bundle, digest: str) -> Path:
    """Copy the bundle to MEDIA_ROOT/bundles/<hash>/<module>/<slug>/ once; that folder never changes."""
    target = Path(settings.MEDIA_ROOT) / "bundles" / digest / bundle.module / bundle.slug
    if not target.exists():
        staging = target.with_name(target.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        for rel, src in bundle.content_map().items():
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
        staging.rename(target)
    return target


def bundle_upload_create(*, user, archive, module: str = "") -> BundleUpload:
    """Store an uploaded zip and queue its validation; refused at once when it is plainly wrong."""
    if not user.is_course_staff:
        raise Forbidden("only instructors and admins may upload bundles")
    if archive.size > MAX_ARCHIVE_BYTES:
        raise TooLarge(f"the archive is above the limit of {MAX_ARCHIVE_BYTES >> 20} MB")
    if module and not SLUG_RE.match(module):
        raise Invalid(f"module {module!r} is not a slug")
    upload = BundleUpload.objects.create(uploaded_by=user, archive=archive, module=module, enqueued_at=timezone.now())
    transaction.on_commit(lambda: _enqueue_upload(upload.id))
    return upload


VALIDATE_UPLOAD = "course.curriculum.tasks.validate_bundle_upload"
UPLOAD_QUEUE = "cpu"


def _enqueue_upload(upload_id: int) -> None:
    from kombu.exceptions import OperationalError

    try:
        send_task(VALIDATE_UPLOAD, upload_id, queue=UPLOAD_QUEUE)
    except OperationalError:
        log.exception("could not enqueue bundle upload %s; the periodic job will retry", upload_id)


def _upload_transition(upload_id: int, *, expect: dict, **changes) -> bool:
    """The one way an upload's row changes: only while it is as ``expect`` says (first actor wins)."""
    return bool(BundleUpload.objects.filter(id=upload_id, **expect).update(**changes))


def bundle_upload_process(*, upload_id: int) -> BundleUpload | None:
    """Unpack safely, validate in the sandbox, publish if valid; the report is kept either way.
    None when the upload is gone (deleted while its task waited)."""
    claimed = _upload_transition(
        upload_id,
        expect={"status": BundleUpload.Status.PENDING},
        status=BundleUpload.Status.VALIDATING,
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    upload = BundleUpload.objects.filter(id=upload_id).first()
    if not claimed or upload is None:
        return upload
    try:
        _validate_and_publish(upload)
    except Exception as exc:  # an author's bundle can break the validator in any way: never stay "validating"
        log.exception("bundle upload %s could not be validated", upload_id)
        message = f"the bundle could not be validated: {type(exc).__name__}: {exc}"[:2000]
        report = {"ok": False, "checks": [{"name": "validation", "ok": False, "message": message, "warning": False}]}
        _finish_upload(upload, BundleUpload.Status.REJECTED, report)
    upload.refresh_from_db()
    return upload


def _validate_and_publish(upload: BundleUpload) -> None:
    with tempfile.TemporaryDirectory(prefix="bundle-upload-") as tmp:
        root = Path(tmp) / "exercises"
        root.mkdir()
        try:
            with upload.archive.open("rb") as f:
                path = extract_bundle(f.read(), root, module=upload.module or None)
        except ArchiveError as exc:
            report = {"ok": False, "checks": [{"name": "archive", "ok": False, "message": str(exc), "warning": False}]}
            _finish_upload(upload, BundleUpload.Status.REJECTED, report)
            return
        result = validate(path, curriculum=_curriculum_from_db(Path(tmp)))
        version = None
        if result.ok:
            try:
                version, _ = exercise_publish(path=path)
            except (ServiceError, BundleError) as exc:
                result.add("publish", False, str(exc))
        status = BundleUpload.Status.PUBLISHED if version else BundleUpload.Status.REJECTED
        _finish_upload(upload, status, result.to_dict(), version)


def _curriculum_from_db(tmp: Path) -> Path:
    """The modules as the database knows them, in curriculum.toml form, for the validator."""
    path = tmp / "curriculum-db.toml"
    path.write_text(
        "".join(f'[[modules]]\nslug = "{slug}"\n' for slug in Module.objects.values_list("slug", flat=True))
    )
    return path


def _finish_upload(upload, status, report, version=None) -> None:
    """Record the outcome of this claim; a claim taken over by the stuck job meanwhile records nothing."""
    _upload_transition(
        upload.id,
        expect={"status": BundleUpload.Status.VALIDATING, "attempts": upload.attempts},
        status=status,
        report=report,
        version=version,
        finished_at=timezone.now(),
    )


def bundle_uploads_requeue_stuck(*, now=None) -> int:
    """Validate again the uploads whose validation was lost; returns how many were sent again.

    An upload validating for longer than BUNDLE_VALIDATION_STUCK_AFTER_S lost its worker (killed, the
    machine restarted): it goes back to pending and gets a new task, and after
    BUNDLE_VALIDATION_MAX_ATTEMPTS claims it is rejected with a report saying so. A pending upload whose
    task is older than that and whose queue is empty lost its task and is sent again.
    """
    now = now or timezone.now()
    limit = now - timedelta(seconds=settings.BUNDLE_VALIDATION_STUCK_AFTER_S)
    count = 0
    for upload in BundleUpload.objects.filter(status=BundleUpload.Status.VALIDATING, started_at__lt=limit):
        if upload.attempts >= settings.BUNDLE_VALIDATION_MAX_ATTEMPTS:
            message = (
                f"validation did not finish in {upload.attempts} tries (its worker stopped each time); "
                "upload the bundle again, and tell staff if this repeats"
            )
            report = {
                "ok": False,
                "checks": [{"name": "validation", "ok": False, "message": message, "warning": False}],
            }
            _finish_upload(upload, BundleUpload.Status.REJECTED, report)
            continue
        if _upload_transition(
            upload.id,
            expect={"status": BundleUpload.Status.VALIDATING, "attempts": upload.attempts},
            status=BundleUpload.Status.PENDING,
            started_at=None,
            enqueued_at=now,
        ):
            _enqueue_upload(upload.id)
            count += 1
    lost = BundleUpload.objects.filter(status=BundleUpload.Status.PENDING).filter(
        Q(enqueued_at__lt=limit) | Q(enqueued_at=None, created_at__lt=limit)
    )
    if lost.exists() and broker_queue_length(UPLOAD_QUEUE) == 0:
        for upload in lost:
            expect = {"status": BundleUpload.Status.PENDING, "enqueued_at": upload.enqueued_at}
            if _upload_transition(upload.id, expect=expect, enqueued_at=now):
                _enqueue_upload(upload.id)
                count += 1
    return count


def environments_register(*, images: dict[str, str], worker: str) -> list[SandboxEnvironment]:
    """Record the environments a worker grades in, with what each image says it holds.

    An image that is missing or does not describe the environment it is named for is skipped (the
    worker refuses those exercises with a message); the rest are upserted by name.
    """
    import logging

    from sandbox.driver import ImageMissing, environment_of
    from sandbox.image import packages

    registered = []
    for name, image in images.items():
        try:
            described = environment_of(image)
            installed = packages(image)
        except ImageMissing as exc:
            logging.getLogger(__name__).error("environment %s is not available on %s: %s", name, worker, exc)
            continue
        if described.name != name:
            logging.getLogger(__name__).error("image %s is %r, not the %r environment", image, described.name, name)
            continue
        env, _ = SandboxEnvironment.objects.update_or_create(
            name=name,
            defaults={
                "image": image,
                "description": described.description,
                "heavy_modules": list(described.heavy_modules),
                "packages": installed,
                "registered_by": worker[:200],
            },
        )
        registered.append(env)
    return registered
