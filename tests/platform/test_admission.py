"""Admission control: a worker's default concurrency is what the host's cores and memory hold."""

from __future__ import annotations

import os

from course.config.admission import grading_slots, total_memory_mb, usable_cpus, warm_sandboxes_memory_mb


def test_the_smaller_of_cores_and_memory_and_at_least_one():
    assert grading_slots(slot_cpus=1.0, slot_memory_mb=4096, cpus=8, memory_mb=64 * 1024) == 8
    assert grading_slots(slot_cpus=1.0, slot_memory_mb=4096, cpus=8, memory_mb=12 * 1024) == 3  # memory binds
    assert grading_slots(slot_cpus=2.0, slot_memory_mb=4096, cpus=2, memory_mb=64 * 1024) == 1
    assert grading_slots(slot_cpus=4.0, slot_memory_mb=4096, cpus=2, memory_mb=1024) == 1  # never zero
    assert grading_slots(slot_cpus=1.0, slot_memory_mb=4096, cpus=4, memory_mb=None) == 4  # memory unknown


def test_this_host_is_read_and_the_worker_setting_follows(settings):
    memory = total_memory_mb()
    assert memory and memory > 0 and usable_cpus() >= 1
    expected = int(os.environ.get("WORKER_CONCURRENCY") or 0) or grading_slots(
        slot_cpus=settings.GRADING_SLOT_CPUS, slot_memory_mb=settings.GRADING_SLOT_MEMORY_MB
    )
    assert settings.CELERY_WORKER_CONCURRENCY == expected
    from course.config.celery import app

    assert app.conf.worker_concurrency == expected


def test_warm_sandboxes_count_against_a_slots_memory(monkeypatch):
    monkeypatch.setenv("SANDBOX_WARM_PAIRS", "1")
    monkeypatch.setenv("SANDBOX_WARM_MEMORY_MB", "2048")
    assert warm_sandboxes_memory_mb() == 2048
    monkeypatch.setenv("SANDBOX_WARM_PAIRS", "0")
    assert warm_sandboxes_memory_mb() == 0
