# Appended to the settings.py that `django-admin startproject` wrote: the
# lines a user adds (docs/guides/django.md). Everything else stays Django's
# default, CsrfViewMiddleware included.
import os  # noqa: E402

INSTALLED_APPS.append("hooks")  # noqa: F821 - defined above in settings.py
MIDDLEWARE.append("hookguard_client.django.HookguardMiddleware")  # noqa: F821
HOOKGUARD_PATHS = ["/mw/"]
HOOKGUARD_TARGET = os.environ.get("HOOKGUARD_TARGET", "localhost:50051")
