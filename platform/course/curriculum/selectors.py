"""Reads for the curriculum."""

from __future__ import annotations

from course.curriculum.models import Exercise


def exercise_get(*, slug: str) -> Exercise | None:
    return Exercise.objects.select_related("module", "current_version").filter(slug=slug).first()
