"""Create product users for the Flask service's users (SPEC-practice §3)."""

from django.core.management.base import BaseCommand

from practice.flask_users import import_flask_users


class Command(BaseCommand):
    help = (
        "Create a product user for every Flask user (table `user`) whose email has none yet: "
        "role admin -> instructor, anything else -> learner; usernames made unique; the Flask "
        "password hash kept, so the Flask password keeps working. Safe to run again."
    )

    def handle(self, *args: object, **options: object) -> None:
        summary = import_flask_users(by="manage.py import_flask_users")
        if not summary.table_found:
            self.stdout.write('No Flask "user" table in this database: nothing to do')
            return
        for email, username, role in summary.created:
            self.stdout.write(f"created {email} as {username} ({role})")
        for email in summary.skipped:
            self.stdout.write(f"skipped {email!r}: not an email address")
        self.stdout.write(
            f"Flask users: {summary.total}; created {len(summary.created)} "
            f"({summary.renamed} renamed), already present {summary.existing}, "
            f"skipped {len(summary.skipped)}"
        )
