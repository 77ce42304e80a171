"""The application servers: the product under gunicorn / gthread / uvicorn / granian, the
legacy FastAPI service, and the servers step that picks the production server by load."""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import time

from runall import common
from runall.client import http_get
from runall.common import EXTRAS, LEGACY, PRODUCT_PY, RESULTS, SERVER_KINDS, TARGETS, log
from runall.db import Database
from runall.procs import Procs, descendants, free_port, mem_status


def server_cmd(kind: str, port: int) -> list:
    bind = f"127.0.0.1:{port}"
    gunicorn = [PRODUCT_PY, "-m", "gunicorn", "config.wsgi", "--bind", bind, "--workers", "2"]
    # --timeout long enough for a 1M-row .xlsx export, which sends nothing until it is written
    # (the README's production line says 120 s, which would kill a 1M-row .xlsx export)
    gunicorn += ["--timeout", "900", "--log-level", "warning"]
    if kind == "gunicorn":
        return gunicorn
    if kind == "gthread":
        # 2 threads, no keep-alive (README, Production): a free thread of either worker takes
        # the next connection, which kept p95 lowest; with keep-alive one worker could hold
        # most connections while the other idled.
        return [*gunicorn, "--worker-class", "gthread", "--threads", "2", "--keep-alive", "0"]
    if kind == "uvicorn":
        return [PRODUCT_PY, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
                "--port", port, "--workers", "2", "--log-level", "warning", "--no-access-log"]  # fmt: skip
    if kind == "granian":
        return [PRODUCT_PY, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
                "--port", port, "--workers", "2", "--blocking-threads", "4",
                "--log-level", "warning", "config.wsgi:application"]  # fmt: skip
    raise ValueError(kind)


def install_server_extras() -> None:
    """uvicorn for the product's interpreter, beside it (pip --target), so that the servers
    step compares it too without making it a dependency of the product."""
    if server_available("uvicorn"):
        return
    pin = next(
        line.strip()
        for line in (LEGACY / "requirements.txt").read_text().splitlines()
        if line.startswith("uvicorn")
    )
    log(f"installing {pin} into {EXTRAS} for the servers step")
    subprocess.run(
        [str(PRODUCT_PY), "-m", "pip", "install", "-q", "--target", str(EXTRAS), pin],
        check=False,
    )


def server_available(kind: str) -> bool:
    module = "gunicorn" if kind in ("gunicorn", "gthread") else kind
    env = dict(os.environ, PYTHONPATH=str(EXTRAS))
    r = subprocess.run(
        [str(PRODUCT_PY), "-c", f"import {module}"], env=env, capture_output=True, timeout=60
    )
    return r.returncode == 0


