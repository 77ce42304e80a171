"""The ASGI application (compared with the WSGI servers by bench/run_all.py's servers step)."""

import os
from importlib import import_module

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()
# As in config.wsgi: the URLconf is imported as the worker starts, not in its first request.
import_module(settings.ROOT_URLCONF)

# The practice engines' code and clients too (practice.engines.warm_up).
from practice.engines import warm_up  # noqa: E402

warm_up()
