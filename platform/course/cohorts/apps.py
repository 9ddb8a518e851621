from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "course.cohorts"
    label = "cohorts"
