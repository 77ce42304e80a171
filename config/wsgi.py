"""The WSGI application that the production server (granian, README: Production) runs."""

import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
# Import the URLconf (the API's routers and schemas, the web views) as each worker starts:
# Django would import it in the worker's first request, which took 0.2 s longer than the
# next ones (a worker whose first request was a search answered it in 142 ms instead of 9).
import_module(settings.ROOT_URLCONF)

# The practice engines' code and clients too (practice.engines.warm_up).
from practice.engines import warm_up  # noqa: E402

warm_up()
