"""Synthetic cohorts at scale, for the query-count test and the dashboard benchmark."""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from course.accounts.models import User
from course.cohorts.models import Cohort, Enrollment
from course.curriculum.models import Exercise, ExerciseVersion, Module
from course.progress.models import ActivityDay, ExerciseProgress
from course.submissions.models import Submission


def build(*, learners: int, exercises: int, submissions_per_learner: int = 0, seed: int = 0) -> Cohort:
    """A cohort of ``learners`` on ``exercises`` spread over the existing modules (bulk inserts)."""
    rng = random.Random(seed)
    modules = list(Module.objects.order_by("position"))
    start = Exercise.objects.count()
    created = []
    for i in range(exercises):
        module = modules[i % len(modules)]
        exercise = Exercise.objects.create(
            module=module, slug=f"synthetic-{start + i}", title=f"Synthetic {i}", position=i
        )
        version = ExerciseVersion.objects.create(
            exercise=exercise,
            content_hash=f"{i:064d}",
            title=exercise.title,
            points=10,
            template={"cells": []},
            bundle_path="/nonexistent",
        )
        Exercise.objects.filter(pk=exercise.pk).update(current_version=version)
        exercise.current_version = version
        created.append(exercise)
    cohort = Cohort.objects.create(name=f"Synthetic cohort {timezone.now().timestamp()}")
    password = make_password(None)
    users = User.objects.bulk_create(
        User(username=f"{cohort.id}-learner-{n}", password=password, role=User.Role.LEARNER) for n in range(learners)
    )
    users = list(User.objects.filter(username__startswith=f"{cohort.id}-learner-"))
    Enrollment.objects.bulk_create(Enrollment(cohort=cohort, user=u) for u in users)
    today = timezone.now().date()
    progress, days, subs = [], [], []
    for user in users:
        done = rng.randrange(len(created) + 1)
        for exercise in created[:done]:
            passed = rng.random() < 0.7
            progress.append(
                ExerciseProgress(
                    learner=user,
                    exercise=exercise,
                    state="passed" if passed else "attempted",
                    best_score=10 if passed else 4,
                    max_score=10,
                    attempts=rng.randint(1, 4),
                )
            )
            days.append(
                ActivityDay(
                    learner=user,
                    exercise=exercise,
                    day=today - timedelta(days=rng.randrange(30)),
                    seconds=rng.randrange(60, 7200),
                    heartbeats=10,
                )
            )
        for n in range(submissions_per_learner):
            exercise = created[n % len(created)]
            subs.append(
                Submission(
                    learner=user,
                    exercise=exercise,
                    version=exercise.current_version,
                    notebook="submissions/none.ipynb",
                    status="graded",
                    verdict="graded",
                    score=rng.choice([0, 4, 10]),
                    max_score=10,
                )
            )
    ExerciseProgress.objects.bulk_create(progress, batch_size=2000)
    ActivityDay.objects.bulk_create(days, batch_size=2000)
    Submission.objects.bulk_create(subs, batch_size=2000)
    return cohort
