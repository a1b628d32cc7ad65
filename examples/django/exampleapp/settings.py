"""A Django project as `django-admin startproject` writes it, with its VAPI
webhook behind hookguard. The hookguard lines are marked."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "exampleapp.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "hookguard_client.django.HookguardMiddleware",          # hookguard
]

# The app's own database; hookguard-server reads the same one (its ownership
# queries read the api_* tables below).
DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": os.environ.get("EXAMPLE_DB", str(BASE_DIR / "db.sqlite3")),
}}

# --- hookguard ------------------------------------------------------------------
# --- docs/guides/django.md: settings ---
HOOKGUARD_TARGET = os.environ.get("HOOKGUARD_TARGET", "127.0.0.1:50051")
HOOKGUARD_PATHS = {"/webhooks/vapi/": "vapi"}  # path prefix -> profile
# While adopting: when hookguard gives no decision, run the view unverified.
HOOKGUARD_FAIL_OPEN = True
# Denied and would-be-denied deliveries; they hold signatures: keep private.
HOOKGUARD_CAPTURE_DIR = os.environ.get("HOOKGUARD_CAPTURE_DIR",
                                       str(BASE_DIR / "hookguard-captures"))
# --- end ---

LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"hookguard_client": {"handlers": ["console"], "level": "WARNING"}},
}
