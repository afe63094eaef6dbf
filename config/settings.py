"""Django settings, all read from the environment (see docs/operations.md for every variable).

With no variables set, the embedded default runs on one box: SQLite in WAL mode under `var/`, Celery
on a file-system transport under `var/broker/`, e-mail written to `var/mail/`, and secrets generated
once into `var/`. Production sets `DATABASE_URL`, `REDIS_URL`, `SECRET_KEY`, `PRIVACY_HASH_KEY`,
`ALLOWED_HOSTS` and an https `SITE_URL`.
"""

import os
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from config.environment import env_bool, env_int, env_list, env_str, secret
from config.schedule import beat_schedule
from config.site_address import DEFAULT_SITE_URL, kept_site_url

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

# The address in links: SITE_URL, else the one `make run` chose and kept in var/ (every process and
# command of the box then links to the same place), else the local default.
SITE_URL = (env_str("SITE_URL") or kept_site_url(VAR_DIR) or DEFAULT_SITE_URL).rstrip("/")
HTTPS = urlsplit(SITE_URL).scheme == "https"
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    sorted({"127.0.0.1", "localhost", "[::1]", urlsplit(SITE_URL).hostname or "localhost"}),
)
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
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "core",
    "config",
    "crm",
    "privacy",
    "campaigns",
    "integrations",
    "demo",
]

MIDDLEWARE = [
    "config.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.locale.PublicLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.sessions.SessionExpiryMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "privacy.staff.two_factor.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.personal_links.PersonalLinkNoStoreMiddleware",
]
# Paths under /t/ (open pixel, click redirect, web activity) skip the session, locale, CSRF, user
# and message middleware they never use: only these run for them (config/tracking_stack.py).
TRACKING_MIDDLEWARE = [
    name
    for name in MIDDLEWARE
    if name
    in {
        "config.request_log.RequestLogMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "config.csp.ContentSecurityPolicyMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "config.personal_links.PersonalLinkNoStoreMiddleware",
    }
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
                "django.template.context_processors.i18n",
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

# Cache: Redis when configured, else files under var/cache/; either way shared by every process
# of the box (gunicorn's workers, Celery), so rate limits and login lock-outs count once.
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }

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
# A staff session ends this many seconds after login, however active (the absolute age) ...
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
# ... and after this many seconds without a request (the idle timeout).
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 30 * 60)
# Admin login lock-out: this many failures within the cool-off lock the account everywhere (a high
# bar), the account from one client address, or the client address for every account, for the
# cool-off (in seconds), counted from the failure that locked it.
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 50)
# After login, a `next=` pointing elsewhere (another host, a bad scheme) lands on the admin.
LOGIN_REDIRECT_URL = "admin:index"
LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS = env_int("LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS", 5)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 20)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60)
# Two-factor login: the name authenticator apps show next to the six-digit code.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Privacy-first CRM")
# Wrong codes count against the login lock-out above, with its clear message; django-otp's own
# silent back-off would refuse a right code typed soon after a wrong one.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# The admin's device screens never show a secret or a recovery code once the device exists.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Internationalisation ---------------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nl", "Nederlands"), ("ro", "Română")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Amsterdam")
USE_I18N = True
# The public pages' language switcher remembers the choice for the browser session only.
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
USE_TZ = True
# Region used to read phone numbers written without a country prefix.
DEFAULT_PHONE_REGION = env_str("DEFAULT_PHONE_REGION", "NL")
# Countries whose national numbers (no + prefix) may turn up: one with no country that is valid in
# another of them besides DEFAULT_PHONE_REGION is ambiguous, and refused rather than guessed.
# One line per dozen codes rather than one per code, as the formatter would write it.
# fmt: off
PHONE_AMBIGUITY_REGIONS = env_list("PHONE_AMBIGUITY_REGIONS", [
    "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR",
    "GB", "GR", "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MT",
    "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
])
# fmt: on

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
    # Django's file backend, which also records campaign mail as delivered (a local delivery).
    else "campaigns.local_delivery.FileDeliveryBackend",
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

# Campaigns --------------------------------------------------------------------------------------

