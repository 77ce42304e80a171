"""The quick start's setup step: sample data (once) and the demo accounts."""

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import Role, User
from ingest import services
from practice.sampledata import load_practice_samples
from sampledata import generate_reports, generate_studies
from sampledata.writers import write_reports_json, write_studies_xlsx
from studies.models import Study

DEMO_USERNAME = "admin"
# The practice area's demo accounts (SPEC-practice §6): (username, role, email).
PRACTICE_DEMO_ACCOUNTS = (
    ("instructor", Role.INSTRUCTOR, "instructor@example.org"),
    ("learner", Role.LEARNER, "learner@example.org"),
)


class Command(BaseCommand):
    help = (
        "Load the generated sample data into an empty database (through the real importer), "
        "the practice scenarios, rubric and activities (whatever is missing), and create or "
        "renew the demo accounts admin, instructor and learner, printing their passwords. "
        "For demos only."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--studies", type=int, default=3000, help="sample studies (default 3000)"
        )
        parser.add_argument("--seed", type=int, default=20251029)
        parser.add_argument("--no-sample-data", action="store_true")

    def handle(self, *args, **options) -> None:
        if not options["no_sample_data"]:
            self._sample_data(options["studies"], options["seed"])
            self._practice_samples()
        password = self._demo_admin()
        self.stdout.write("")
        self.stdout.write("Demo account (admin role):")
        self.stdout.write(f"  username: {DEMO_USERNAME}")
        self.stdout.write(f"  password: {password}")
        for username, role, email in PRACTICE_DEMO_ACCOUNTS:
            password = self._demo_practice_user(username, role, email)
            self.stdout.write(f"Demo account ({role} role, communication practice):")
            self.stdout.write(f"  username: {username}")
            self.stdout.write(f"  password: {password}")
            # The Flask service's React frontend signs in by email (POST /api/login).
            self.stdout.write(f"  email:    {email}")
        self.stdout.write("")

    def _practice_samples(self) -> None:
        summary = load_practice_samples()
        self.stdout.write(
            f"Practice samples: {summary.scenarios} scenarios, {summary.categories} categories, "
            f"{summary.criteria} criteria, {summary.activities} activities created"
            + ("" if summary.created else " (all present already)")
        )

    def _demo_practice_user(self, username: str, role: str, email: str) -> str:
        password = secrets.token_urlsafe(12)
        user = User.objects.filter(username=username).first() or User(
            username=username, email=email
        )
        user.role = role
        # The instructor authors in Django's admin too, where it sees the practice models only.
        user.is_staff = role == Role.INSTRUCTOR
        user.is_superuser = False
        user.is_active = True
        user.set_password(password)
        user.save()
        return password

    def _sample_data(self, count: int, seed: int) -> None:
        if Study.objects.exists():
            self.stdout.write(
                f"Database already holds {Study.objects.count()} studies; sample data not loaded."
            )
            return
        folder = settings.VAR_DIR / "sample"
        folder.mkdir(parents=True, exist_ok=True)
        studies = list(generate_studies(count, seed=seed))
        studies_file = folder / "studies.xlsx"
        reports_file = folder / "reports.json"
        write_studies_xlsx(studies_file, studies)
        write_reports_json(reports_file, generate_reports(studies, seed=seed))
        for kind, path in (("studies", studies_file), ("reports", reports_file)):
            result = services.import_file(
                kind=kind, source=path, file_name=path.name, origin="quickstart"
            )
            self.stdout.write(
                f"Imported {path.name}: {result['created']} created ({result['duration_ms']} ms)"
            )

    def _demo_admin(self) -> str:
        password = secrets.token_urlsafe(12)
        user = User.objects.filter(username=DEMO_USERNAME).first() or User(
            username=DEMO_USERNAME, email="admin@example.org"
        )
        user.role = Role.ADMIN
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        user.department = user.department or "Radiology"
        user.set_password(password)
        user.save()
        return password
