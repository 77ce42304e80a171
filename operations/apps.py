from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Commands that work across the domain apps (the quick start, the search warm-up).

    They live here, above every domain app, so that core (the ground floor) imports none."""

    name = "operations"
    verbose_name = "Operations"
