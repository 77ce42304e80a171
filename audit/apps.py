from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        # core.badinput refuses a request carrying a NUL; the refusal is recorded here.
        from audit.middleware import record_refusal
        from core.badinput import record_refusals

        record_refusals(record_refusal)
