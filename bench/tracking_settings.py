"""Settings of the servers the tracking benchmark starts: its own database, one empty view more."""

from bench.database import TRACKING_DB_NAME
from bench.settings import *  # noqa: F403 -- the bench measures the real configuration.
from bench.settings import DATABASES

DATABASES = {"default": {**DATABASES["default"], "NAME": TRACKING_DB_NAME}}
ROOT_URLCONF = "bench.tracking_urls"
DEBUG = False
