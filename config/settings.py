"""Settings for the Medical Imaging Data Platform.

One file, read from the environment (or a ``.env`` file beside manage.py). With nothing set the
product runs on SQLite; production differs only by environment values (see .env.example).
"""

import os
import tempfile
from pathlib import Path

import dj_database_url
from dotenv import load_dotenv

from config.env import env_bool, env_choice, env_float, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env", override=False)

VERSION = "1.0.0"

# Local state of a machine that has nothing configured: the SQLite file and generated secrets.
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY", VAR_DIR / "secret_key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "config.apps.PlatformAdminConfig",
    # Before django.contrib.auth: its changepassword command (accounts.management) wins.
    "accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "ninja",
    "core",
    "audit",
    "studies",
    "reports",
    "ingest",
    "django_tasks",
    "django_tasks_db",
    "analysis",
    "practice",
    "django_htmx",
    "web",
    # Above every domain app: the commands that span them (quickstart, warm_caches).
    "operations",
]

# The session, locale, login, messages and htmx middleware are the stock ones, skipped for
# token API calls (core.middleware.pages_only).
MIDDLEWARE = [
    "core.middleware.ApiPathMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "core.middleware.SessionMiddleware",
    "core.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "core.middleware.AuthenticationMiddleware",
    # Before anything reads the session, the user or the input (core/badinput.py).
    "core.badinput.RefuseNulMiddleware",
    "core.middleware.MessageMiddleware",
    "core.middleware.HtmxMiddleware",
    "web.middleware.IdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.NoStoreMiddleware",
    "audit.middleware.AuditMiddleware",
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


# ---------------------------------------------------------------- database
def _database() -> dict:
    """DATABASE_URL wins; else the seed's DB_* keys; else SQLite in VAR_DIR."""
    conn_max_age = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
    url = env_str("DATABASE_URL")
    if url:
        db = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
    else:
        engine = env_str("DB_ENGINE", "django.db.backends.sqlite3")
        if "." not in engine:
            engine = f"django.db.backends.{engine}"
        if engine.endswith("sqlite3"):
            db = {"ENGINE": engine, "NAME": env_str("DB_NAME") or str(VAR_DIR / "db.sqlite3")}
        else:
            db = {
                "ENGINE": engine,
                "NAME": env_str("DB_NAME", "medical_imaging"),
                "USER": env_str("DB_USER"),
                "PASSWORD": env_str("DB_PASSWORD"),
                "HOST": env_str("DB_HOST", "localhost"),
                "PORT": env_str("DB_PORT", "5432"),
                "CONN_MAX_AGE": conn_max_age,
                "CONN_HEALTH_CHECKS": True,
            }
    options = db.setdefault("OPTIONS", {})
    if db["ENGINE"].endswith("sqlite3"):
        if db["NAME"] != ":memory:":
            Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets the task worker write while the server reads; IMMEDIATE avoids the
        # "database is locked" upgrade deadlock between two writers.
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 20)
        options.setdefault(
            "init_command",
            # mmap and a 64 MB page cache: a search that reads many rows reads them from memory
            # (the gain: docs/performance.md, "Figures behind choices in the code").
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA mmap_size=268435456; PRAGMA cache_size=-65536;",
        )
    else:
        # Client-side binding stays on (psycopg's default with Django): server-side prepared
        # statements switched fast queries to slow generic plans in measurements.
        options.setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5, minimum=1))
        # A connection pool per worker process (psycopg_pool): with many server threads (a
        # class of learners each holding a streamed reply) a connection per thread would
        # exceed PostgreSQL's max_connections; the pool lends one for each stretch of work.
        pool_size = env_int("DB_POOL_MAX_SIZE", 0, minimum=0)
        if pool_size:
            options.setdefault("pool", {"min_size": min(2, pool_size), "max_size": pool_size,
                                        "timeout": 10})  # fmt: skip
            db["CONN_MAX_AGE"] = 0  # Django's pool requires it: a closed connection goes back
    db.setdefault("TEST", {})
    if env_str("DB_TEST_NAME"):
        db["TEST"]["NAME"] = env_str("DB_TEST_NAME")
    elif db["ENGINE"].endswith("sqlite3"):
        # A file rather than Django's in-memory default: the worker tests start real worker
        # processes, which must open the test database. One per test run, so runs in parallel
        # do not share it; Django deletes it when the run ends.
        db["TEST"]["NAME"] = str(Path(tempfile.gettempdir()) / f"mip_test_{os.getpid()}.sqlite3")
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# Usernames with Django hashes first; then emails, and the Flask service's passlib hashes
# (SPEC-practice §3), including Flask users not imported yet. The practice roles' admin
# permissions come first, so that no per-user permission outgrows a role.
AUTHENTICATION_BACKENDS = [
    "practice.permissions.PracticeRolePermissions",
    "django.contrib.auth.backends.ModelBackend",
    "practice.flask_users.FlaskEmailBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 10, minimum=8)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Per-process cache of counts and filter lists; entries are keyed by a data version that the
# database bumps on every write (core.cache), so processes never serve each other stale data.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 20000},
    }
}

