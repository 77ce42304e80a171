"""Deployment posture: `check --deploy` passes with the documented production settings,
password validators are on, and no account exists that an installation did not create.

(HSTS, nosniff and no-store on every answer are checked on every cell of the access matrix.)
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts.models import User

ROOT = Path(settings.BASE_DIR)


def production_environment() -> dict[str, str]:
    """The production values documented in README.md (Production) and .env.example."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Production", 1)[1].split("\n## ", 1)[0]
    exported = re.search(r"export (.*?)\n\S", section, re.S).group(1)
    values = dict(re.findall(r"([A-Z_]+)=(\S+)", exported.replace("\\\n", " ")))
    values.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        JWT_SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL="",
    )
    return values


def test_the_documented_production_settings_pass_check_deploy(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_"))}
    env.update(production_environment(), VAR_DIR=str(tmp_path))
    assert env["DEBUG"] == "False"
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_production_settings_are_documented_in_env_example():
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for key in production_environment():
        if key not in ("SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_URL"):
            assert re.search(rf"^#? ?{key}=", example, re.M), key


@pytest.mark.parametrize(
    "password", ["short1", "password1234", "12345678901234", "sec_viewer-x", "qwertyuiop"]
)
def test_weak_passwords_are_refused(db, password):
    user = User(username="sec_viewer", email="sec_viewer@hospital.example")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_password_validators_are_on():
    names = [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert {"MinimumLengthValidator", "CommonPasswordValidator"} <= set(names)
    minimum = next(
        v
        for v in settings.AUTH_PASSWORD_VALIDATORS
        if v["NAME"].endswith("MinimumLength" + "Validator")
    )
    assert minimum["OPTIONS"]["min_length"] >= 10


@pytest.mark.django_db
def test_a_migrated_database_has_no_accounts():
    assert User.objects.count() == 0


def test_only_the_quickstart_command_creates_an_account():
    pattern = re.compile(r"(?<!class )\bUser\(|create_superuser|create_user\(")
    folders = ("accounts", "audit", "core", "studies", "reports", "ingest", "analysis", "config",
               "web", "sampledata", "operations")  # fmt: skip
    creators = sorted(
        path.relative_to(ROOT).as_posix()
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts and pattern.search(path.read_text(encoding="utf-8"))
    )
    assert creators == ["operations/management/commands/quickstart.py"]
