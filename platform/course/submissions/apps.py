from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "course.submissions"
    label = "submissions"
