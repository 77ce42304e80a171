"""Adopting a live Flask database, the way it will happen (SPEC-practice §3).

A fresh database gets the Flask service's own dump (tests/practice/flask/, no Django table);
``manage.py migrate --fake-initial`` adopts it; the Flask service keeps inserting rows naming
only its own columns; Flask users log in by email with their Flask passwords, before and after
``manage.py import_flask_users``, their hashes untouched while ``FLASK_COMPAT`` is on and
upgraded after. The product runs in processes of its own against that database (configured by
the environment, as in production), never against the test runner's database.

The SQLite adoption always runs; the PostgreSQL one runs when the suite runs on PostgreSQL (it
creates and drops a database of its own beside the test database).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
DUMPS = Path(__file__).resolve().parent / "flask"
FLASK_TABLES = {
    "assistant_scenarios",
    "assistant_tags",
    "rubric_questions",
    "categories",
    "subcategories",
    "activities",
    "activity_categories",
    "user",
}
LEE_HASH = "$pbkdf2-sha256$29000$E4Jh/gCbcQ7EG9KIEH4B/w$j76zroHDmbR.QLJHoRgWyrukaAjVVyiuqqLMGpa1bas"
SAM_HASH = "$pbkdf2-sha256$29000$MDEyMzQ1Njc4OWFiY2RlZg$G/O7bynZBig0xpI9OJ2.zH5iXh/vIAuDcj9JVCTUa3k"
WANG_HASH = (
    "$pbkdf2-sha256$12000$qrvM3e7/ABEiM0RVZneImQ$J3rO2WgA02eCVR4w/poy1KMe4YYkST6GKr.L65WrxMA"
)
LATE_HASH = (
    "$pbkdf2-sha256$29000$bGF0ZS1qb2luZXItc2FsdA$Oe66GfICb5SWp2OJE79vB6mdjYewP2hAZm.smrIQWqc"
)

# What the Flask service sends (SQLAlchemy names every column of its model, never the
# product's new ones), in an order that needs each earlier row's id.
FLASK_INSERTS = [
    (
        "INSERT INTO assistant_scenarios (scenario_text, additional_instructions, enable, role, "
        "openid, communication_preferences) VALUES (%s, %s, %s, %s, %s, %s)",
        ("You are Ravi, 45, with back pain.", "", True, "Adult Man", "", None),
    ),
    ("INSERT INTO assistant_tags (tag, scenario_id) VALUES (%s, %s)", ("back pain", 5)),
    (
        "INSERT INTO rubric_questions (question, scenario_id) VALUES (%s, %s)",
        ("Did the student ask about red flags?", 5),
    ),
    (
        "INSERT INTO categories (name, total_required_to_pass) VALUES (%s, %s)",
        ("Closing the session", 2),
    ),
    (
        "INSERT INTO subcategories (name, marking_instructions, category_id) VALUES (%s, %s, %s)",
        ("Safety-netting", "2 if the student says when to come back.", 3),
    ),
    ("INSERT INTO activities (pre_brief, character_id) VALUES (%s, %s)", ("See Ravi.", 5)),
    ("INSERT INTO activity_categories (activity_id, category_id) VALUES (%s, %s)", (3, 3)),
    ("INSERT INTO activity_categories (activity_id, category_id) VALUES (%s, %s)", (3, 1)),
    (
        'INSERT INTO "user" (username, email, password, role) VALUES (%s, %s, %s, %s)',
        ("latejoiner", "Late.Joiner@uni.example", LATE_HASH, "admin"),
    ),
]


@dataclass
class FlaskDatabase:
    """A database holding the Flask service's dump, and how to reach it."""

    vendor: str
    env: dict[str, str]
    connect: Callable[[], object]

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with closing(self.connect()) as conn:
            cursor = conn.cursor()
            cursor.execute(self._sql(sql), params)
            return [tuple(row) for row in cursor.fetchall()]

    def execute(self, statements: list[tuple[str, tuple]]) -> None:
        with closing(self.connect()) as conn:
            cursor = conn.cursor()
            for sql, params in statements:
                cursor.execute(self._sql(sql), params)
            conn.commit()

    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.vendor == "sqlite" else sql


def _product_env(tmp_path: Path, **database: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DB_") and k not in ("DATABASE_URL", "FLASK_COMPAT")
    }
    env.update(
        VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY="adoption-test-secret-key-0123456789abcdef",
        JWT_SECRET_KEY="adoption-test-jwt-key-0123456789abcdef",
        DJANGO_SETTINGS_MODULE="config.settings",
        **database,
    )
    return env


