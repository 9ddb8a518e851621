"""Reads for the curriculum."""

from __future__ import annotations

from course.curriculum.models import Exercise, SandboxEnvironment
from course.errors import NotFound


def exercise_get(*, slug: str) -> Exercise | None:
    return Exercise.objects.select_related("module", "current_version").filter(slug=slug).first()


def published_exercise(*, slug: str) -> Exercise:
    """The exercise learners can work on: NotFound when there is none, or none published yet."""
    exercise = exercise_get(slug=slug)
    if exercise is None or exercise.current_version is None:
        raise NotFound(f"there is no exercise {slug!r}")
    return exercise


def environment_get(*, name: str) -> SandboxEnvironment | None:
    """The environment as the workers registered it; None when no worker has it yet."""
    return SandboxEnvironment.objects.filter(name=name).first()


def environment_view(name: str) -> dict[str, object]:
    """An exercise's environment for the API and the exercise page: what its graders have installed."""
    env = environment_get(name=name)
    if env is None:
        return {"name": name, "available": False, "image": "", "description": "", "packages": []}
    return {
        "name": name,
        "available": True,
        "image": env.image,
        "description": env.description,
        "packages": list(env.packages),
    }
