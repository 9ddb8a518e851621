from celery import shared_task

from course.curriculum import services


@shared_task(name="course.curriculum.tasks.validate_bundle_upload", acks_late=True, reject_on_worker_lost=True)
def validate_bundle_upload(upload_id: int) -> str:
    upload = services.bundle_upload_process(upload_id=upload_id)
    return upload.status if upload else "missing"


@shared_task(name="course.curriculum.tasks.requeue_stuck_uploads")
def requeue_stuck_uploads() -> int:
    return services.bundle_uploads_requeue_stuck()
