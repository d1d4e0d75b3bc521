"""Settings shared by every environment; everything deployment-specific comes from the environment.

With no environment at all the platform runs on the embedded default: SQLite and Celery's
filesystem broker under ``var/``, so ``make run`` needs no server.
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("HOOKRELAY_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-embedded-default-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

# The platform's own apps (the tenancy tests snapshot their tables).
PROJECT_APPS = [
    "core",
    "accounts",
    "providers",
    "buckets",
    "inputs",
    "destinations",
    "recipes",
    "deliveries",
    "reporting",
    "webhooks",
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    *PROJECT_APPS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "inputs.middleware.gateway_middleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
APPEND_SLASH = False
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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


def database(url: str) -> dict:
    """The settings of the database at ``url`` (production.py requires the URL)."""
    config = env.db_url_config(url)
    config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Parameters sent apart from the statement (the extended protocol), not quoted into its
        # text by Python: quoting them was 8% of the workers' CPU (rollup upserts, attempt rows).
        config.setdefault("OPTIONS", {}).setdefault("server_side_binding", True)
        # Statements run a fifth time on a connection become server-side prepared statements,
        # parsed and planned once (Django turns them off by default, for connection poolers).
        config["OPTIONS"].setdefault("prepare_threshold", 5)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # The embedded default serves gunicorn threads and Celery workers in several processes at
        # once. WAL lets readers run beside the one writer; every transaction takes the write lock
        # when it begins (BEGIN IMMEDIATE), waiting up to ``timeout`` seconds for it, instead of
        # failing with "database is locked" when a reader tries to become a writer. Transactions
        # are thereby serialized, which is what keeps row claims (a read, then a conditional
        # UPDATE in one transaction) correct where SELECT ... FOR UPDATE SKIP LOCKED does not exist.
        config.setdefault("OPTIONS", {}).update(
            transaction_mode="IMMEDIATE", timeout=30, init_command="PRAGMA journal_mode=WAL"
        )
    return config


DATABASES = {
    "default": database(env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'hookrelay.sqlite3'}"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Email: console by default; SMTP when EMAIL_URL (smtp://user:pass@host:587) is set.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="hookrelay@localhost")
# Base URL used in emailed links (verification, password change).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "providers.authentication.ClientTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.PermissionLevel"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "HookRelay API",
    "DESCRIPTION": "Webhook routing platform; paths and parameters follow the webhooks.io v1 API.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "inputs.gateway_schema.add_gateway_paths",
    ],
}

# Celery. The embedded default is kombu's filesystem transport: no broker server needed.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT = "core.filesystem_broker:Transport"
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
        # kombu sleeps this long whenever the folder has nothing for it (1 s by default), and the
        # worker's event loop with it: every hop of a webhook took a second.
        "polling_interval": env.float("FILESYSTEM_BROKER_POLL_SECONDS", default=0.05),
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ROUTES = {"deliveries.tasks.*": {"queue": "celery"}}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "sweep": {
        "task": "deliveries.tasks.sweep",
        "schedule": env.float("SWEEP_INTERVAL_SECONDS", default=10.0),
    },
    "disable-failing-destinations": {
        "task": "deliveries.tasks.disable_failing_destinations",
        "schedule": env.float("DISABLE_FAILING_INTERVAL_SECONDS", default=3600.0),
    },
    "purge-expired-messages": {
        "task": "reporting.tasks.purge_expired_messages",
        "schedule": env.float("RETENTION_INTERVAL_SECONDS", default=300.0),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Shared cache: Redis when configured (rate limits hold across every process), else in-process.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Pipeline. A claim's lease outlives the longest request, so a slow delivery is never made twice
# in parallel; the sweeper re-enqueues what was accepted but not handled within SWEEP_AFTER_SECONDS.
PROCESSING_LEASE_SECONDS = env.int("PROCESSING_LEASE_SECONDS", default=60)
DELIVERY_LEASE_SECONDS = env.int("DELIVERY_LEASE_SECONDS", default=90)
SWEEP_AFTER_SECONDS = env.int("SWEEP_AFTER_SECONDS", default=30)
# Every Celery worker runs the outbox dispatcher that claims committed incoming messages for its own
# pool of processing threads, polling this often when idle: often on the embedded default, rarely
# with Redis, where the gateway wakes the dispatchers as it commits (deliveries.wake).
DISPATCHER_ENABLED = env.bool("DISPATCHER_ENABLED", default=True)
DISPATCH_POLL_SECONDS = env.float("DISPATCH_POLL_SECONDS", default=1.0 if REDIS_URL else 0.02)
PROCESSING_THREADS = env.int("PROCESSING_THREADS", default=4)
# At most this many deliveries in flight per destination, cluster-wide: a hanging destination
# holds at most this many worker threads. Keep it below the worker concurrency.
DESTINATION_MAX_IN_FLIGHT = env.int("DESTINATION_MAX_IN_FLIGHT", default=8)
# One ``deliver`` task claims up to this many messages of one destination and sends them one after
# the other on a keep-alive connection, with one commit before and one after the requests.
DELIVERY_BATCH_SIZE = env.int("DELIVERY_BATCH_SIZE", default=25)
# A batch for several destinations is sent to them at once, by a pool of this many threads per
# worker process (each destination's messages one after the other).
DELIVERY_SENDER_THREADS = env.int("DELIVERY_SENDER_THREADS", default=32)
DESTINATION_DISABLE_AFTER_DAYS = env.int("DESTINATION_DISABLE_AFTER_DAYS", default=5)
INGEST_RATE_LIMIT_PER_SECOND = env.int("INGEST_RATE_LIMIT_PER_SECOND", default=1000)
# How long a gateway process may use an input it looked up (a change reaches ingest within it).
GATEWAY_INPUT_CACHE_SECONDS = env.float("GATEWAY_INPUT_CACHE_SECONDS", default=2.0)
SYNC_DELIVERY_TIMEOUT = env.float("SYNC_DELIVERY_TIMEOUT", default=10.0)
# Recipes (recipes/sandbox.py): limits of one run, and how many warm V8 contexts a process keeps.
RECIPE_TIME_LIMIT_MS = env.int("RECIPE_TIME_LIMIT_MS", default=100)
RECIPE_MEMORY_LIMIT_MB = env.int("RECIPE_MEMORY_LIMIT_MB", default=32)
RECIPE_CONTEXT_CACHE_SIZE = env.int("RECIPE_CONTEXT_CACHE_SIZE", default=32)

# Product limits and token lifetimes.
SESSION_TOKEN_TTL_SECONDS = env.int("SESSION_TOKEN_TTL_SECONDS", default=24 * 3600)
CLIENT_TOKEN_TTL_SECONDS = env.int("CLIENT_TOKEN_TTL_SECONDS", default=3600)
PASSWORD_CHANGE_KEY_TTL_SECONDS = env.int("PASSWORD_CHANGE_KEY_TTL_SECONDS", default=24 * 3600)
MAX_PAGE_SIZE = 200

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "format": "ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Outbound HTTP (deliveries, certificate fetches): timeouts and the SSRF guard. Networks listed
# here are reachable even though they are private/loopback (e.g. "127.0.0.0/8" for local dev).
OUTBOUND_CONNECT_TIMEOUT = env.float("OUTBOUND_CONNECT_TIMEOUT", default=5.0)
OUTBOUND_READ_TIMEOUT = env.float("OUTBOUND_READ_TIMEOUT", default=30.0)
OUTBOUND_ALLOWED_NETWORKS = env.list("OUTBOUND_ALLOWED_NETWORKS", default=[])
OUTBOUND_USER_AGENT = "HookRelay/1.0 (+webhook delivery)"
OUTBOUND_MAX_RESPONSE_BYTES = 64 * 1024
