from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "course.accounts"
    label = "accounts"