# The host of SITE_URL: the right-hand side of campaign Message-IDs (<token@SITE_DOMAIN>).
SITE_DOMAIN = env_str("SITE_DOMAIN", urlsplit(SITE_URL).hostname or "localhost")
# The mailto half of List-Unsubscribe; the bounce and unsubscribe mailbox reads it. By default at
# the site's domain, or at DEFAULT_FROM_EMAIL's when the site is an address or a bare host name
# (`unsubscribe@127.0.0.1` is no mailbox anyone reads).
MAIL_DOMAIN = (
    SITE_DOMAIN
    if "." in SITE_DOMAIN and not SITE_DOMAIN.replace(".", "").isdigit() and ":" not in SITE_DOMAIN
    else parseaddr(DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or SITE_DOMAIN
)
UNSUBSCRIBE_MAILTO = env_str("UNSUBSCRIBE_MAILTO", f"unsubscribe@{MAIL_DOMAIN}")
# Messages per second each sending worker hands to the mail server (0: as fast as it takes them).
SENDING_RATE_PER_WORKER = env_int("SENDING_RATE_PER_WORKER", 50)
# Messages per sending task: one SMTP connection and one suppression re-check each.
SENDING_BATCH_SIZE = env_int("SENDING_BATCH_SIZE", 200)
# How many batches of one campaign run at once (at most one per sending worker is useful).
SENDING_PARALLEL_BATCHES = env_int("SENDING_PARALLEL_BATCHES", 2)
# Messages marked "being handed over" per commit. A worker that dies loses at most this many (never
# sending one twice); 1 is exact, larger commits less often.
SENDING_HANDOVER_GROUP = env_int("SENDING_HANDOVER_GROUP", 10)
# SMTP connections each sending worker hands a group of messages over at once, one thread each
# (1: one connection, as before; more only after measuring them against your mail server).
SENDING_CONNECTIONS = env_int("SENDING_CONNECTIONS", 1)
# Attempts per message on temporary SMTP failures (4xx) before it is marked failed.
SENDING_MAX_ATTEMPTS = env_int("SENDING_MAX_ATTEMPTS", 5)
# Seconds before the first retry of a temporary failure; doubled on each further attempt.
SENDING_RETRY_BACKOFF = env_int("SENDING_RETRY_BACKOFF", 60)
# Seconds after which messages claimed by a worker but never handed over are queued again: longer
# than a sending task may run (its time limit), so that only a dead worker's claims qualify.
SENDING_CLAIM_LEASE = env_int("SENDING_CLAIM_LEASE", 15 * 60)
# The admin's live segment count is exact up to this many contacts, an estimate above.
SEGMENT_COUNT_EXACT_LIMIT = env_int("SEGMENT_COUNT_EXACT_LIMIT", 100_000)

# Security ---------------------------------------------------------------------------------------

# An https SITE_URL means production behind TLS: secure cookies, HSTS and redirects follow from it.
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
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
    "DEFAULT_PERMISSION_CLASSES": ["core.api.StaffModelPermissions"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "core.api.NewestFirstCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.AccountRateThrottle",
        "core.api.AddressRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        # Requests per staff account (token or session), and per client address without one.
        "account": env_str("API_RATE_PER_ACCOUNT", "1200/minute"),
        "address": env_str("API_RATE_PER_ADDRESS", "60/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Privacy-first CRM API",
    "DESCRIPTION": "Push contacts and companies from other sites; every write is validated, "
    "normalised and audited like a change made in the admin.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs map every endpoint: staff only (logged in, or with a token).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files: no third-party script in staff browsers.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The payloads webhook endpoints receive (docs/webhooks.md).
    "WEBHOOKS": "integrations.openapi.WEBHOOKS",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "integrations.openapi.webhooks_as_extension",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ConsentActionEnum": "privacy.models.ConsentEvent.Action",
        "EmailStatusEnum": "crm.models.Contact.EmailStatus",
        "SubjectRequestKindEnum": "privacy.models.SubjectRequest.Kind",
        "SourceKindEnum": "crm.models.Source.Kind",
        "EventKindEnum": "core.events.EventKind",
        "HandOverKindEnum": "privacy.recipient_models.RecipientBatch.Kind",
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
    # A host name, though the transport uses none: without it Kombu warns on every start.
    CELERY_BROKER_URL = "filesystem://localhost/"
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
    # Requesters and subscribers wait for these; the rest of the privacy app's work is maintenance.
    "privacy.tasks.send_subscription_confirmation": {"queue": "default"},
    "privacy.tasks.send_request_verification": {"queue": "default"},
    "privacy.tasks.act_on_request": {"queue": "default"},
    "privacy.tasks.run_bulk_action": {"queue": "default"},
    "crm.tasks.run_import": {"queue": "imports"},
    "crm.tasks.discard_unfinished_imports": {"queue": "imports"},
    "crm.tasks.*": {"queue": "default"},
    "config.tasks.*": {"queue": "maintenance"},
    "privacy.tasks.*": {"queue": "maintenance"},
    # Sending and its watchers on the sending workers, so a big campaign never delays the rest.
    "campaigns.tasks.start_campaign": {"queue": "sending"},
    "campaigns.tasks.send_batch": {"queue": "sending"},
    "campaigns.tasks.requeue_messages": {"queue": "sending"},
    "campaigns.tasks.start_scheduled_campaigns": {"queue": "sending"},
    "campaigns.tasks.resume_stalled_sending": {"queue": "sending"},
    "campaigns.tasks.decide_ab_tests": {"queue": "sending"},
    "campaigns.tracking_tasks.*": {"queue": "tracking"},
    "campaigns.tasks.feed_bounce_mailbox": {"queue": "tracking"},
    "integrations.tasks.*": {"queue": "default"},
}
# The one beat schedule: every periodic task of the project, in config/schedule.py.
CELERY_BEAT_SCHEDULE = beat_schedule()
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The operations page and `manage.py health` turn red when beat is silent for longer than its
# shortest schedule plus this slack, when a periodic task has not started this long after it was
# due, or when an outbox entry has waited longer than this (all in seconds).
OPERATIONS_BEAT_SLACK_SECONDS = env_int("OPERATIONS_BEAT_SLACK_SECONDS", 30)
OPERATIONS_TASK_GRACE_SECONDS = env_int("OPERATIONS_TASK_GRACE_SECONDS", 600)
OPERATIONS_OUTBOX_MAX_AGE_SECONDS = env_int("OPERATIONS_OUTBOX_MAX_AGE_SECONDS", 300)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Logging: one record per event on stderr, as a line for people (`human`) or a JSON object
# (`json`); records carry ids, never personal data (config/log_filters.py masks what slips in).
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_str("LOG_FORMAT", "human")
if LOG_FORMAT not in ("human", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be human or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "human": {"()": "config.log_format.HumanFormatter"},
        "json": {"()": "config.log_format.JsonFormatter"},
    },
    "filters": {
        "redact_personal_data": {"()": "config.log_filters.RedactPersonalData"},
        "request_context": {"()": "config.request_log.AddRequestContext"},
        "one_line_refusals": {"()": "config.request_log.OneLineRefusals"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["one_line_refusals", "request_context", "redact_personal_data"],
        }
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The bounce detectors log every detector they try on every mail, at INFO.
        "flufl.bounce": {"level": "WARNING"},
    },
}

# Admin ------------------------------------------------------------------------------------------

# Above this many rows an unfiltered admin list shows the planner's estimate, not an exact count.
ADMIN_EXACT_COUNT_LIMIT = env_int("ADMIN_EXACT_COUNT_LIMIT", 50_000)

# Store the IP address of the request with each consent event (off: only the user agent is kept).
CONSENT_RECORD_IP = env_bool("CONSENT_RECORD_IP", default=False)
# Who is responsible, and whom to ask (GDPR art. 13(1)(a)-(b)): on the privacy page, in the
# art. 14 notice and in every e-mail footer to data subjects; privacy_check fails in production
# while one is blank.
CONTROLLER_NAME = env_str("CONTROLLER_NAME", "")
CONTROLLER_ADDRESS = env_str("CONTROLLER_ADDRESS", "")
PRIVACY_CONTACT = env_str("PRIVACY_CONTACT", "")
SUPERVISORY_AUTHORITY = env_str("SUPERVISORY_AUTHORITY", "")
# How far ahead of the server's clock a consent decision may be dated, in seconds (art. 7(3)).
CONSENT_CLOCK_SKEW = env_int("CONSENT_CLOCK_SKEW", 300)
# How long a subscription confirmation link stays valid, in seconds.
SUBSCRIBE_LINK_MAX_AGE = env_int("SUBSCRIBE_LINK_MAX_AGE", 3 * 24 * 60 * 60)

# List imports -----------------------------------------------------------------------------------

# The largest list file accepted, in bytes (a million rows of CSV take about 100 MB).
IMPORT_MAX_FILE_BYTES = env_int("IMPORT_MAX_FILE_BYTES", 200 * 1024 * 1024)
# Rows read, and rows merged, per transaction: the step by which progress moves and resumes.
IMPORT_CHUNK_ROWS = env_int("IMPORT_CHUNK_ROWS", 20_000)
# Processes forked to normalise a list's rows while it is staged (1: in the worker itself).
IMPORT_STAGING_PROCESSES = env_int("IMPORT_STAGING_PROCESSES", 2)
# A running import without a heartbeat for this long was stopped (worker killed): it may resume.
IMPORT_STALE_SECONDS = env_int("IMPORT_STALE_SECONDS", 300)
# Drafts never mapped and failed imports never resumed are discarded (file deleted) after this.
IMPORT_UNFINISHED_HOURS = env_int("IMPORT_UNFINISHED_HOURS", 48)

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
# Every POST of a public form (subscription, contact, request), valid or not, per client address
# per hour; and every POST behind a mailed link (confirmation, preferences, unsubscribe,
# verification), which mail providers' one-click unsubscribes share, so it is set much higher.
PUBLIC_POST_RATE_PER_IP = env_int("PUBLIC_POST_RATE_PER_IP", 60)
LINK_POST_RATE_PER_IP = env_int("LINK_POST_RATE_PER_IP", 1000)
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
# An open or click this soon after its message was sent is a machine's (privacy proxy, scanner).
TRACKING_MACHINE_SECONDS = env_int("TRACKING_MACHINE_SECONDS", 60)
# The operator's website domains whose pages may send web-activity beacons (the CRM's own host
# serves the demo page); a beacon from any other page is refused.
WEB_TRACKING_DOMAINS = env_list("WEB_TRACKING_DOMAINS", [SITE_DOMAIN])
# How long a click's visitor reference can be exchanged at the cookie banner, and how long the
# visitor cookie it becomes lasts on the operator's site.
WEB_VISITOR_REFERENCE_SECONDS = env_int("WEB_VISITOR_REFERENCE_SECONDS", 900)
WEB_VISITOR_COOKIE_DAYS = env_int("WEB_VISITOR_COOKIE_DAYS", 180)
# Countries with fewer recipients than this are folded into "other" in campaign reports.
REPORT_MIN_COUNTRY_BUCKET = env_int("REPORT_MIN_COUNTRY_BUCKET", 10)
# The e-mail provider whose tracking webhook (read by django-anymail) reports deliveries, bounces
# and complaints at /webhooks/email-provider/: amazon_ses, brevo, mailersend, mailgun, mailjet,
# mailtrap, mandrill, postal, postmark, resend, sendgrid, sparkpost, unisender_go; empty: none.
EMAIL_WEBHOOK_PROVIDER = env_str("EMAIL_WEBHOOK_PROVIDER")
# django-anymail's settings: every ANYMAIL_<NAME> variable is ANYMAIL["<NAME>"], e.g.
# ANYMAIL_MAILGUN_API_KEY, ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY, ANYMAIL_WEBHOOK_SECRET.
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_") and value
}
if env_str("MAILGUN_WEBHOOK_SIGNING_KEY"):
    ANYMAIL.setdefault("MAILGUN_WEBHOOK_SIGNING_KEY", env_str("MAILGUN_WEBHOOK_SIGNING_KEY"))
