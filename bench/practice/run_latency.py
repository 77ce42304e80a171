"""A practice run's end-to-end time with the scripted patient and an idle worker.

    .venv/bin/python bench/practice/run_latency.py [--runs 200] [--database sqlite|postgresql]

From the moment ``POST /api/threads/run`` is sent until a ``GET /api/runs/{id}/status`` says
``completed`` (the reply is then in the thread), through the whole product: the contract's
HTTP stack (in process, Django's test client: middleware, auth, audit), the database queue
(django-tasks-db) and a real ``run_analysis_worker`` process with its default settings. Each
run waits a random 0-150 ms before it starts, so runs arrive at random moments of the idle
worker's polling cycle, as learners do. The status is polled every 10 ms (each poll is a real, audited request).

It creates its own database (SQLite: a temporary file; PostgreSQL: ``practice_bench`` on
127.0.0.1, dropped afterwards), prints a table of median / p95 / max milliseconds, then one
JSON line with the same figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CASE = {
    "patient": {"name": "Margaret Hill", "age": 67, "sex": "F"},
    "opening": "Hello doctor. I've had this pain in my chest since yesterday.",
    "unknown_answer": "I'm not sure, I'm afraid.",
    "empathy_answer": "Thank you, that's kind.",
    "hidden": {"diagnosis": "pulmonary embolism"},
    "facts": [
        {
            "topic": "onset",
            "answer": "It came on suddenly yesterday evening.",
            "questions": ["when did it begin"],
            "volunteer": False,
        },
        {
            "topic": "character",
            "answer": "It's sharp, and worse when I breathe in.",
            "questions": ["what does the pain feel like"],
            "volunteer": False,
        },
    ],
}
QUESTIONS = [
    "Hello, I'm Dr Lee. What brings you in today?",
    "When did the pain start?",
    "What does the pain feel like?",
    "That sounds really worrying.",
    "Have you had any fever?",
]


def _environment(database: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"DEBUG": "False", "LOG_LEVEL": "WARNING", "DB_CONN_MAX_AGE": "60"})
    env.update({"PRACTICE_PATIENT_ENGINE": "scripted", "ANALYSIS_RECOVERY_INTERVAL_SECONDS": "0"})
    if database == "postgresql":
        env.update(
            {
                "DB_ENGINE": "postgresql",
                "DB_NAME": "practice_bench",
                "DB_USER": os.environ.get("DB_USER", "postgres"),
                "DB_HOST": os.environ.get("DB_HOST", "127.0.0.1"),
            }
        )
    else:
        env.update({"DB_ENGINE": "sqlite3", "DB_NAME": str(tmp / "bench.sqlite3")})
    return env


def _postgres(sql: str, env: dict[str, str]) -> None:
    import psycopg

    with psycopg.connect(
        host=env["DB_HOST"], user=env["DB_USER"], dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(sql)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_dir:
        env = _environment(args.database, Path(tmp_dir))
        if args.database == "postgresql":
            _postgres("DROP DATABASE IF EXISTS practice_bench", env)
            _postgres("CREATE DATABASE practice_bench", env)
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        try:
            return _bench(args, env, Path(tmp_dir))
        finally:
            from django.db import connections

            connections.close_all()
            if args.database == "postgresql":
                _postgres("DROP DATABASE IF EXISTS practice_bench WITH (FORCE)", env)


def _bench(args: argparse.Namespace, env: dict[str, str], tmp: Path) -> int:
    from django.test import Client

    from accounts.models import Role, User
    from practice.models import Scenario

    User.objects.create_user(username="bench", password="bench-pass-9x", role=Role.LEARNER)
    scenario = Scenario.objects.create(scenario_text="Margaret Hill, 67, chest pain.", case=CASE)
    login = Client(SERVER_NAME="localhost").post(
        "/api/v1/auth/login",
        {"username": "bench", "password": "bench-pass-9x"},
        content_type="application/json",
    )
    client = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")

    log = (tmp / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_analysis_worker", "--no-startup-delay"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    timings: list[float] = []
    try:
        time.sleep(2.0)  # the worker is up and idle
        rng = random.Random(7)
        thread_id = ""
        # Run -1 is a warm-up, not counted: the first request of this process builds the
        # contract's URL and schema caches, as a web process does once after it starts.
        for i in range(-1, args.runs):
            if i % 10 == 0 or i < 0:  # conversations of ten turns, as a learner's
                thread_id = client.post(
                    "/api/threads", {"scenario_id": scenario.pk}, content_type="application/json"
                ).json()["thread_id"]
            client.post(
                f"/api/threads/{thread_id}/messages",
                {"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]},
                content_type="application/json",
            )
            time.sleep(rng.uniform(0, 0.15))
            start = time.perf_counter()
            response = client.post(
                "/api/threads/run", {"thread_id": thread_id}, content_type="application/json"
            )
            run_id = response.json()["run_id"]
            while True:
                status = client.get(f"/api/runs/{run_id}/status?thread_id={thread_id}").json()
                if status["status"] != "queued" and status["status"] != "in_progress":
                    break
                time.sleep(0.01)
            elapsed = (time.perf_counter() - start) * 1000
            if status["status"] != "completed":
                print(f"run {i} ended {status}", file=sys.stderr)
                return 1
            if i >= 0:
                timings.append(elapsed)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
        log.close()

    from practice.models import Run

    ordered = sorted(timings)
    # Where the time goes: waiting in the queue (request to the worker's claim) and the
    # worker's production (claim to the reply stored), from the runs' own timestamps.
    rows = Run.objects.order_by("id").values_list("created_at", "started_at", "finished_at")[1:]
    waits = [(s - c).total_seconds() * 1000 for c, s, _ in rows]
    works = [(f - s).total_seconds() * 1000 for _, s, f in rows]
    figures = {
        "runs": len(timings),
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
        "max_ms": round(ordered[-1], 1),
        "queue_wait_median_ms": round(statistics.median(waits), 1),
        "worker_median_ms": round(statistics.median(works), 1),
    }
    print(
        f"{'database':<12}{'runs':>6}{'median ms':>12}{'p95 ms':>10}{'max ms':>10}"
        f"{'queue wait ms':>15}{'worker ms':>11}"
    )
    print(
        f"{args.database:<12}{figures['runs']:>6}{figures['median_ms']:>12}"
        f"{figures['p95_ms']:>10}{figures['max_ms']:>10}"
        f"{figures['queue_wait_median_ms']:>15}{figures['worker_median_ms']:>11}"
    )
    print(
        json.dumps(
            {
                "bench": "practice_run_latency",
                "database": args.database,
                **figures,
                "python": platform.python_version(),
                "machine": platform.machine(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
