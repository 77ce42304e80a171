"""What the product runs from (a snapshot of the working tree) and on (the machine)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from runall import common
from runall.common import BENCH, DATA, PRODUCT_PY, ROOT, log
from runall.db import Database, last_json, product_run


def take_snapshot(dest_root: Path, wait_s: float) -> dict:
    """Copy the working tree (tracked and untracked, not ignored files) to a fresh folder, once
    ``manage.py check`` passes there: colleagues may be half-way through an edit, so retry."""
    deadline = time.monotonic() + wait_s
    attempt = 0
    while True:
        attempt += 1
        dest = dest_root / f"snapshot_{time.strftime('%Y%m%d_%H%M%S')}"
        listing = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout.split(b"\0")  # fmt: skip
        copied = 0
        for raw in listing:
            if not raw:
                continue
            rel = raw.decode()
            src = ROOT / rel
            if rel.startswith("bench/") or not src.is_file():
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
            copied += 1
        env = dict(os.environ, DATABASE_URL="", DB_ENGINE="sqlite3",
                   DB_NAME=str(dest / "var" / "check.sqlite3"))  # fmt: skip
        check = subprocess.run([str(PRODUCT_PY), "manage.py", "check"], cwd=str(dest), env=env,
                               capture_output=True, text=True, timeout=300)  # fmt: skip
        if check.returncode == 0:
            log(f"snapshot of the working tree: {copied} files in {dest}")
            return {"dir": str(dest), "files": copied, "taken": time.strftime("%H:%M:%S"),
                    "attempts": attempt}  # fmt: skip
        shutil.rmtree(dest, ignore_errors=True)
        reason = (check.stderr or check.stdout).strip().splitlines()[-1:] or ["?"]
        if time.monotonic() > deadline:
            raise SystemExit(f"the working tree does not pass manage.py check: {reason[0]}")
        log(f"working tree does not pass manage.py check yet ({reason[0]}); retrying in 30 s")
        time.sleep(30)


def machine_info(db: Database | None) -> dict:
    mem_kb = 0
    with Path("/proc/meminfo").open() as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    info = {
        "nproc": os.cpu_count(),
        "mem_gb": round(mem_kb / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                 capture_output=True, text=True).stdout.strip(),  # fmt: skip
        "dirty": bool(subprocess.run(["git", "status", "--porcelain"],
                                     cwd=ROOT, capture_output=True, text=True).stdout.strip()),
    }  # fmt: skip
    if db is not None:
        try:
            info["pg_version"] = last_json(product_run(db, [BENCH / "dbtool.py", "info"]))[
                "version"
            ]
        except (Exception, SystemExit) as exc:  # e.g. the database is not made yet
            info["pg_version"] = f"unknown ({str(exc).splitlines()[0]})"
    return info


def start_run(no_snapshot: bool, wait_s: float) -> dict | None:
    """The product's code from a snapshot (unless ``no_snapshot``), and SIGTERM / SIGHUP turned
    into SystemExit, so that the caller's ``finally`` stops every child process."""
    snapshot = None
    if not no_snapshot:
        snapshot = take_snapshot(DATA / "snapshots", wait_s)
        common.PRODUCT_DIR = Path(snapshot["dir"])

    def on_signal(signum, _frame):
        raise SystemExit(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    return snapshot
