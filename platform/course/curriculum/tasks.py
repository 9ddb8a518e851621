from celery import shared_task

from course.curriculum import services


@shared_task(name="course.curriculum.tasks.validate_bundle_upload", acks_late=True, reject_on_worker_lost=True)
def validate_bundle_upload(upload_id: int) -> str:
    return services.bundle_upload_process(upload_id=upload_id).status
