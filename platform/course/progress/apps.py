from django.apps import AppConfig


class ProgressConfig(AppConfig):
    name = "course.progress"
    label = "progress"
