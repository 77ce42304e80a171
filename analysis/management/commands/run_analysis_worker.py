"""The background worker (analysis tasks and the practice area's patient replies):
django-tasks-db's ``db_worker`` plus recovery.

Same options as ``db_worker`` (``--queue-name``, ``--interval``, ``--batch``, ``--max-tasks``,
``--worker-id``, ...). Before taking tasks it recovers those a dead worker left behind (and
ends overdue practice runs as ``expired``), and it repeats that every ``--recovery-interval``
seconds in a background thread, so that one surviving worker is enough to rescue the tasks of
a crashed one. Autoreload is off by default
(it restarts the worker mid-task); pass ``--reload`` while developing.
"""

import logging
import threading
from argparse import ArgumentParser

from django.conf import settings
from django.db import connections
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from analysis import services
from practice.conversations import services as practice_runs

logger = logging.getLogger("analysis.worker")


def _recover() -> None:
    try:
        services.analysis_recover_stale()
    except Exception:
        # Recovery must never take the worker down; the next round tries again.
        logger.exception("Recovery of stale analysis tasks failed")
    try:
        # The same worker produces the practice area's patient replies (one task worker).
        practice_runs.runs_expire_overdue()
    except Exception:
        logger.exception("Expiry of overdue practice runs failed")


def _recover_every(interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        _recover()
        connections.close_all()  # this thread's connections only


class Command(DbWorkerCommand):
    help = "Run a background worker for analysis tasks (db_worker + recovery of stale tasks)"

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        # A learner waits for each patient reply (SPEC-practice: a scripted run completes
        # within 300 ms): an idle worker looks for work every 0.05 s, not every second.
        parser.set_defaults(reload=False, interval=0.05)
        parser.add_argument(
            "--recovery-interval",
            type=float,
            default=float(settings.ANALYSIS_RECOVERY_INTERVAL_SECONDS),
            help="seconds between recoveries of stale tasks; 0 recovers only at start "
            "(default: ANALYSIS_RECOVERY_INTERVAL_SECONDS)",
        )

    def handle(self, *args, recovery_interval: float, **options) -> None:
        _recover()
        try:
            practice_runs.patient_engine_warm_up()
        except Exception:
            logger.exception("Warming up the practice patient engine failed")
        stop = threading.Event()
        if recovery_interval > 0:
            threading.Thread(
                target=_recover_every,
                args=(recovery_interval, stop),
                name="analysis-recovery",
                daemon=True,
            ).start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()  # --batch / --max-tasks return here; a signal exits the process anyway
