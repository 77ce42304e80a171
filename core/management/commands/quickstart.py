"""The quick start's setup step: sample data (once) and the demo admin account."""

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import Role, User
from ingest import services
from sampledata import generate_reports, generate_studies
from sampledata.writers import write_reports_json, write_studies_xlsx
from studies.models import Study

DEMO_USERNAME = "admin"


class Command(BaseCommand):
    help = (
        "Load the generated sample data into an empty database (through the real importer) "
        "and create or renew the demo admin account, printing its password. For demos only."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument(
            "--studies", type=int, default=3000, help="sample studies (default 3000)"
        )
        parser.add_argument("--seed", type=int, default=20251029)
        parser.add_argument("--no-sample-data", action="store_true")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        if not options["no_sample_data"]:
            self._sample_data(options["studies"], options["seed"])
        password = self._demo_admin()
        self.stdout.write("")
        self.stdout.write("Demo account (admin role):")
        self.stdout.write(f"  username: {DEMO_USERNAME}")
        self.stdout.write(f"  password: {password}")
        self.stdout.write("")

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
        for importer, path in (
            (services.import_studies, studies_file),
            (services.import_reports, reports_file),
        ):
            result = importer(source=path, file_name=path.name, origin="quickstart")
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
