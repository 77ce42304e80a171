from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        # Search by finding checks its key against the analysis lexicon: read it when the
        # process starts, not in the first search a server process answers (its cost:
        # docs/performance.md, "Figures behind choices in the code").
        from nlp import default_lexicon

        default_lexicon()
        # Declares the reports' search to core.search (its warm-up is asked for by name).
        from reports import search  # noqa: F401
