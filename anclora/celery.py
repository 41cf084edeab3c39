import os

from celery import Celery

from anclora.core.broker import register as register_embedded_broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anclora.settings.base")

register_embedded_broker()
app = Celery("anclora")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
