"""Django settings, all read from the environment (see docs/operations.md for every variable).

With no variables set, the embedded default runs on one box: SQLite in WAL mode under `var/`, Celery
on a file-system transport under `var/broker/`, e-mail written to `var/mail/`, and secrets generated
once into `var/`. Production sets `DATABASE_URL`, `REDIS_URL`, `SECRET_KEY`, `PRIVACY_HASH_KEY`,
`ALLOWED_HOSTS` and an https `SITE_URL`.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from kombu import Exchange, Queue

from config.environment import env_bool, env_int, env_list, env_str, secret

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")
EMBEDDED = not DATABASE_URL

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = secret("SECRET_KEY", var_dir=VAR_DIR, embedded=EMBEDDED)
# Earlier keys, comma-separated, still accepted for signed links while a new SECRET_KEY rolls out:
# unsubscribe and preference links in old e-mails must keep working.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])
# Key of the HMAC that turns an e-mail address into a suppression hash; never the SECRET_KEY, so
# rotating one does not silently invalidate the other.
PRIVACY_HASH_KEY = secret("PRIVACY_HASH_KEY", var_dir=VAR_DIR, embedded=EMBEDDED)

SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
HTTPS = urlsplit(SITE_URL).scheme == "https"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",
    "privacy",
    "crm",
    "campaigns",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database ---------------------------------------------------------------------------------------

if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "crm.sqlite3",
            "OPTIONS": {
                # WAL lets the web server, the worker and beat read while one of them writes;
                # IMMEDIATE takes the write lock at BEGIN, so writers queue instead of failing.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when configured (shared by every process), else per-process memory.
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Authentication ---------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)

# Internationalisation ---------------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nl", "Nederlands"), ("ro", "Română")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Amsterdam")
USE_I18N = True
USE_TZ = True
# Region used to read phone numbers written without a country prefix.
DEFAULT_PHONE_REGION = env_str("DEFAULT_PHONE_REGION", "NL")

# Static files -----------------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise serves from here; `collectstatic` fills it (make run and deployments run it).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "media"},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# E-mail -----------------------------------------------------------------------------------------

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CRM <crm@example.org>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# Security ---------------------------------------------------------------------------------------

# An https SITE_URL means production behind TLS: secure cookies, HSTS and redirects follow from it.
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS and env_bool("SECURE_HSTS_PRELOAD", default=True)
if env_bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SILENCED_SYSTEM_CHECKS = [] if HTTPS else ["security.W008", "security.W004"]

# REST API ---------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.StaffModelPermissions"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "config.api.NewestFirstCursorPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Privacy-first CRM API",
    "DESCRIPTION": "Push contacts and companies from other sites; every write is validated, "
    "normalised and audited like a change made in the admin.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files: no third-party script in staff browsers.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ConsentActionEnum": "privacy.models.ConsentEvent.Action",
        "EmailStatusEnum": "crm.models.Contact.EmailStatus",
        "SubjectRequestKindEnum": "privacy.models.SubjectRequest.Kind",
        "SourceKindEnum": "crm.models.Source.Kind",
    },
}

# Celery -----------------------------------------------------------------------------------------

CELERY_BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any countdown or ETA the code uses (at most one hour), or Redis would hand a
        # delayed task to a second worker while the first still holds it.
        "visibility_timeout": 6 * 60 * 60,
    }
else:
    for folder in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery-results").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "config.filesystem_broker:Transport"
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'celery-results'}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
# Late acknowledgement is opted into per task (acks_late=True) only where the task is idempotent.
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# One queue per kind of work, so production runs each on its own workers and scales them apart.
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name)
    for name in ("default", "imports", "sending", "tracking", "maintenance")
]
CELERY_TASK_DEFAULT_EXCHANGE = "default"
CELERY_TASK_DEFAULT_ROUTING_KEY = "default"
CELERY_TASK_ROUTES = {
    # Requesters wait for these two; the rest of the privacy app's work is maintenance.
    "privacy.tasks.send_request_verification": {"queue": "default"},
    "privacy.tasks.act_on_request": {"queue": "default"},
    "crm.tasks.*": {"queue": "default"},
    "privacy.tasks.*": {"queue": "maintenance"},
    "campaigns.tracking_tasks.*": {"queue": "tracking"},
}
# The one beat schedule: every periodic task of the project, in one place.
CELERY_BEAT_SCHEDULE = {
    "privacy-check-daily": {
        "task": "privacy.tasks.run_privacy_check",
        "schedule": crontab(hour=5, minute=0),
    },
    "privacy-purge-expired-nightly": {
        "task": "privacy.tasks.purge_expired",
        "schedule": crontab(hour=2, minute=30),
    },
    "privacy-request-digest-daily": {
        "task": "privacy.tasks.mail_request_digest",
        "schedule": crontab(hour=7, minute=30),
    },
    "privacy-expire-unverified-requests-hourly": {
        "task": "privacy.tasks.expire_unverified",
        "schedule": crontab(minute=15),
    },
    # Art. 14 notices to people found through indirect sources: every pending one, in the morning.
    "privacy-indirect-notices-daily": {
        "task": "privacy.tasks.mail_indirect_notices",
        "schedule": crontab(hour=9, minute=0),
    },
    # Buffered opens and clicks, written as events every few seconds.
    "campaigns-flush-tracking": {
        "task": "campaigns.tracking_tasks.flush_tracking_hits",
        "schedule": timedelta(seconds=env_int("TRACKING_FLUSH_SECONDS", 5)),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Logging: one line per event on stderr; records carry ids, never personal data.
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_tokens": {"()": "config.log_filters.RedactTokens"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_tokens"],
        }
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Admin ------------------------------------------------------------------------------------------

# Above this many rows an unfiltered admin list shows the planner's estimate, not an exact count.
ADMIN_EXACT_COUNT_LIMIT = env_int("ADMIN_EXACT_COUNT_LIMIT", 50_000)

# Store the IP address of the request with each consent event (off: only the user agent is kept).
CONSENT_RECORD_IP = env_bool("CONSENT_RECORD_IP", default=False)
# How long a subscription confirmation link stays valid, in seconds.
SUBSCRIBE_LINK_MAX_AGE = env_int("SUBSCRIBE_LINK_MAX_AGE", 3 * 24 * 60 * 60)

# Data-subject requests --------------------------------------------------------------------------

# Exports and scanned letters: outside the web root, never served except through signed links.
PRIVATE_FILES_DIR = Path(env_str("PRIVATE_FILES_DIR", str(VAR_DIR / "private")))
# Verification links of public requests are single-use and expire after this many seconds.
REQUEST_VERIFY_MAX_AGE = env_int("REQUEST_VERIFY_MAX_AGE", 60 * 60)
# Unverified requests are closed as expired after this many hours.
REQUEST_UNVERIFIED_EXPIRE_HOURS = env_int("REQUEST_UNVERIFIED_EXPIRE_HOURS", 48)
# Download links of access and portability exports expire after this many days.
EXPORT_LINK_MAX_AGE_DAYS = env_int("EXPORT_LINK_MAX_AGE_DAYS", 7)
# The same request from the same address within this many days is flagged as possibly excessive.
REQUEST_REPEAT_WINDOW_DAYS = env_int("REQUEST_REPEAT_WINDOW_DAYS", 90)
# Erase as soon as an erasure request is verified, without waiting for the officer's approval.
ERASURE_AUTO_APPROVE = env_bool("ERASURE_AUTO_APPROVE", default=False)
# Public request form: at most this many submissions per hour per client address and per e-mail.
REQUEST_RATE_PER_IP = env_int("REQUEST_RATE_PER_IP", 10)
REQUEST_RATE_PER_EMAIL = env_int("REQUEST_RATE_PER_EMAIL", 3)
# Subscription and contact forms: at most this many posts per hour per client address and e-mail.
FORM_RATE_PER_IP = env_int("FORM_RATE_PER_IP", 20)
FORM_RATE_PER_EMAIL = env_int("FORM_RATE_PER_EMAIL", 5)
# How many reverse proxies in front of the app append to X-Forwarded-For (0: use the socket).
FORWARDED_FOR_PROXIES = env_int("FORWARDED_FOR_PROXIES", 0)

# Campaign tracking, bounces and reports ----------------------------------------------------------

# Where opens and clicks wait for the flush: "redis" (REDIS_URL) or "sqlite" (a file under var/).
TRACKING_BUFFER = env_str("TRACKING_BUFFER", "redis" if REDIS_URL else "sqlite")
TRACKING_BUFFER_PATH = Path(env_str("TRACKING_BUFFER_PATH", str(VAR_DIR / "tracking-hits.sqlite3")))
# Hits written per transaction by the flush.
TRACKING_FLUSH_BATCH = env_int("TRACKING_FLUSH_BATCH", 2000)
# A header with the visitor's ISO country code set by a proxy in front (e.g. CF-IPCountry), and
# the addresses or networks of those proxies: the header is ignored from anyone else.
TRACKING_COUNTRY_HEADER = env_str("TRACKING_COUNTRY_HEADER")
TRACKING_COUNTRY_HEADER_PROXIES = env_list("TRACKING_COUNTRY_HEADER_PROXIES", [])
# Look the country up in the bundled offline table of address delegations (no header, or none).
TRACKING_COUNTRY_TABLE = env_bool("TRACKING_COUNTRY_TABLE", default=True)
# Countries with fewer recipients than this are folded into "other" in campaign reports.
REPORT_MIN_COUNTRY_BUCKET = env_int("REPORT_MIN_COUNTRY_BUCKET", 10)
# The e-mail provider whose signed webhook reports deliveries, bounces and complaints.
EMAIL_WEBHOOK_PROVIDER = env_str("EMAIL_WEBHOOK_PROVIDER", "mailgun")
MAILGUN_WEBHOOK_SIGNING_KEY = env_str("MAILGUN_WEBHOOK_SIGNING_KEY")
# A webhook request whose timestamp is further than this from now (seconds) is refused.
EMAIL_WEBHOOK_MAX_AGE = env_int("EMAIL_WEBHOOK_MAX_AGE", 300)
