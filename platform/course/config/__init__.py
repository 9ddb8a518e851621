# The Celery app is loaded with Django so that shared tasks enqueue through its Redis broker.
from course.config.celery import app as celery_app

__all__ = ["celery_app"]
