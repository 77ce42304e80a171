from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "studies"
    verbose_name = "Studies"

    def ready(self) -> None:
        # Declares the studies' search to core.search (its warm-up is asked for by name).
        from studies import search  # noqa: F401