@contextmanager
def sqlite_flask_database(tmp_path: Path) -> Iterator[FlaskDatabase]:
    path = tmp_path / "flask.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript((DUMPS / "sqlite.sql").read_text(encoding="utf-8"))
    env = _product_env(tmp_path, DB_ENGINE="sqlite3", DB_NAME=str(path))
    yield FlaskDatabase("sqlite", env, lambda: sqlite3.connect(path))


@contextmanager
def postgresql_flask_database(tmp_path: Path) -> Iterator[FlaskDatabase]:
    import psycopg

    conf = connection.settings_dict
    name = f"{connection.creation._get_test_db_name()}_flask"[:63]
    params = {
        "host": conf["HOST"] or "localhost",
        "port": conf["PORT"] or "5432",
        "user": conf["USER"],
        "password": conf["PASSWORD"] or None,
    }
    with closing(psycopg.connect(dbname="postgres", autocommit=True, **params)) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with closing(psycopg.connect(dbname=name, autocommit=True, **params)) as conn:
            conn.execute((DUMPS / "postgresql.sql").read_text(encoding="utf-8"))
        env = _product_env(
            tmp_path,
            DB_ENGINE="postgresql",
            DB_NAME=name,
            DB_HOST=params["host"],
            DB_PORT=str(params["port"]),
            DB_USER=params["user"] or "",
            DB_PASSWORD=params["password"] or "",
            DB_CONN_MAX_AGE="0",
        )
        yield FlaskDatabase("postgresql", env, lambda: psycopg.connect(dbname=name, **params))
    finally:
        with closing(psycopg.connect(dbname="postgres", autocommit=True, **params)) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(db: FlaskDatabase, *args: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**db.env, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def probe(db: FlaskDatabase, requests: list[dict], *, flask_compat: bool) -> list[dict]:
    """Answers of the product, run in its own process against the adopted database."""
    result = subprocess.run(
        [sys.executable, str(DUMPS / "probe.py"), json.dumps(requests)],
        cwd=ROOT,
        env={**db.env, "FLASK_COMPAT": "true" if flask_compat else "false"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def login(email: str, password: str) -> dict:
    body = {"username": email, "password": password}
    return {"method": "POST", "path": "/api/v1/auth/login", "body": body}


def me(answer: int) -> dict:
    return {"method": "GET", "path": "/api/v1/auth/me", "token": f"${answer}.access"}


def product_hash(db: FlaskDatabase, email: str) -> str | None:
    rows = db.query("SELECT password FROM accounts_user WHERE email = %s", (email,))
    return rows[0][0] if rows else None


def flask_passwords(db: FlaskDatabase) -> list[tuple]:
    return db.query('SELECT id, password FROM "user" ORDER BY id')


def tables(db: FlaskDatabase) -> set[str]:
    if db.vendor == "sqlite":
        rows = db.query("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = db.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {name for (name,) in rows} - {"sqlite_sequence"}


def adopt_and_check(db: FlaskDatabase) -> None:
    assert tables(db) == FLASK_TABLES  # a Flask database: not one Django table

    output = manage(db, "migrate", "--fake-initial", "--noinput")
    assert "Applying practice.0001_flask_tables... FAKED" in output
    assert "Applying practice.0002_conversations_and_assessments... OK" in output
    assert {"django_migrations", "accounts_user", "practice_conversation"} <= tables(db)
    # Nothing of Flask's was lost or rewritten; the new columns are empty or their default.
    assert db.query(
        "SELECT id, scenario_text, additional_instructions, enable, role, openid, "
        "communication_preferences, language, created_at FROM assistant_scenarios ORDER BY id"
    ) == [
        (
            1,
            "You are Margaret Hill, 67, a retired teacher with chest pain since yesterday.",
            "Stay anxious but polite.",
            True,
            "Elderly Woman",
            "asst_3fQ9kLx2PzA7",
            "Prefers plain words, no jargon.",
            "en",
            None,
        ),
        (
            2,
            "You are Tom, 8, brought in by his mother with a cough.",
            "",
            False,
            "Boy",
            "asst_Bz81mQnR0cYw",
            None,
            "en",
            None,
        ),
        (4, "你是王丽，35岁，头痛三天。", None, True, "Adult Woman", "", None, "en", None),
    ]
    assert db.query("SELECT activity_id, category_id FROM activity_categories ORDER BY 1, 2") == [
        (1, 1),
        (1, 2),
        (2, 2),
    ]
    assert db.query("SELECT id, evidence FROM subcategories ORDER BY id") == [
        (1, None),
        (2, None),
        (3, None),
    ]
    assert flask_passwords(db) == [(1, LEE_HASH), (2, SAM_HASH), (3, db.query(
        'SELECT password FROM "user" WHERE id = 3')[0][0]), (5, WANG_HASH)]  # fmt: skip

    # The Flask service keeps writing, naming only its columns; ids continue after its own.
    db.execute(FLASK_INSERTS)
    assert db.query('SELECT id, language, "case" FROM assistant_scenarios WHERE id = 5') == [
        (5, "en", None)
    ]
    assert db.query("SELECT max(id) FROM activities") == [(3,)]
    assert db.query("SELECT id FROM \"user\" WHERE email = 'Late.Joiner@uni.example'") == [(6,)]
    assert db.query("SELECT count(*) FROM activity_categories WHERE activity_id = 3") == [(2,)]

    # Flask users log in by email before any import, and the Flask hashes stay as they are.
    before = probe(
        db,
        [
            login("WANG.FANG@uni.example", "另一个密码-42"),
            me(0),
            login("late.joiner@UNI.example", "late-joiner-7"),
            login("sam.green@uni.example", "not-the-password"),
            login("nobody@uni.example", "password"),
        ],
        flask_compat=True,
    )
    assert [a["status"] for a in before] == [200, 200, 200, 401, 401]
    assert (before[1]["body"]["username"], before[1]["body"]["role"]) == ("王芳", "learner")
    assert before[2]["body"]["user"]["role"] == "instructor"
    assert before[3]["body"] == {"detail": "Invalid username or password"}
    assert product_hash(db, "wang.fang@uni.example") == WANG_HASH
    assert product_hash(db, "Late.Joiner@uni.example") == LATE_HASH
    assert product_hash(db, "sam.green@uni.example") is None  # a wrong password adopts nobody

    # The import adopts the rest, once.
    assert manage(db, "import_flask_users", FLASK_COMPAT="true").splitlines() == [
        "created Lee@Hospital.example as drlee (instructor)",
        "created sam.green@uni.example as sam (learner)",
        "created sam.white@uni.example as sam-2 (learner)",
        "Flask users: 5; created 3 (1 renamed), already present 2, skipped 0",
    ]
    assert manage(db, "import_flask_users").splitlines() == [
        "Flask users: 5; created 0 (0 renamed), already present 5, skipped 0"
    ]
    assert db.query("SELECT username, role, is_staff FROM accounts_user ORDER BY id") == [
        ("王芳", "learner", False),
        ("latejoiner", "instructor", True),
        ("drlee", "instructor", True),
        ("sam", "learner", False),
        ("sam-2", "learner", False),
    ]

    # During the parallel run a login never rewrites a Flask hash.
    during = probe(db, [login("Lee@hospital.example", "Teach-Me-2024"),
                        login("sam.green@uni.example", "password")], flask_compat=True)  # fmt: skip
    assert [a["status"] for a in during] == [200, 200]
    assert product_hash(db, "Lee@Hospital.example") == LEE_HASH
    assert product_hash(db, "sam.green@uni.example") == SAM_HASH

    # After it, a login upgrades the hash to Django's, and the login made before still works.
    after = probe(
        db,
        [
            login("Lee@Hospital.example", "Teach-Me-2024"),
            {"method": "GET", "path": "/api/v1/auth/me", "token": during[0]["body"]["access"]},
            login("drlee", "Teach-Me-2024"),
            login("lee@hospital.example", "Teach-Me-2023"),
        ],
        flask_compat=False,
    )
    assert [a["status"] for a in after] == [200, 200, 200, 401]
    assert product_hash(db, "Lee@Hospital.example").startswith("pbkdf2_sha256$")
    assert product_hash(db, "sam.green@uni.example") == SAM_HASH  # not logged in since
    # The Flask table itself is never written by the product.
    assert flask_passwords(db)[:2] == [(1, LEE_HASH), (2, SAM_HASH)]

    # And the Flask service's inserts still work after all of this.
    db.execute(FLASK_INSERTS[:1])
    assert db.query("SELECT max(id) FROM assistant_scenarios") == [(6,)]


@pytest.mark.slow
def test_a_flask_sqlite_database_is_adopted(tmp_path):
    with sqlite_flask_database(tmp_path) as db:
        adopt_and_check(db)


@pytest.mark.slow
@pytest.mark.django_db
def test_a_flask_postgresql_database_is_adopted(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("runs when the suite runs on PostgreSQL (DB_ENGINE=postgresql)")
    assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    with postgresql_flask_database(tmp_path) as db:
        adopt_and_check(db)
