"""The project's settings, pointed at the bench's own database and a private in-process cache."""

from bench.database import bench_database
from config.settings import *  # noqa: F403 -- the bench measures the real configuration.
from config.settings import DATABASES

DATABASES = {"default": bench_database(DATABASES["default"])}
# A shared Redis would mix the bench's cached lookups (like the admin's country list) with the
# developer's; each bench process keeps its own.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# django.test.Client sends requests as host "testserver", over plain http; the servers the bench
# starts listen on 127.0.0.1.
ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
SECURE_SSL_REDIRECT = False
