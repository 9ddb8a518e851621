"""The Celery app: a Redis broker, one task per submission, `cpu` and `gpu` queues."""

from __future__ import annotations

import logging
import os

from celery import Celery
from celery.signals import celeryd_after_setup, worker_process_init, worker_process_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "course.config.settings")

log = logging.getLogger(__name__)
app = Celery("course")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def send_task(name: str, *args: object, queue: str) -> None:
    """Send a task by its registered name (callers need not import the tasks module), retrying a broker
    that is briefly unreachable; raises kombu's OperationalError when it stays down."""
    app.send_task(
        name,
        args=list(args),
        queue=queue,
        retry=True,
        retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5},
    )


def broker_queue_length(queue: str) -> int:
    """Messages waiting in a broker queue (not those a worker holds); an unreachable broker counts as busy,
    so nothing is re-sent on a guess."""
    from kombu.exceptions import ChannelError, OperationalError

    try:
        with app.connection_for_read() as conn:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
    except ChannelError:
        return 0  # the queue does not exist: nothing waits in it
    except OperationalError:
        log.warning("the broker is unreachable; lost tasks are re-sent later")
        return 1


@app.on_after_finalize.connect
def _schedule(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    sender.add_periodic_task(
        settings.GRADING_REQUEUE_EVERY_S,
        sender.signature("course.submissions.tasks.requeue_stuck_submissions", queue="cpu"),
        name="re-enqueue stuck submissions",
    )
    sender.add_periodic_task(
        settings.GRADING_REQUEUE_EVERY_S,
        sender.signature("course.curriculum.tasks.requeue_stuck_uploads", queue="cpu"),
        name="re-validate stuck bundle uploads",
    )


@celeryd_after_setup.connect
def _environment_queues(sender: str, instance, **kwargs: object) -> None:
    """A worker consuming ``cpu`` (or ``gpu``) also consumes ``cpu-<env>`` for every other
    environment whose image it has, and registers what each holds; an environment whose image is
    missing gets no queue, so its exercises wait for a worker that has it instead of failing here."""
    from course.curriculum.services import environments_register
    from course.submissions.services import environment_queue
    from grader.engine import DEFAULT_ENVIRONMENT, EngineSettings

    registered = environments_register(images=EngineSettings.from_env().images, worker=sender)
    consumed = list(instance.app.amqp.queues.consume_from or {})
    for env in registered:
        if env.name == DEFAULT_ENVIRONMENT:
            continue
        for queue in consumed:
            if queue in ("cpu", "gpu"):
                instance.app.amqp.queues.select_add(environment_queue(queue, env.name))


@worker_process_init.connect
def _start_warm_sandboxes(**kwargs: object) -> None:
    """Each grading process keeps its own warm sandboxes (sandbox/pool.py), started in the background:
    a process has seconds to report itself up, and a bad pool must never stop it grading cold."""
    import threading

    def start() -> None:
        from django.db import connections

        from course.submissions.services import warm_sandboxes_start

        try:
            warm_sandboxes_start()
        except Exception:
            log.exception("could not start the warm sandboxes; gradings start their own")
        finally:
            connections.close_all()

    threading.Thread(target=start, name="warm-sandboxes-start", daemon=True).start()


@worker_process_shutdown.connect
def _stop_warm_sandboxes(**kwargs: object) -> None:
    from course.submissions.services import warm_sandboxes_stop

    warm_sandboxes_stop()
