"""WSGI entry point for production servers (gunicorn, uWSGI).

Tracking paths get their own, smaller middleware stack (config/tracking_stack.py).
"""

import os

from django.core.wsgi import get_wsgi_application

from config.tracking_stack import TrackingHandler, dispatching

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Django is set up by the first call; the tracking handler's chain is built after it.
application = dispatching(get_wsgi_application(), TrackingHandler())
