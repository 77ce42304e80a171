#!/usr/bin/env python3
"""The whole performance suite in one command: every figure of the performance issue's targets.

    python3.11 bench/run_all.py                       # 1,000,000 studies on PostgreSQL mip_bench_1m
    python3.11 bench/run_all.py -n 100000 --pg-db mip_bench_100k
    python3.11 bench/run_all.py -n 100000 --steps sqlite      # SQLite at 100K only

It re-executes itself under ``bench/.venv`` (created from ``bench/legacy/requirements.txt`` when
missing). Steps (``--steps``, comma-separated, default all):

  gen      generate the data set if missing: PostgreSQL (bench/gen_db.py, COPY) + legacy DuckDB
  servers  gunicorn sync / gunicorn gthread (2 threads) / uvicorn / granian (those installed),
           2 workers each, the realistic mix at 100 clients, interleaved rounds: the one with
           the most req/s whose p95 is within target and no errors is recommended (used later
           with --server auto)
  search   single client, per query class: cold (first request after an import of the data
           the class searches: its data-version bump + that import's cache warm-up)
           and warm medians / p95; filter options; detail; report search q (Chinese, English)
  parity   the same search URLs against the legacy and the product: totals and rows compared
  compare  100 clients x 60 s, the legacy's realistic mix, legacy (A) and product (B)
           interleaved A B A B (bench/legacy/compare.py), each run after 30 s of the same load
           unmeasured (--load-warmup); then the product alone on the mix extended with report
           search; then the product alone right after an import (bump + warm-up, no warm-up load)
  export   1M-row (all studies) CSV and .xlsx export through the API: total time, time to first
           byte, the server workers' peak RSS (VmHWM) before and after
  import   manage.py import_excel of the N-row .xlsx into an empty database, then again (upsert):
           time and peak RSS; "not available" while the command does not exist
  sqlite   the search step again on SQLite with --sqlite-n studies (default 100,000)

Everything runs on 127.0.0.1, each load bounded in time and requests, every process started in
its own process group and killed on the way out. Results: a table on stdout, and
bench/results/run_<stamp>.json and .md (the .md is what docs/performance.md shows).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"
EXTRAS = VENV / "server-extras"  # uvicorn / granian for the product's interpreter (pip --target)
PRODUCT_PY = ROOT / ".venv" / "bin" / "python"
# Where the product's code is run from: the checkout, or (default) a snapshot of its working
# tree taken at the start, so that edits made while the suite runs cannot change or break it.
PRODUCT_DIR = ROOT
RESULTS = BENCH / "results"
DATA = BENCH / "data"
LEGACY = BENCH / "legacy"

ALL_STEPS = ["gen", "servers", "search", "parity", "compare", "export", "import", "sqlite"]
SERVER_KINDS = ["gunicorn", "gthread", "uvicorn", "granian"]


def ensure_bench_venv() -> None:
    """Run under bench/.venv (aiohttp for the load client, FastAPI + DuckDB for the legacy)."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {VENV} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "-r", str(LEGACY / "requirements.txt")],
            check=True,
        )
    os.execv(str(py), [str(py), str(Path(__file__).resolve()), *sys.argv[1:]])


