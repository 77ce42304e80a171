"""The WSGI application that the production server (granian, README: Production) runs."""

import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
# Import the URLconf (the API's routers and schemas, the web views) as each worker starts:
# Django would import it in the worker's first request, which would be much slower than the
# next ones (docs/performance.md, "Figures behind choices in the code").
import_module(settings.ROOT_URLCONF)

# The practice engines' code and clients too (practice.engines.warm_up).
from practice.engines import warm_up  # noqa: E402

warm_up()
