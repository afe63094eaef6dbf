"""The Celery application, configured from Django settings (the `CELERY_` namespace)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task modules named for their job rather than `tasks`.
app.autodiscover_tasks(related_name="tracking_tasks")