# Soft bounces of this many different messages within the window, with no delivery since,
# suspend an address until a later delivery.
SOFT_BOUNCE_LIMIT = env_int("SOFT_BOUNCE_LIMIT", 3)
SOFT_BOUNCE_WINDOW_DAYS = env_int("SOFT_BOUNCE_WINDOW_DAYS", 30)
# The bounce mailbox beat reads: an mbox file, a Maildir folder, or imaps://user:password@host/
# FOLDER (the password from the environment); empty: none. Beat reads it every
# BOUNCE_MAILBOX_EVERY seconds (600; see CELERY_BEAT_SCHEDULE).
BOUNCE_MAILBOX = env_str("BOUNCE_MAILBOX")

# Outbound webhooks (docs/webhooks.md): seconds to wait for a receiver, the delays between the
# attempts (about a day in all), and whether loopback receivers are allowed (never in production).
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_RETRY_DELAYS = [
    int(seconds)
    for seconds in env_list(
        "WEBHOOK_RETRY_DELAYS",
        default=["60", "300", "1800", "3600", "7200", "14400", "28800", "30600"],
    )
]
WEBHOOK_ALLOW_LOOPBACK = env_bool("WEBHOOK_ALLOW_LOOPBACK", default=EMBEDDED)
# Days the delivery log keeps a finished delivery (status and attempts, no payload).
WEBHOOK_LOG_DAYS = env_int("WEBHOOK_LOG_DAYS", 90)