# ---------------------------------------------------------------- i18n / time
LANGUAGE_CODE = "en"
# The web UI's languages; LocaleMiddleware picks one from the language cookie or the browser.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "web" / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------- static files
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("STATIC_MANIFEST", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Without collectstatic (the quick start, the tests) WhiteNoise serves from the app folders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# ---------------------------------------------------------------- security
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 60, minimum=60)
SESSION_SAVE_EVERY_REQUEST = True
# The web UI signs a user out after this long without activity (background polling of task
# progress does not count as activity; see web.middleware).
WEB_IDLE_TIMEOUT_MINUTES = env_float("WEB_IDLE_TIMEOUT_MINUTES", 30.0, minimum=0.1)
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:studies"
LOGOUT_REDIRECT_URL = "web:login"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Only the product's own scripts, styles and connections (core.middleware): no inline script or
# style, no eval, no framing, forms post only here. Swagger UI draws its icons as data: images.
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("USE_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Only trust X-Forwarded-For behind a known proxy; otherwise clients could forge their address
# and dodge the login lockout or falsify the audit log.
USE_X_FORWARDED_FOR = env_bool("USE_X_FORWARDED_FOR", False)

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_URLS_REGEX = r"^/api/.*$"

# ---------------------------------------------------------------- authentication (JWT)
JWT_SECRET_KEY = env_secret("JWT_SECRET_KEY", VAR_DIR / "jwt_secret_key")
JWT_ALGORITHM = env_str("JWT_ALGORITHM", "HS256")
JWT_EXPIRATION_HOURS = env_float("JWT_EXPIRATION_HOURS", 24.0, minimum=0.01)
JWT_REFRESH_EXPIRATION_HOURS = env_float("JWT_REFRESH_EXPIRATION_HOURS", 24.0 * 7, minimum=0.01)
JWT_REFRESH_REUSE_GRACE_SECONDS = env_float("JWT_REFRESH_REUSE_GRACE_SECONDS", 10.0, minimum=0)
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_float("LOGIN_LOCKOUT_MINUTES", 15.0, minimum=0.01)

# ---------------------------------------------------------------- product settings
EXCEL_FILE_PATH = env_str("EXCEL_FILE_PATH", "20251029130203.xlsx")
MAX_UPLOAD_MB = env_float("MAX_UPLOAD_MB", 50.0, minimum=0.001)
# Uploads above Django's memory threshold spool to disk, so big RIS exports never sit in RAM.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
EXPORT_BATCH_SIZE = env_int("EXPORT_BATCH_SIZE", 5000, minimum=100)

# ---------------------------------------------------------------- background tasks / analysis
# Django's tasks API (the django-tasks backport) with its database backend: the queue lives in
# the product's database, so it works on SQLite and PostgreSQL and any number of workers
# (`manage.py run_analysis_worker`) on any number of machines can share it.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
# A study's turnaround (order -> check-in -> certification) above this is flagged.
ANALYSIS_TURNAROUND_LIMIT_HOURS = env_float("ANALYSIS_TURNAROUND_LIMIT_HOURS", 24.0, minimum=0.01)
# A study not certified whose latest step (check-in, else order) is older than this is listed
# as stuck by the data-quality view (the API's stuck_hours overrides it per request).
STATISTICS_STUCK_HOURS = env_float("STATISTICS_STUCK_HOURS", 72.0, minimum=0.01)
# A processing task whose worker has not checked in for this long is recovered: re-queued,
# or failed once it has been claimed ANALYSIS_MAX_ATTEMPTS times.
ANALYSIS_STALE_SECONDS = env_float("ANALYSIS_STALE_SECONDS", 300.0, minimum=0.1)
ANALYSIS_MAX_ATTEMPTS = env_int("ANALYSIS_MAX_ATTEMPTS", 3, minimum=1)
# How often each worker looks for stale tasks (0: only when it starts).
ANALYSIS_RECOVERY_INTERVAL_SECONDS = env_float(
    "ANALYSIS_RECOVERY_INTERVAL_SECONDS", 60.0, minimum=0.0
)
# Test and diagnostic knob: a pause before every step of a run, so that a running task can be
# watched, cancelled or have its worker killed. Always 0 in production.
ANALYSIS_STEP_DELAY_SECONDS = env_float("ANALYSIS_STEP_DELAY_SECONDS", 0.0, minimum=0.0)

# ---------------------------------------------------------------- practice (SPEC-practice §6)
# Who plays the patient and who grades: the offline, deterministic case-sheet engine
# (``scripted``) or any OpenAI-compatible server (``openai``). A typo stops the start-up.
PRACTICE_ENGINES = ("scripted", "openai")
PRACTICE_PATIENT_ENGINE = env_choice("PRACTICE_PATIENT_ENGINE", "scripted", PRACTICE_ENGINES)
PRACTICE_GRADER_ENGINE = env_choice("PRACTICE_GRADER_ENGINE", "scripted", PRACTICE_ENGINES)
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL")  # empty: the openai package's default
OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_MODEL = env_str("OPENAI_MODEL", "gpt-4o-mini")
OPENAI_API_STYLE = env_choice("OPENAI_API_STYLE", "chat", ("chat", "responses"))
OPENAI_TIMEOUT_SECONDS = env_float("OPENAI_TIMEOUT_SECONDS", 30.0, minimum=0.1)
OPENAI_MAX_RETRIES = env_int("OPENAI_MAX_RETRIES", 2, minimum=0)
# The models a run may ask for (``model`` in POST /api/threads/run); default: OPENAI_MODEL.
PRACTICE_ALLOWED_MODELS = env_list("PRACTICE_ALLOWED_MODELS") or [OPENAI_MODEL]
PRACTICE_MIN_LEARNER_TURNS = env_int("PRACTICE_MIN_LEARNER_TURNS", 3, minimum=0)
# A run with no reply after this long is ``expired`` (its worker is gone).
PRACTICE_RUN_EXPIRY_SECONDS = env_float("PRACTICE_RUN_EXPIRY_SECONDS", 100.0, minimum=1.0)
# An assessment gives up on its grader after this long (504): the route answers within 100 s.
PRACTICE_ASSESSMENT_TIMEOUT_SECONDS = min(
    env_float("PRACTICE_ASSESSMENT_TIMEOUT_SECONDS", 90.0, minimum=1.0), 100.0
)
# Anyone may register (as a learner) through POST /api/create_users without a token.
PRACTICE_SELF_REGISTRATION = env_bool("PRACTICE_SELF_REGISTRATION", False)
# The parallel run with the Flask service: Flask password hashes are never rewritten.
FLASK_COMPAT = env_bool("FLASK_COMPAT", False)

# ---------------------------------------------------------------- logging
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Request lines carry query strings, which can hold patient names: keep them out.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