def log(msg: str) -> None:
    print(f"[run_all {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ processes


class Procs:
    """Every child in its own process group; stop() kills the group, stop_all() all of them."""

    def __init__(self) -> None:
        self.items: list[subprocess.Popen] = []

    def start(self, cmd: list[str], *, env: dict, cwd: Path, log_path: Path) -> subprocess.Popen:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        out = log_path.open("ab")  # closed with the process
        p = subprocess.Popen(
            [str(c) for c in cmd],
            env=env,
            cwd=str(cwd),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        p._bench_log = out  # type: ignore[attr-defined]
        self.items.append(p)
        return p

    def stop(self, p: subprocess.Popen, timeout: float = 15.0) -> None:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
        else:  # the leader is gone; its group may not be
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
        log_file = getattr(p, "_bench_log", None)
        if log_file:
            log_file.close()
        if p in self.items:
            self.items.remove(p)

    def stop_all(self) -> None:
        for p in list(reversed(self.items)):
            self.stop(p)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_bytes().decode("latin-1")
        except OSError:
            continue
        ppid = int(raw[raw.rfind(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    tree, out, stack = proc_children(), [], [pid]
    while stack:
        for c in tree.get(stack.pop(), []):
            out.append(c)
            stack.append(c)
    return out


def db_backend_cpu(dbname: str | None) -> dict[int, float]:
    """CPU seconds per PostgreSQL backend connected to ``dbname`` (process titles read
    "postgres: USER DBNAME ..."). Parallel-query workers and backends that exit between two
    readings are not counted, so this is a lower bound."""
    out: dict[int, float] = {}
    if not dbname:
        return out
    needle = f" {dbname} ".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            if not cmdline.startswith(b"postgres: ") or needle not in cmdline:
                continue
            raw = (entry / "stat").read_bytes().decode("latin-1")
        except OSError:
            continue
        rest = raw[raw.rfind(")") + 2 :].split()
        out[int(entry.name)] = (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")
    return out


def db_cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def mem_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a process, MB."""
    out = {}
    try:
        with Path(f"/proc/{pid}/status").open() as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out


# ------------------------------------------------------------------------------ product side


class Database:
    def __init__(self, kind: str, name: str, args) -> None:
        self.kind, self.name, self.args = kind, name, args

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            DATABASE_URL="",
            DEBUG="False",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
            PYTHONDONTWRITEBYTECODE="1",
            MIP_PRODUCT_DIR=str(PRODUCT_DIR),
        )
        for key in ("VIRTUAL_ENV", "PYTHONHOME"):
            env.pop(key, None)
        if self.kind == "postgresql":
            env.update(
                DB_ENGINE="postgresql",
                DB_NAME=self.name,
                DB_USER=self.args.pg_user,
                DB_PASSWORD=self.args.pg_password,
                DB_HOST=self.args.pg_host,
                DB_PORT=str(self.args.pg_port),
            )
        else:
            env.update(DB_ENGINE="sqlite3", DB_NAME=self.name)
        return env

    def label(self) -> str:
        return f"PostgreSQL {self.name}" if self.kind == "postgresql" else f"SQLite {self.name}"


def product_run(db: Database, args: list, timeout: float = 600, check: bool = True) -> str:
    r = subprocess.run(
        [str(PRODUCT_PY), *[str(a) for a in args]],
        env=db.env(),
        cwd=str(PRODUCT_DIR),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and r.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed:\n{r.stderr[-3000:]}")
    if r.stderr.strip():
        for line in r.stderr.strip().splitlines()[-8:]:
            log(f"  | {line}")
    return r.stdout


def last_json(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError(f"no JSON in {text[-500:]!r}")


class DbHelper:
    """bench/dbtool.py serve: bumps the data versions on request (what an import does)."""

    def __init__(self, db: Database, procs: Procs) -> None:
        self.p = subprocess.Popen(
            [str(PRODUCT_PY), str(BENCH / "dbtool.py"), "serve"],
            env=db.env(),
            cwd=str(PRODUCT_DIR),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        procs.items.append(self.p)

    def bump(self, *names: str) -> None:
        """Bump the data versions of ``names`` (default: studies and reports) and warm them."""
        self.p.stdin.write(" ".join(["bump", *names]) + "\n")
        self.p.stdin.flush()
        answer = self.p.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError(f"dbtool bump: {answer!r}")

    def close(self, procs: Procs) -> None:
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.flush()
            self.p.wait(5)
        except Exception:
            pass
        procs.stop(self.p)


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
            server_cmd(kind, self.port), env=env, cwd=PRODUCT_DIR, log_path=self.log_path
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


def http_get(base: str, path: str, headers: dict | None = None, timeout: float = 60):
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        conn.close()


class Client:
    """One client on one keep-alive connection (reconnecting when the server closes it)."""

    def __init__(self, base: str, token: str | None = None, timeout: float = 120) -> None:
        u = urllib.parse.urlsplit(base)
        self.host, self.port, self.timeout = u.hostname, u.port, timeout
        self.headers = {"Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, float, bytes]:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            t0 = time.perf_counter()
            try:
                self.conn.request("GET", path, headers=self.headers)
                r = self.conn.getresponse()
                body = r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    return -1, (time.perf_counter() - t0) * 1000, b""
                continue
            ms = (time.perf_counter() - t0) * 1000
            if r.will_close:
                self.conn.close()
                self.conn = None
            return r.status, ms, body
        raise AssertionError

    def close(self) -> None:
        if self.conn:
            self.conn.close()
            self.conn = None


# ------------------------------------------------------------------------------ statistics


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = max(0, -(-len(s) * p // 100) - 1)  # nearest rank
    return round(s[int(k)], 2)


def stats(values: list[float]) -> dict:
    return {
        "n": len(values),
        "median": round(statistics.median(values), 2) if values else None,
        "p95": pct(values, 95),
        "max": round(max(values), 2) if values else None,
    }


# ------------------------------------------------------------------------------ query classes


def q(path: str, **params) -> str:
    return path + "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})


S = "/api/v1/studies/search"
R = "/api/v1/reports/search"
REPORT_TERMS_ZH = ["结节", "积液", "骨折", "脑梗死", "结石", "囊肿", "钙化", "狭窄", "增生", "肺炎"]
REPORT_TERMS_EN = ["nodule", "effusion", "pneumonia", "hemorrhage", "cyst", "stenosis", "fracture",
                   "Degenerative", "opacity", "No acute"]  # fmt: skip
# Report search by finding (issue 24): the findings table read at import, by key, assertion and
# size; common and rare findings, each assertion, and the example (nodule >= 8 mm).
REPORT_FINDINGS = [
    {"finding": "nodule"}, {"finding": "nodule", "min_size_mm": 8},
    {"finding": "pleural_effusion", "assertion": "absent"}, {"finding": "hemorrhage"},
    {"finding": "fracture", "assertion": "absent"}, {"finding": "calcification"},
    {"finding": "pneumonia", "assertion": "uncertain"}, {"finding": "infarct"},
    {"finding": "kidney_stone"}, {"finding": "cardiomegaly", "assertion": "absent"},
]  # fmt: skip


def read_params(files: dict) -> dict:
    """params.json, with gen_db's pinyin search terms (``search_terms``) where it wrote them."""
    params = json.loads(Path(files["params"]).read_text(encoding="utf-8"))
    if files.get("search_terms"):
        params["search_terms"] = json.loads(Path(files["search_terms"]).read_text("utf-8"))
    return params


def pinyin_classes(params: dict, pick) -> dict[str, list[str]]:
    """The pinyin searches (full pinyin with and without the space between surname and given
    name, initials), a name with a word of that patient's items, and a patient's history."""
    extra = params.get("search_terms") or {"pinyin": {}, "name_item": []}
    readings = [extra["pinyin"][name] for name in pick(sorted(extra["pinyin"]))]
    # half as typed without a space (zhangwei), half with one after the surname (zhang wei)
    half = len(readings) // 2
    pinyin = [full for full, _, _ in readings[:half]] + [spaced for *_, spaced in readings[half:]]
    return {
        "q_pinyin": [q(S, q=t, page=1, page_size=20) for t in pinyin],
        "q_initials": [q(S, q=initials, page=1, page_size=20) for _, initials, _ in readings],
        "q_name_item": [
            q(S, q=f"{name} {word}", page=1, page_size=20)
            for name, word in pick(extra["name_item"])
        ],
        "patient_history": [
            f"/api/v1/patients/{mrn}/studies?page=1&page_size=20"
            for mrn in pick(params["medical_record_nos"])
        ],
    }


def search_classes(params: dict, n: int, k: int = 10) -> dict[str, list[str]]:
    """Query class -> K distinct URLs, drawn from the data's params.json (terms that exist)."""
    rng = random.Random(20251029)
    terms = params["q_terms"]
    zh_names = [x for x in terms["name_full"] if not x.isascii()]
    latin_names = [x for x in terms["name_full"] if x.isascii()]
    two = [x for x in zh_names if len(x) == 2]
    three = [x for x in zh_names if len(x) >= 3]
    pick = lambda pool, m=k: rng.sample(pool, min(m, len(pool)))  # noqa: E731
    statuses, sources = params["exam_statuses"], params["exam_sources"]
    equipment, items = params["equipment_types"], params["exam_items"]
    last_page = max(1, -(-n // 20))
    far = min(5000, last_page)
    combos = [
        {"exam_status": rng.choice(statuses[:3]), "exam_source": rng.choice(sources[:4]),
         "equipment_type": rng.choice(equipment)}
        for _ in range(k)
    ]  # fmt: skip
    # filters that keep a third or more of the rows
    unselective = [{"exam_status": "已审核" if "已审核" in statuses else statuses[0]},
                   {"exam_source": "门诊"}, {"exam_source": "住院"}, {"equipment_type": "CT"},
                   {"patient_gender": "M"}, {"patient_gender": "F"}]  # fmt: skip
    start = 737060  # 2019-01-01 ordinal .. the export date
    import datetime as dt

    span = (dt.date(2025, 10, 29).toordinal() - start) or 1
    dates = []
    for i in range(k):
        d0 = dt.date.fromordinal(start + rng.randrange(span))
        d1 = d0 + dt.timedelta(days=6 if i % 2 == 0 else 29)
        dates.append({"date_from": d0.isoformat(), "date_to": d1.isoformat()})
    return {
        "no_filter": [q(S, page=p, page_size=20) for p in (1, 2, 3, 4, 5, 6, 8, 10, 20, 50)][:k],
        "one_filter": [q(S, exam_item=i, page=1, page_size=20) for i in pick(items)],
        "three_filters": [q(S, **c, page=1, page_size=20) for c in combos],
        "unselective": [q(S, **f, page=1, page_size=20) for f in unselective],
        "q_zh_1char": [q(S, q=s, page=1, page_size=20) for s in terms["surname"][:k]],
        "q_zh_2char": [q(S, q=s, page=1, page_size=20) for s in pick(two)],
        "q_zh_3char": [q(S, q=s, page=1, page_size=20) for s in pick(three)],
        "q_latin": [
            q(S, q=s, page=1, page_size=20)
            for s in (terms["latin_fragment"] + pick(latin_names))[:k]
        ],  # fmt: skip
        "mrn": [q(S, q=m, page=1, page_size=20) for m in pick(params["medical_record_nos"])],
        "date_range": [q(S, **d, page=1, page_size=20) for d in dates],
        "page_1": [q(S, page=1, page_size=20)],
        f"page_{far}": [q(S, page=far, page_size=20)],
        "options": ["/api/v1/studies/filters/options"],
        "detail": [f"/api/v1/studies/{e}" for e in pick(params["exam_ids"])],
        "report_q_zh": [q(R, q=t, page=1, page_size=20) for t in REPORT_TERMS_ZH[:k]],
        "report_q_en": [q(R, q=t, page=1, page_size=20) for t in REPORT_TERMS_EN[:k]],
        "report_finding": [q(R, **f, page=1, page_size=20) for f in REPORT_FINDINGS[:k]],
        **pinyin_classes(params, pick),
    }


def only_classes(classes: dict[str, list[str]], args) -> dict[str, list[str]]:
    """The classes --classes names (all without it), on PostgreSQL and on SQLite alike."""
    if not args.classes:
        return classes
    return {k: v for k, v in classes.items() if k in args.classes.split(",")}


def measure_one(
    client: Client, helper: DbHelper, urls: list[str], args, server_pid: int, pg_name: str | None
) -> dict:
    import load

    # The budget is shared so that slow classes still get warm samples: cold samples until 40 %
    # of it, warm-up until 70 %, warm samples until 100 % (and at least 10 of them, within 2x).
    start = time.monotonic()
    budget = args.class_budget
    deadline = start + 0.4 * budget
    cold: list[float] = []
    warm: list[float] = []
    statuses: dict[int, int] = {}
    # A cold sample follows an import of the data the class searches (a reports import for
    # report search): that table's version is bumped and its warm-up run, as the import would.
    data = "reports" if urls[0].startswith(R) else "studies"
    for i in range(args.cold):
        if time.monotonic() > deadline:
            break
        helper.bump(data)
        status, ms, _ = client.get(urls[i % len(urls)])
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            cold.append(ms)
    # every worker process must have seen each URL once for its cache to be warm
    deadline = start + 0.7 * budget
    for _ in range(args.warmup_passes):
        for u in urls:
            if time.monotonic() < deadline:
                client.get(u)
    deadline, hard_stop = start + budget, start + 2 * budget
    i = 0
    cpu0, t0 = load.tree_cpu_seconds([server_pid]), time.perf_counter()
    db0 = db_backend_cpu(pg_name)
    busy0 = load.machine_busy_seconds()
    while len(warm) < args.warm and (
        time.monotonic() < deadline
        or (len(warm) < min(10, args.warm) and time.monotonic() < hard_stop)
    ):
        status, ms, _ = client.get(urls[i % len(urls)])
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            warm.append(ms)
        i += 1
    cpu1, t1 = load.tree_cpu_seconds([server_pid]), time.perf_counter()
    db1 = db_backend_cpu(pg_name)
    busy1 = load.machine_busy_seconds()
    total = None
    if urls[0].startswith((S, R)):
        with contextlib.suppress(ValueError, AttributeError):
            total = json.loads(client.get(urls[0])[2]).get("total")
    return {
        "cold": stats(cold),
        "warm": stats(warm),
        "errors": sum(v for k, v in statuses.items() if k != 200),
        # the app server's own CPU per warm request (the database's is not included): steadier
        # than wall-clock time on a shared machine; machine_busy_cores shows the contention
        "warm_server_cpu_ms": round((cpu1 - cpu0) * 1000 / max(1, i), 2),
        "warm_db_cpu_ms": round(db_cpu_delta(db0, db1) * 1000 / max(1, i), 2) if pg_name else None,
        "machine_busy_cores": round((busy1 - busy0) / max(1e-6, t1 - t0), 2),
        "status": {str(k): v for k, v in sorted(statuses.items())},
        "example": urllib.parse.unquote(urls[0]),
        "example_total": total,
    }


def measure_classes(server: Server, helper: DbHelper, classes: dict, args) -> dict:
    """Cold: the first request after a bump of the searched data's version (counts and filter
    lists recomputed by its warm-up), one bump per sample. Warm: after every URL of the class
    was requested --warmup-passes times."""
    client = Client(server.base, server.token)
    out = {}
    try:
        for name, urls in classes.items():
            pg_name = server.db.name if server.db.kind == "postgresql" else None
            out[name] = measure_one(client, helper, urls, args, server.pid, pg_name)
            c, w = out[name]["cold"], out[name]["warm"]
            log(
                f"  {name:<14} cold med {c['median']} p95 {c['p95']} | warm med {w['median']} "
                f"p95 {w['p95']} ms (n={w['n']}, app CPU {out[name]['warm_server_cpu_ms']} ms, "
                f"db CPU {out[name]['warm_db_cpu_ms']} ms, "
                f"busy {out[name]['machine_busy_cores']} cores, errors {out[name]['errors']}, total {out[name]['example_total']})"
            )
    finally:
        client.close()
    return out


# ------------------------------------------------------------------------------ steps


def step_gen(db: Database, n: int, args) -> dict:
    if db.kind == "postgresql":
        product_run(db, [BENCH / "dbtool.py", "createdb", db.name])
    t0 = time.perf_counter()
    out = product_run(db, [BENCH / "gen_db.py", "-n", n, "--seed", args.seed], timeout=3600)
    result = last_json(out)
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    # The findings of the reports, as an import reads them (only those not read yet).
    t0 = time.perf_counter()
    out = product_run(db, [ROOT / "manage.py", "extract_report_findings"], timeout=7200)
    result["findings"] = out.strip().splitlines()[-1] if out.strip() else ""
    result["findings_wall_s"] = round(time.perf_counter() - t0, 1)
    return result


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


def step_parity(product: Server, legacy: Server, params: dict) -> dict:
    """Same URLs to both: totals and the page's rows must agree (the product's q also matches
    identifiers, so only name/text terms are compared)."""
    rng = random.Random(3)
    terms = params["q_terms"]
    urls = [q(S, page=p, page_size=20) for p in (1, 2, 7)]
    urls += [q(S, q=t, page=1, page_size=20) for t in rng.sample(terms["name_full"], 8)]
    urls += [
        q(S, q=t, page=1, page_size=20) for t in terms["surname"][:3] + terms["description"][:3]
    ]
    urls += [q(S, exam_item=i, page=2, page_size=20) for i in rng.sample(params["exam_items"], 4)]
    urls += [q(S, exam_status=params["exam_statuses"][0], exam_source="门诊", page=3, page_size=20)]
    urls += [f"/api/v1/studies/{e}" for e in rng.sample(params["exam_ids"], 5)]
    urls += ["/api/v1/studies/filters/options"]
    a, b = Client(legacy.base), Client(product.base, product.token)
    same, diffs = 0, []
    try:
        for u in urls:
            sa, _, ba = a.get(u)
            sb, _, bb = b.get(u)
            ja = json.loads(ba) if sa == 200 else {"status": sa}
            jb = json.loads(bb) if sb == 200 else {"status": sb}
            if ja == jb:
                same += 1
            else:
                keys = [k for k in set(ja) | set(jb) if ja.get(k) != jb.get(k)]
                diffs.append({"url": urllib.parse.unquote(u), "differs_in": sorted(keys)})
    finally:
        a.close()
        b.close()
    return {"urls": len(urls), "identical": same, "diffs": diffs[:10]}


def write_product_params(params_path: str) -> str:
    """params.json + report search terms, for the mix extended with report search."""
    params = json.loads(Path(params_path).read_text(encoding="utf-8"))
    params["report_terms"] = REPORT_TERMS_ZH + REPORT_TERMS_EN
    out = Path(params_path).with_suffix(".product.json")
    out.write_text(json.dumps(params, ensure_ascii=False), encoding="utf-8")
    return str(out)


def step_compare(product: Server, legacy: Server, params_path: str, stamp: str, args) -> dict:
    out_json = RESULTS / f"compare_{stamp}.json"
    cmd = [
        sys.executable, LEGACY / "compare.py",
        "--a", legacy.base, "--a-name", "legacy", "--a-pid", legacy.pid,
        "--b", product.base, "--b-name", "product", "--b-pid", product.pid,
        "--b-token", product.token, "--params", params_path,
        "--mix", LEGACY / "mixes" / "realistic.json",
        "-c", args.load_c, "-d", args.load_d, "--rounds", args.rounds,
        "--warmup", args.load_warmup, "--max-requests", 500_000, "--json-out", out_json,
    ]  # fmt: skip
    budget = args.rounds * 2 * (args.load_d + args.load_warmup + 1 + 40) + 120
    log(
        f"compare: legacy vs product, c={args.load_c}, {args.rounds} rounds x "
        f"({args.load_warmup:g}s warm-up + {args.load_d:g}s)"
    )
    r = subprocess.run([str(c) for c in cmd], cwd=str(LEGACY), capture_output=True, text=True,
                       timeout=budget)  # fmt: skip
    (RESULTS / "logs").mkdir(parents=True, exist_ok=True)
    (RESULTS / "logs" / f"compare_{stamp}.txt").write_text(r.stdout + r.stderr, encoding="utf-8")
    print(r.stdout, flush=True)
    if r.returncode != 0:
        raise SystemExit(f"compare.py failed:\n{r.stderr[-3000:]}")
    report = json.loads(out_json.read_text(encoding="utf-8"))
    cell = report["cells"][0]
    total = cell["summary"]["ALL"]
    runs = cell["runs"]
    ratios = [b["rps"] / a["rps"] for a, b in ((x["a"], x["b"]) for x in runs) if a["rps"]]
    return {
        "concurrency": args.load_c,
        "duration_s": args.load_d,
        "warmup_s": args.load_warmup,
        "rounds": args.rounds,
        "legacy": {
            "rps": total["rps"]["a"],
            "p50": total["p50"]["a"],
            "p95": total["p95"]["a"],
            "p99": total["p99"]["a"],
            "errors": total["errors"]["a"],
            "cpu_ms_per_request": total.get("cpu_ms_per_request", {}).get("a"),
        },
        "product": {
            "rps": total["rps"]["b"],
            "p50": total["p50"]["b"],
            "p95": total["p95"]["b"],
            "p99": total["p99"]["b"],
            "errors": total["errors"]["b"],
            "cpu_ms_per_request": total.get("cpu_ms_per_request", {}).get("b"),
        },
        "rps_ratio_median": round(statistics.median(ratios), 2) if ratios else None,
        "rps_ratio_rounds": [round(x, 2) for x in ratios],
        "cpu_ratio": total.get("cpu_ms_per_request", {}).get("ratio"),
        "other_busy_cores": total.get("other_busy_cores"),
        "per_class": {
            cls: {
                "legacy_p95": row["p95"]["a"],
                "product_p95": row["p95"]["b"],
                "legacy_errors": row["errors"]["a"],
                "product_errors": row["errors"]["b"],
            }
            for cls, row in cell["summary"].items()
        },  # fmt: skip
        "json": str(out_json),
    }


def product_load(product: Server, mix: dict, params: dict, args, label: str) -> dict:
    """The product alone under ``mix``: 100 clients (--load-c) for --load-d seconds, measured
    from the first request (no warm-up)."""
    import load

    plan = load.build_plan(mix, params, 1, load.PLAN_LENGTH)
    cfg = load.Config(
        product.base, plan, args.load_c, args.load_d, 0.0, load.auth_headers(product.token, []),
        500_000, 30.0, "aiohttp", server_pids=[product.pid],
    )  # fmt: skip
    log(f"{label}, c={args.load_c}, {args.load_d}s")
    r = load.run(cfg)
    print(load.format_table(r), flush=True)
    return {
        "concurrency": args.load_c,
        "duration_s": args.load_d,
        "rps": r["rps"],
        "p50": r["latency_ms"]["p50"],
        "p95": r["latency_ms"]["p95"],
        "p99": r["latency_ms"]["p99"],
        "errors": r["errors"],
        "cpu_ms_per_request": r.get("server_cpu_ms_per_request"),
        "other_busy_cores": r.get("other_busy_cores"),
        "classes": {
            k: {
                "rps": v["rps"],
                "p50": v["latency_ms"]["p50"],
                "p95": v["latency_ms"]["p95"],
                "errors": v["errors"],
            }
            for k, v in r["classes"].items()
        },  # fmt: skip
        "error_samples": r.get("error_samples", [])[:5],
    }


def step_extended_mix(product: Server, params_path: str, args) -> dict:
    import load

    mix = load.load_json(str(BENCH / "mixes" / "realistic_reports.json"))
    params = load.load_json(write_product_params(params_path))
    return product_load(product, mix, params, args, "product alone, mix with report search")


def step_after_import(product: Server, helper: DbHelper, params_path: str, args) -> dict:
    """The first minute after an import: a data-version bump and the import's warm-up, then the
    legacy's realistic mix at once, every term and filter combination computed afresh."""
    import load

    helper.bump()
    mix = load.load_json(str(LEGACY / "mixes" / "realistic.json"))
    return product_load(
        product, mix, load.load_json(params_path), args, "product alone, right after an import"
    )


def export_once(server: Server, fmt: str, timeout: float) -> dict:
    """Download the whole export; time to first body byte, total, workers' peak RSS."""
    before = server.memory()
    peak_rss = {pid: m.get("VmRSS", 0) for pid, m in before.items()}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            for pid in server.workers():
                rss = mem_status(pid).get("VmRSS", 0)
                peak_rss[pid] = max(peak_rss.get(pid, 0), rss)
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    t0 = time.perf_counter()
    try:
        conn.request("GET", q("/api/v1/studies/export", format=fmt),
                     headers={"Authorization": f"Bearer {server.token}"})  # fmt: skip
        r = conn.getresponse()
        t_headers = time.perf_counter() - t0
        first = r.read1(65536)
        ttfb = time.perf_counter() - t0
        nbytes, newlines = len(first), first.count(b"\n")
        while True:
            chunk = r.read1(1 << 20)
            if not chunk:
                break
            nbytes += len(chunk)
            newlines += chunk.count(b"\n")
        total = time.perf_counter() - t0
        status = r.status
        disposition = r.getheader("Content-Disposition")
    finally:
        conn.close()
        stop.set()
        sampler.join()
    time.sleep(0.5)
    after = server.memory()
    workers = [pid for pid in after if pid != server.pid]
    return {
        "format": fmt,
        "status": status,
        "content_disposition": disposition,
        "total_s": round(total, 2),
        "headers_s": round(t_headers, 3),
        "first_byte_s": round(ttfb, 3),
        "mb": round(nbytes / 1e6, 1),
        "csv_rows": newlines - 1 if fmt == "csv" else None,
        "workers_hwm_before_mb": {str(p): before.get(p, {}).get("VmHWM") for p in workers},
        "workers_hwm_after_mb": {str(p): after[p].get("VmHWM") for p in workers},
        "workers_rss_peak_sampled_mb": {str(p): peak_rss.get(p) for p in workers},
        "max_hwm_mb": max((after[p].get("VmHWM", 0) for p in workers), default=None),
        "max_hwm_growth_mb": max(
            (after[p].get("VmHWM", 0) - (before.get(p, {}).get("VmHWM") or 0) for p in workers),
            default=None,
        ),
    }


def step_export(kind: str, db: Database, procs: Procs, user, args) -> dict:
    out = {}
    for fmt in ("csv", "xlsx"):
        server = start_product(kind, db, procs, user, tag=f"_export_{fmt}")
        try:
            Client(server.base, server.token).get(
                "/api/v1/studies/filters/options"
            )  # warm a worker
            log(f"export {fmt} of every study ...")
            out[fmt] = export_once(server, fmt, timeout=args.export_timeout)
            e = out[fmt]
            log(
                f"  {fmt}: {e['total_s']} s total, first byte {e['first_byte_s']} s, {e['mb']} MB, "
                f"workers' peak RSS {e['max_hwm_mb']} MB (+{e['max_hwm_growth_mb']} MB)"
            )
        finally:
            server.stop()
    return out


def run_measured(cmd: list[str], env: dict, procs: Procs, timeout: float) -> dict:
    """Run a command; wall time and its own peak RSS (wait4's ru_maxrss), bounded in time."""
    p = subprocess.Popen(cmd, env=env, cwd=str(PRODUCT_DIR), stdout=subprocess.PIPE,
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
        [str(PRODUCT_PY), "manage.py", "help", "import_excel"], env=db.env(), cwd=str(PRODUCT_DIR),
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


# ------------------------------------------------------------------------------ report


TARGETS = {
    "search_median_ms": 15,
    "search_p95_ms": 50,
    "options_ms": 5,
    "detail_ms": 5,
    "report_q_p95_ms": 50,
    "load_rps": 300,
    "load_p95_ms": 500,
    "legacy_ratio": 10,
    "import_empty_s": 60,
    "import_upsert_s": 120,
    "import_peak_mb": 1024,
    "export_csv_s": 10,
    "export_xlsx_s": 30,
    "export_first_byte_s": 1,
    "sqlite_p95_ms": 100,
}
SEARCH_CLASS_ORDER = ["no_filter", "one_filter", "three_filters", "unselective", "q_zh_1char",
                      "q_zh_2char", "q_zh_3char", "q_latin", "q_pinyin", "q_initials",
                      "q_name_item", "mrn", "patient_history", "date_range", "page_1"]  # fmt: skip


def ok(flag: bool | None) -> str:
    return "—" if flag is None else ("met" if flag else "**NOT met**")


def fmt_ms(v) -> str:
    return "—" if v is None else (f"{v:.1f}" if v < 100 else f"{v:.0f}")


def verdict(s: dict, limit_median, limit_p95, errors: int) -> bool | None:
    if s["median"] is None:
        return None
    good = errors == 0
    if limit_median is not None:
        good = good and s["median"] <= limit_median
    if limit_p95 is not None:
        good = good and s["p95"] <= limit_p95
    return good


def search_rows(
    search: dict, p95_limit: float, median_limit: float | None, sqlite=False
) -> list[str]:
    rows = []
    names = [c for c in SEARCH_CLASS_ORDER if c in search] + sorted(
        c for c in search if c.startswith("page_") and c != "page_1"
    )
    others = [
        c for c in ("options", "detail", "report_q_zh", "report_q_en", "report_finding")
        if c in search
    ]  # fmt: skip
    for name in names + others:
        r = search[name]
        c, w = r["cold"], r["warm"]
        if sqlite:  # the SQLite target: every class p95 <= 100 ms
            limit_m, limit_p = None, p95_limit
        elif name in ("options", "detail"):
            limit_m, limit_p = TARGETS[f"{name}_ms"], None
        elif name.startswith("report_"):
            limit_m, limit_p = None, TARGETS["report_q_p95_ms"]
        else:
            limit_m, limit_p = median_limit, p95_limit

        vw = verdict(w, limit_m, limit_p, r["errors"])
        vc = verdict(c, limit_m, limit_p, r["errors"])
        rows.append(
            f"| {name} | {fmt_ms(w['median'])} | {fmt_ms(w['p95'])} | {ok(vw)} | "
            f"{fmt_ms(c['median'])} | {fmt_ms(c['p95'])} | {ok(vc)} | "
            f"{fmt_ms(r.get('warm_server_cpu_ms'))} | {fmt_ms(r.get('warm_db_cpu_ms'))} | "
            f"{r.get('machine_busy_cores', '')} | {r['errors']} | "
            f"{r['example_total'] if r['example_total'] is not None else ''} | `{r['example']}` |"
        )
    return rows


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [
        f"Run {result['started']} · commit `{m['commit']}` · {m['nproc']} cores, "
        f"{m['mem_gb']} GB RAM · {m.get('pg_version', '')} · Python {m['python']}",
        "",
        f"Command: `{result['command']}`"
        + (
            f" (product code: a snapshot of the working tree at {result['snapshot']['taken']}"
            + (", which had uncommitted changes" if m.get("dirty") else "")
            + ")"
            if result.get("snapshot")
            else ""
        ),
        "",
        f"Data: {result['n']:,} studies, {result.get('reports', 0):,} reports "
        f"({result['database']}); server: **{result.get('server')}** with 2 workers.",
        "",
    ]
    if "servers" in result:
        s = result["servers"]
        lines += [
            f"### Production server choice (realistic mix, {s['concurrency']} clients, "
            f"{s['rounds']} interleaved rounds x {s['duration_s']:g} s)",
            "",
            "| server | req/s (median) | p50 ms | p95 ms | p99 ms | errors | server CPU ms/req |",
            "|---|---|---|---|---|---|---|",
        ]
        for k, v in s["summary"].items():
            lines.append(
                f"| {k} | {v['rps']:.0f} | {fmt_ms(v['p50'])} | {fmt_ms(v['p95'])} | "
                f"{fmt_ms(v['p99'])} | {v['errors']} | {v['cpu_ms_per_request']:.1f} |"
            )
        lines += ["", f"Recommended by this run (most req/s with p95 within target, no errors): **{s['recommended']}**"
                  + (f" (not installed: {', '.join(s['not_installed'])})" if s["not_installed"] else ""),
                  ""]  # fmt: skip
    if "search" in result:
        lines += [
            "### Search, single client (ms, end to end; target median ≤ 15 and p95 ≤ 50; "
            "options and detail median ≤ 5; report q p95 ≤ 50)",
            "",
            "| class | warm median | warm p95 | warm | cold median | cold p95 | cold | app CPU ms | DB CPU ms | busy cores | errors | total | example |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
            *search_rows(result["search"], TARGETS["search_p95_ms"], TARGETS["search_median_ms"]),
            "",
            "Cold = the first request after an import of the data the class searches (studies; "
            "reports for report search): that data's version bumped, then the import's warm-up "
            "(studies' `warm_caches`: filter lists, one grouped count that totals every "
            "combination of the exact-match filters, the per-character counts that total a "
            "one-character term, the edges of the date walk's windows, the bookmarks of every "
            "10,000th row of the date order (where a deep unfiltered page starts), and the first "
            "page of no filter and of each single filter value; reports': filter lists, the first page of "
            "all reports, the counts of frequent characters and pairs of characters, the date "
            "walk's edges); every other page and every other count of a `q` or date search is "
            "computed by that request. Warm = after each URL was requested "
            f"{result.get('warmup_passes', 3)} times (each worker keeps answers in its memory, "
            "in front of the cache table they share). "
            "App CPU / DB CPU = CPU ms per warm request of the app server's processes / of the "
            "PostgreSQL backends serving them; busy cores = the whole machine's during the warm samples.",
            "",
        ]
    if "parity" in result:
        p = result["parity"]
        lines += [f"Parity with the legacy on the same data: {p['identical']}/{p['urls']} "
                  "responses identical.", ""]  # fmt: skip
    if "compare" in result:
        c = result["compare"]
        lp, pp = c["legacy"], c["product"]
        ratio = c["rps_ratio_median"]
        lines += [
            f"### {c['concurrency']} concurrent clients x {c['duration_s']:g} s, realistic mix "
            f"(A B A B, {c['rounds']} rounds, each after {c.get('warmup_s', 2):g} s of the same "
            "load unmeasured; medians)",
            "",
            "| system | req/s | p50 ms | p95 ms | p99 ms | errors | server CPU ms/req |",
            "|---|---|---|---|---|---|---|",
            f"| legacy (FastAPI + DuckDB) | {lp['rps']:.1f} | {fmt_ms(lp['p50'])} | {fmt_ms(lp['p95'])} | "
            f"{fmt_ms(lp['p99'])} | {lp['errors']} | {lp['cpu_ms_per_request'] or 0:.1f} |",
            f"| product | {pp['rps']:.1f} | {fmt_ms(pp['p50'])} | {fmt_ms(pp['p95'])} | "
            f"{fmt_ms(pp['p99'])} | {pp['errors']} | {pp['cpu_ms_per_request'] or 0:.1f} |",
            "",
            f"Product / legacy req/s: **{ratio}x** (rounds {c['rps_ratio_rounds']}); processes "
            f"other than the server and the client (PostgreSQL included) kept "
            f"{(c['other_busy_cores'] or {}).get('a', 0):.2f} / {(c['other_busy_cores'] or {}).get('b', 0):.2f} "
            "cores busy during the legacy / product runs. Targets: 0 errors "
            f"{ok(pp['errors'] == 0)}, ≥ 300 req/s {ok(pp['rps'] >= 300)}, p95 ≤ 500 ms "
            f"{ok(pp['p95'] <= 500)}, ≥ 10x legacy {ok(ratio is not None and ratio >= 10)}.",
            "",
        ]
    if "extended" in result:
        e = result["extended"]
        lines += [
            f"Product alone, the mix extended with report search ({e['concurrency']} clients x "
            f"{e['duration_s']:g} s): {e['rps']:.1f} req/s, p50 {fmt_ms(e['p50'])} / p95 "
            f"{fmt_ms(e['p95'])} / p99 {fmt_ms(e['p99'])} ms, {e['errors']} errors; per class p95: "
            + ", ".join(f"{k} {fmt_ms(v['p95'])}" for k, v in e["classes"].items()),
            "",
        ]
    if "after_import" in result:
        e = result["after_import"]
        lines += [
            f"The first minute after an import (a data-version bump and the import's warm-up, "
            f"then the realistic mix at once, measured from the first request; the product "
            f"alone, {e['concurrency']} clients x {e['duration_s']:g} s): {e['rps']:.1f} req/s, "
            f"p50 {fmt_ms(e['p50'])} / p95 {fmt_ms(e['p95'])} / p99 {fmt_ms(e['p99'])} ms, "
            f"{e['errors']} errors; per class p95: "
            + ", ".join(f"{k} {fmt_ms(v['p95'])}" for k, v in e["classes"].items()),
            "",
        ]
    if "export" in result:
        lines += [
            "### Export of every study through the API",
            "",
            "| format | total s | first byte s | MB | rows | workers' peak RSS MB (growth) | target |",
            "|---|---|---|---|---|---|---|",
        ]
        for fmt, e in result["export"].items():
            limit = TARGETS[f"export_{fmt}_s"]
            good = e["status"] == 200 and e["total_s"] <= limit and e["first_byte_s"] <= 1
            lines.append(
                f"| {fmt} | {e['total_s']} | {e['first_byte_s']} | {e['mb']} | "
                f"{e['csv_rows'] if e['csv_rows'] is not None else ''} | {e['max_hwm_mb']:.0f} "
                f"(+{e['max_hwm_growth_mb']:.0f}) | ≤ {limit} s, first byte ≤ 1 s: {ok(good)} |"
            )
        lines.append("")
    if "import" in result:
        i = result["import"]
        lines += ["### Import of the .xlsx (manage.py import_excel)", ""]
        if not i.get("available"):
            lines += [f"Not available: {i.get('reason')}.", ""]
        else:
            for label, limit in (("empty", 60), ("upsert", 120)):
                v = i.get(label, {})
                lines.append(
                    f"- {label}: {v.get('seconds')} s (≤ {limit} s: "
                    f"{ok(v.get('seconds') is not None and v['seconds'] <= limit and v.get('exit') == 0)}), "
                    f"peak RSS {v.get('peak_rss_mb')} MB (≤ 1024: {ok(v.get('peak_rss_mb') is not None and v['peak_rss_mb'] <= 1024)}); "
                    f"the importer's CPU {v.get('cpu_s')} s, the machine busy {v.get('machine_busy_s')} "
                    f"CPU s meanwhile (both cores; PostgreSQL included)"
                )
            lines.append("")
    if "sqlite" in result:
        sq = result["sqlite"]
        lines += [
            f"### SQLite, {sq['n']:,} studies (target: every search class p95 ≤ 100 ms)",
            "",
            "| class | warm median | warm p95 | warm | cold median | cold p95 | cold | app CPU ms | DB CPU ms | busy cores | errors | total | example |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
            *search_rows(sq["search"], TARGETS["sqlite_p95_ms"], None, sqlite=True),
            "",
        ]
    return "\n".join(lines)


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


# ------------------------------------------------------------------------------ main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("-n", type=int, default=1_000_000, help="studies (default 1,000,000)")
    ap.add_argument("--pg-db", help="PostgreSQL database (default mip_bench_<n>)")
    ap.add_argument("--pg-host", default=os.environ.get("PGHOST", "127.0.0.1"))
    ap.add_argument("--pg-port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    ap.add_argument("--pg-user", default=os.environ.get("PGUSER", "postgres"))
    ap.add_argument("--pg-password", default=os.environ.get("PGPASSWORD", ""))
    ap.add_argument("--seed", type=int, default=20251029)
    ap.add_argument("--steps", default=",".join(ALL_STEPS), help=f"from {','.join(ALL_STEPS)}")
    ap.add_argument("--server", default="auto", choices=[*SERVER_KINDS, "auto"],
                    help="server for the later steps; auto = the servers step's pick (gunicorn without that step)")  # fmt: skip
    ap.add_argument("--cold", type=int, default=10, help="cold samples per class")
    ap.add_argument("--classes", help="only these query classes (comma-separated names)")
    ap.add_argument("--warmup-passes", type=int, default=3, help="warm-up passes over the URLs")
    ap.add_argument("--warm", type=int, default=40, help="warm samples per class")
    # 40 % of the budget holds 10 cold samples, each after a bump and the import's warm-up
    # (how long that takes at 1M: bench/README.md, the search step)
    ap.add_argument("--class-budget", type=float, default=150, help="seconds per class at most")
    ap.add_argument("--load-c", type=int, default=100)
    ap.add_argument("--load-d", type=float, default=60)
    ap.add_argument("--load-warmup", type=float, default=30,
                    help="unmeasured seconds of the same load before each compare run (≤ 30)")  # fmt: skip
    ap.add_argument("--rounds", type=int, default=2, help="A B pairs for the legacy comparison")
    ap.add_argument("--servers-c", type=int, default=100)
    ap.add_argument("--servers-d", type=float, default=20)
    ap.add_argument("--servers-rounds", type=int, default=2)
    ap.add_argument("--sqlite-n", type=int, default=100_000)
    ap.add_argument("--export-timeout", type=float, default=600)
    ap.add_argument("--import-timeout", type=float, default=900)
    ap.add_argument("--tag", default="", help="suffix for the result files")
    ap.add_argument(
        "--no-snapshot",
        action="store_true",
        help="run the product from the checkout itself, not from a snapshot of it",
    )
    ap.add_argument("--keep-snapshot", action="store_true", help="keep the snapshot folder")
    ap.add_argument(
        "--snapshot-wait",
        type=float,
        default=900,
        help="seconds to wait for a working tree that passes manage.py check",
    )
    ap.add_argument("--render", metavar="JSON", help="only print the Markdown of a results JSON")
    args = ap.parse_args(argv)
    if args.render:
        print(markdown(json.loads(Path(args.render).read_text(encoding="utf-8"))))
        return 0
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = set(steps) - set(ALL_STEPS)
    if unknown:
        ap.error(f"unknown steps {unknown}")
    if not args.pg_db:
        args.pg_db = "mip_bench_1m" if args.n == 1_000_000 else f"mip_bench_{args.n}"
    if not args.pg_db.startswith("mip_bench"):
        ap.error("use a database named mip_bench_* (the benchmark reloads it)")
    if not PRODUCT_PY.exists():
        ap.error(f"{PRODUCT_PY} missing: run scripts/install.sh first")
    sys.path.insert(0, str(LEGACY))

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d_%H%M%S") + (f"_{args.tag}" if args.tag else "")
    global PRODUCT_DIR
    snapshot = None
    if not args.no_snapshot:
        snapshot = take_snapshot(DATA / "snapshots", args.snapshot_wait)
        PRODUCT_DIR = Path(snapshot["dir"])
    procs = Procs()

    def on_signal(signum, _frame):
        raise SystemExit(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    pg = Database("postgresql", args.pg_db, args)
    pg_steps = [s for s in steps if s != "sqlite"]
    result: dict = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": "python3.11 bench/run_all.py " + " ".join(sys.argv[1:]),
        "n": args.n,
        "database": pg.label() if pg_steps else "—",
        "steps": steps,
        "machine": machine_info(pg if pg_steps else None),
        "loadavg_at_start": os.getloadavg(),
        "product_dir": str(PRODUCT_DIR),
        "snapshot": snapshot,
        "warmup_passes": args.warmup_passes,
    }
    user = ("bench", secrets.token_urlsafe(18))
    json_path = RESULTS / f"run_{stamp}.json"
    md_path = RESULTS / f"run_{stamp}.md"

    def save() -> None:
        json_path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        md_path.write_text(markdown(result), encoding="utf-8")

    try:
        files = None
        if pg_steps:
            if "gen" in steps:
                log(f"gen: {args.n:,} studies into {pg.label()}")
                result["gen"] = step_gen(pg, args.n, args)
                files = result["gen"]["files"]
            else:
                files = last_json(product_run(pg, [BENCH / "gen_db.py", "-n", args.n, "--seed",
                                                   args.seed, "--files-only"]))["files"]  # fmt: skip
            info = last_json(product_run(pg, [BENCH / "dbtool.py", "info"]))
            result["reports"] = info["reports_report"]
            if info["studies_study"] != args.n:
                raise SystemExit(f"{pg.name} holds {info['studies_study']} studies, not {args.n}: "
                                 "run with the gen step")  # fmt: skip
            product_run(pg, [BENCH / "dbtool.py", "user", *user])
            params = read_params(files)
            save()

        kind = args.server if args.server != "auto" else "gunicorn"
        if "servers" in steps:
            log("servers: choosing the production server by measurement")
            result["servers"] = step_servers(pg, files["params"], procs, user, args)
            if args.server == "auto":
                kind = result["servers"]["recommended"]
            save()
        result["server"] = kind

        needs_product = {"search", "parity", "compare"} & set(steps)
        if needs_product:
            product = start_product(kind, pg, procs, user)
            first = Client(product.base, product.token)
            result["first_request_after_start_ms"] = round(
                first.get(q(S, page=1, page_size=20))[1], 1
            )
            first.close()
            if "search" in steps:
                classes = search_classes(params, args.n)
                classes = only_classes(classes, args)
                log(f"search: single client on {kind}, {pg.label()}")
                helper = DbHelper(pg, procs)
                try:
                    result["search"] = measure_classes(product, helper, classes, args)
                finally:
                    helper.close(procs)
                save()
            if {"parity", "compare"} & set(steps):
                legacy = start_legacy(files["duckdb"], procs)
                if "parity" in steps:
                    result["parity"] = step_parity(product, legacy, params)
                    log(
                        f"parity: {result['parity']['identical']}/{result['parity']['urls']} identical"
                    )
                    save()
                if "compare" in steps:
                    result["compare"] = step_compare(product, legacy, files["params"], stamp, args)
                    save()
                    procs.stop(legacy.proc)
                    result["extended"] = step_extended_mix(product, files["params"], args)
                    save()
                    helper = DbHelper(pg, procs)
                    try:
                        result["after_import"] = step_after_import(
                            product, helper, files["params"], args
                        )
                    finally:
                        helper.close(procs)
                    save()
                procs.stop(legacy.proc)
            product.stop()

        if "export" in steps:
            result["export"] = step_export(kind, pg, procs, user, args)
            save()
        if "import" in steps:
            result["import"] = step_import(args.n, args, procs)
            save()
        if "sqlite" in steps:
            path = DATA / f"mip_bench_sqlite_{args.sqlite_n}.sqlite3"
            sq = Database("sqlite3", str(path), args)
            log(f"sqlite: {args.sqlite_n:,} studies in {path}")
            gen = step_gen(sq, args.sqlite_n, args)
            product_run(sq, [BENCH / "dbtool.py", "user", *user])
            sq_params = read_params(gen["files"])
            server = start_product(kind, sq, procs, user, tag="_sqlite")
            helper = DbHelper(sq, procs)
            try:
                result["sqlite"] = {
                    "n": args.sqlite_n,
                    "gen": gen,
                    "server": kind,
                    "search": measure_classes(
                        server,
                        helper,
                        only_classes(search_classes(sq_params, args.sqlite_n), args),
                        args,
                    ),
                }
            finally:
                helper.close(procs)
                server.stop()
            save()
    finally:
        procs.stop_all()
        if snapshot and not args.keep_snapshot:
            shutil.rmtree(snapshot["dir"], ignore_errors=True)
        result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        save()
        print(markdown(result), flush=True)
        print(f"\nJSON: {json_path}\nTable: {md_path}", flush=True)
    return 0


if __name__ == "__main__":
    ensure_bench_venv()
    sys.exit(main())
