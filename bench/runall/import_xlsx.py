"""The import step: manage.py import_excel of the data set's .xlsx into an empty database,
then again (upsert), with the importer's time, peak memory and CPU."""

from __future__ import annotations

import os
import subprocess
import threading
import time

from runall import common
from runall.common import BENCH, PRODUCT_PY, log
from runall.db import Database, last_json, product_run
from runall.procs import Procs


def run_measured(cmd: list[str], env: dict, procs: Procs, timeout: float) -> dict:
    """Run a command; wall time and its own peak RSS (wait4's ru_maxrss), bounded in time."""
    p = subprocess.Popen(cmd, env=env, cwd=str(common.PRODUCT_DIR), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    procs.items.append(p)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: p.stdout.read(4096), b"")))
    reader.start()
    import load

    t0 = time.perf_counter()
    busy0 = load.machine_busy_seconds()
    deadline = t0 + timeout
    status = rusage = None
    while time.perf_counter() < deadline:
        pid, status, rusage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.2)
    seconds = round(time.perf_counter() - t0, 1)
    if rusage is None or not pid:
        procs.stop(p)
        reader.join(5)
        return {
            "timeout_s": timeout,
            "output_tail": b"".join(chunks).decode(errors="replace")[-800:],
        }
    p.returncode = os.waitstatus_to_exitcode(status)
    busy = load.machine_busy_seconds() - busy0
    procs.items.remove(p)
    reader.join(5)
    return {
        "exit": p.returncode,
        "seconds": seconds,
        "peak_rss_mb": round(rusage.ru_maxrss / 1024, 1),
        # Its own CPU, and the whole machine's busy CPU time (both cores) meanwhile: what
        # else ran shows as their difference.
        "cpu_s": round(rusage.ru_utime + rusage.ru_stime, 1),
        "machine_busy_s": round(busy, 1),
        "output_tail": b"".join(chunks).decode(errors="replace")[-800:],
    }


def step_import(n: int, args, procs: Procs) -> dict:
    """manage.py import_excel into an empty database, then the same file again (upsert)."""
    db = Database("postgresql", f"{args.pg_db}_import", args)
    probe = subprocess.run(
        [str(PRODUCT_PY), "manage.py", "help", "import_excel"], env=db.env(), cwd=str(common.PRODUCT_DIR),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if probe.returncode != 0:
        log("import: manage.py import_excel does not exist yet -> not available")
        return {"available": False, "reason": "manage.py import_excel not found"}
    files = last_json(
        product_run(
            db,
            [BENCH / "gen_db.py", "-n", n, "--seed", args.seed, "--files-only", "--xlsx"],
            timeout=3600,
        )  # fmt: skip
    )["files"]
    out = {"available": True, "xlsx": files["xlsx"], "rows": n}
    product_run(db, [BENCH / "dbtool.py", "dropdb", db.name], check=False)
    product_run(db, [BENCH / "dbtool.py", "createdb", db.name])
    product_run(db, ["manage.py", "migrate", "-v0"])
    for label in ("empty", "upsert"):
        # What the earlier steps left to write (the gen step: gigabytes) is written first, so
        # that neither import pays for it; the files the generator just wrote too.
        out[label + "_settled"] = last_json(product_run(db, [BENCH / "dbtool.py", "settle"]))
        out[label] = run_measured(
            [str(PRODUCT_PY), "manage.py", "import_excel", files["xlsx"]], db.env(), procs,
            args.import_timeout,
        )  # fmt: skip
        v = out[label]
        log(
            f"  import ({label}): {v.get('seconds')} s, exit {v.get('exit')}, peak {v.get('peak_rss_mb')} MB, "
            f"CPU {v.get('cpu_s')} s (machine busy {v.get('machine_busy_s')} s; settled first: "
            f"{out[label + '_settled']})"
        )
    return out
