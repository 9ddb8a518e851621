from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "course.web"
    label = "web"
