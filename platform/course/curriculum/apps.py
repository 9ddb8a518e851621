from django.apps import AppConfig


class CurriculumConfig(AppConfig):
    name = "course.curriculum"
    label = "curriculum"