class Server:
    def __init__(self, kind: str, db: Database, procs: Procs, tag: str = "") -> None:
        self.kind, self.db, self.procs = kind, db, procs
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = db.env()
        if kind == "uvicorn":
            # only uvicorn comes from the extras; granian is the product's own dependency
            env["PYTHONPATH"] = str(EXTRAS)
        if kind == "uvicorn":
            # Persistent connections under ASGI gave 500s (issue notes): one per request there.
            env["DB_CONN_MAX_AGE"] = "0"
        self.log_path = RESULTS / "logs" / f"server_{kind}{tag}_{self.port}.log"
        self.proc = procs.start(
            server_cmd(kind, self.port), env=env, cwd=common.PRODUCT_DIR, log_path=self.log_path
        )
        self.token: str | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.kind} exited; see {self.log_path}")
            try:
                status, _, _ = http_get(self.base, "/api/v1/health", timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"{self.kind} not ready after {timeout}s; see {self.log_path}")

    def login(self, username: str, password: str) -> str:
        body = json.dumps({"username": username, "password": password}).encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("POST", "/api/v1/auth/login", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        data = json.loads(r.read() or b"{}")
        conn.close()
        if r.status != 200 or "access" not in data:
            raise SystemExit(f"login failed at {self.base}: {r.status} {data}")
        self.token = data["access"]
        return self.token

    def workers(self) -> list[int]:
        return descendants(self.pid)

    def memory(self) -> dict[int, dict]:
        return {pid: mem_status(pid) for pid in [self.pid, *self.workers()]}

    def stop(self) -> None:
        self.procs.stop(self.proc)


def start_product(kind: str, db: Database, procs: Procs, user: tuple[str, str], tag="") -> Server:
    server = Server(kind, db, procs, tag)
    server.wait_ready()
    server.login(*user)
    return server


def start_legacy(duckdb_path: str, procs: Procs) -> Server:
    port = free_port()

    class Legacy(Server):
        def __init__(self) -> None:
            self.kind, self.procs = "legacy", procs
            self.port = port
            self.base = f"http://127.0.0.1:{port}"
            self.log_path = RESULTS / "logs" / f"legacy_{port}.log"
            self.proc = procs.start(
                [sys.executable, LEGACY / "legacy_fastapi" / "app.py", "--db", duckdb_path,
                 "--port", port, "--workers", "2"],
                env=dict(os.environ), cwd=LEGACY, log_path=self.log_path,
            )  # fmt: skip
            self.token = None

    legacy = Legacy()
    legacy.wait_ready(timeout=120)
    return legacy


def step_servers(db, params_path, procs, user, args) -> dict:
    """The realistic mix at --servers-c clients on each server kind, interleaved rounds."""
    import load

    install_server_extras()
    kinds = [k for k in SERVER_KINDS if server_available(k)]
    missing = [k for k in SERVER_KINDS if k not in kinds]
    if missing:
        log(f"servers not installed (skipped): {', '.join(missing)}")
    servers = {k: start_product(k, db, procs, user, tag="_cmp") for k in kinds}
    mix = load.load_json(str(LEGACY / "mixes" / "realistic.json"))
    plan = load.build_plan(mix, load.load_json(params_path), 1, load.PLAN_LENGTH)
    runs: dict[str, list] = {k: [] for k in kinds}
    try:
        for rnd in range(args.servers_rounds):
            for k in kinds:
                s = servers[k]
                cfg = load.Config(
                    s.base, plan, args.servers_c, args.servers_d, 2.0,
                    load.auth_headers(s.token, []), 200_000, 30.0, "aiohttp",
                    start_offset=rnd * 10_000, server_pids=[s.pid],
                )  # fmt: skip
                r = load.run(cfg)
                runs[k].append(r)
                log(
                    f"  {k:<9} round {rnd + 1}: {r['rps']} rps, p95 {r['latency_ms']['p95']} ms, "
                    f"errors {r['errors']}, {r.get('server_cpu_ms_per_request')} CPU ms/req, "
                    f"other busy {r.get('other_busy_cores')}"
                )
                time.sleep(1)
    finally:
        for s in servers.values():
            s.stop()
    summary = {}
    for k, rs in runs.items():
        summary[k] = {
            "rps": statistics.median(r["rps"] for r in rs),
            "p50": statistics.median(r["latency_ms"]["p50"] for r in rs),
            "p95": statistics.median(r["latency_ms"]["p95"] for r in rs),
            "p99": statistics.median(r["latency_ms"]["p99"] for r in rs),
            "errors": sum(r["errors"] for r in rs),
            "cpu_ms_per_request": statistics.median(
                r.get("server_cpu_ms_per_request") or 0 for r in rs
            ),
            "other_busy_cores": statistics.median(r.get("other_busy_cores") or 0 for r in rs),
            "rounds_rps": [r["rps"] for r in rs],
        }
    clean = [k for k in kinds if summary[k]["errors"] == 0] or kinds
    # Chosen by the load target: the most requests/s among those whose p95 stays within the
    # target (else among all without errors). The rounds are interleaved, so every server
    # sees the same share of the other tenants' noise.
    within = [k for k in clean if summary[k]["p95"] <= TARGETS["load_p95_ms"]] or clean
    best = max(within, key=lambda k: summary[k]["rps"])
    return {
        "concurrency": args.servers_c,
        "duration_s": args.servers_d,
        "rounds": args.servers_rounds,
        "not_installed": missing,
        "summary": summary,
        "recommended": best,
        "runs": runs,
    }
