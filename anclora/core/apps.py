from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "anclora.core"
    label = "core"
