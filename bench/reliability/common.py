"""Plumbing of the live campaign: processes, databases, the server, an HTTP client, figures.

Everything talks to loopback only. Every process started here runs in its own process group
and is killed (the whole group) on the way out; every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
RESULTS = ROOT / "bench" / "results" / "reliability"
PG = {
    "host": os.environ.get("PGHOST", "127.0.0.1"),
    "port": os.environ.get("PGPORT", "5432"),
    "user": os.environ.get("PGUSER", "postgres"),
}


def log(message: str) -> None:
    print(f"[reliability {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- figures


@dataclass
class Figure:
    """One row of docs/reliability.md: what was checked, how, what came out, and whether the
    figure meets its target."""

    check: str
    method: str
    figure: str
    ok: bool
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def emit(figures: list[Figure]) -> None:
    """The last line of a suite's stdout: its figures as JSON, for run.py."""
    print(json.dumps([f.as_dict() for f in figures], ensure_ascii=False, default=str), flush=True)


@contextlib.contextmanager
def suite(kind: str, tag: str, work: Path) -> Iterator[tuple[Database, Procs]]:
    """A suite's database (``Database.create``) and processes; on the way out, whatever
    happened, the processes stopped, Django's connections closed and the database dropped."""
    procs = Procs()
    db = Database.create(kind, tag, work)
    try:
        yield db, procs
    finally:
        procs.stop_all()
        if db.kind == "postgresql":
            from django.db import connections

            connections.close_all()
        db.drop()


def finish(figures: list[Figure], work: Path) -> int:
    """A suite's end, its processes stopped: the work files removed if every figure passed
    (kept to read otherwise), the figures emitted; the exit status."""
    if figures and all(f.ok for f in figures):
        shutil.rmtree(work, ignore_errors=True)
    else:
        log(f"work files (logs) kept in {work}")
    emit(figures)
    return 0 if all(f.ok for f in figures) else 1


# ---------------------------------------------------------------------------- processes


class Procs:
    """Children in their own process groups; ``stop_all`` kills every group."""

    def __init__(self) -> None:
        self.items: list[subprocess.Popen] = []

    def start(self, cmd: list[str], *, env: dict[str, str], log_path: Path,
              cwd: Path = ROOT) -> subprocess.Popen:  # fmt: skip
        log_path.parent.mkdir(parents=True, exist_ok=True)
        out = log_path.open("ab")  # closed in stop()
        proc = subprocess.Popen(
            [str(c) for c in cmd], env=env, cwd=str(cwd), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        proc.log_file = out  # type: ignore[attr-defined]
        self.items.append(proc)
        return proc

    def kill9(self, proc: subprocess.Popen) -> None:
        """SIGKILL to the whole group: no cleanup of any kind, as when a machine dies."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        self._forget(proc)

    def stop(self, proc: subprocess.Popen, timeout: float = 15.0) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        else:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        self._forget(proc)

    def _forget(self, proc: subprocess.Popen) -> None:
        log_file = getattr(proc, "log_file", None)
        if log_file:
            log_file.close()
        if proc in self.items:
            self.items.remove(proc)

    def stop_all(self) -> None:
        for proc in list(reversed(self.items)):
            self.stop(proc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (Linux /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
                parents.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in parents.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a process, in MB; 0 if it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=False)  # fmt: skip
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True, check=False)  # fmt: skip
    return done.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


# ---------------------------------------------------------------------------- databases


def psql(sql: str, db: str = "postgres", timeout: float = 120) -> str:
    done = subprocess.run(
        ["psql", "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], "-d", db, "-Atqc", sql],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"psql failed: {done.stderr.strip()}")
    return done.stdout.strip()


def postgres_available() -> bool:
    try:
        return psql("SELECT 1") == "1"
    except (OSError, RuntimeError, subprocess.TimeoutExpired):
        return False


@dataclass
class Database:
    """A database of the campaign's own: a PostgreSQL ``mip_rel_*`` or a SQLite file."""

    kind: str  # postgresql | sqlite
    name: str
    port: str = PG["port"]

    @classmethod
    def create(cls, kind: str, tag: str, workdir: Path) -> Database:
        if kind == "postgresql":
            name = f"mip_rel_{tag}_{os.getpid()}"
            psql(f'DROP DATABASE IF EXISTS "{name}"')
            psql(f'CREATE DATABASE "{name}"')
            return cls("postgresql", name)
        return cls("sqlite", str(workdir / f"mip_rel_{tag}.sqlite3"))

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DJANGO_"))}
        env.pop("DATABASE_URL", None)
        if self.kind == "postgresql":
            env.update(DB_ENGINE="postgresql", DB_NAME=self.name, DB_USER=PG["user"],
                       DB_HOST=PG["host"], DB_PORT=self.port)  # fmt: skip
        else:
            env.update(DB_ENGINE="sqlite3", DB_NAME=self.name)
        env.update(PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
        env.update(overrides)
        return env

    def drop(self) -> None:
        if self.kind == "postgresql" and self.name.startswith("mip_rel_"):
            with contextlib.suppress(RuntimeError, OSError, subprocess.TimeoutExpired):
                psql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{self.name}' AND pid <> pg_backend_pid()"
                )
                psql(f'DROP DATABASE IF EXISTS "{self.name}"')
        elif self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(self.name + suffix).unlink(missing_ok=True)


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)  # fmt: skip


def production_env(workdir: Path) -> dict[str, str]:
    """The README's production settings (HTTPS behind a proxy), with fresh secrets."""
    return {
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "True",
        "SESSION_COOKIE_SECURE": "True",
        "CSRF_COOKIE_SECURE": "True",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "True",
        "SECURE_HSTS_PRELOAD": "True",
        "USE_X_FORWARDED_PROTO": "True",
        "VAR_DIR": str(workdir / "var"),
        "LOG_LEVEL": "INFO",
    }


def setup_django(env: dict[str, str]) -> None:
    """Point this process at the campaign's database (the same settings as its server)."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# ---------------------------------------------------------------------------- server


class Server:
    """gunicorn (or granian, the README's production server) serving config.wsgi on a free
    loopback port, with its log in a file."""

    def __init__(self, procs: Procs, env: dict[str, str], log_path: Path, *, workers: int = 2,
                 threads: int = 8, access_log: bool = True, keep_alive: int | None = None,
                 kind: str = "gunicorn") -> None:  # fmt: skip
        self.procs, self.log_path = procs, log_path
        self.port = free_port()
        if kind == "granian":
            cmd = [PYTHON, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
                   "--port", str(self.port), "--workers", str(workers),
                   "--blocking-threads", str(threads), "--log-level", "warning",
                   "config.wsgi:application"]  # fmt: skip
            self.proc = procs.start(cmd, env=env, log_path=log_path)
            return
        cmd = [PYTHON, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}",
               "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
               "--timeout", "120", "--graceful-timeout", "5"]  # fmt: skip
        if keep_alive is not None:
            cmd += ["--keep-alive", str(keep_alive)]
        if access_log:
            # The quick start's access log (scripts/quickstart.sh), so its lines are checked too.
            cmd += ["--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT]
        self.proc = procs.start(cmd, env=env, log_path=log_path)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.log_path}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if Http(self.port).get("/api/v1/health").status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"the server is not ready after {timeout} s; see {self.log_path}")

    def workers(self) -> list[int]:
        return children(self.proc.pid)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.procs.stop(self.proc)


# What scripts/quickstart.sh logs per request: no query string (it can hold patient names).
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


# ---------------------------------------------------------------------------- HTTP


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # by lower-case name, the last of a name sent more than once
    body: bytes
    seconds: float
    # Every header as sent, in order (a login sets two cookies, two Set-Cookie headers).
    header_list: list[tuple[str, str]] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def exchange(port: int, method: str, path: str, *, body: bytes | None, headers: dict[str, str],
             source: str | None = None, timeout: float = 60) -> Answer:  # fmt: skip
    """One request to the loopback server on a connection of its own, from the loopback
    address ``source`` if given, and its answer read whole."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0) if source else None)  # fmt: skip
    started = time.monotonic()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        sent = response.getheaders()
        return Answer(response.status, {k.lower(): v for k, v in sent}, data,
                      time.monotonic() - started, sent)  # fmt: skip
    finally:
        conn.close()


class Http:
    """A small HTTP/1.1 client for loopback, one connection per request.

    ``source`` binds the client side to another loopback address (127.0.0.2 …), so the server
    sees callers from different addresses without any proxy header.
    """

    def __init__(self, port: int, *, token: str | None = None, source: str | None = None,
                 https: bool = True, timeout: float = 60) -> None:  # fmt: skip
        self.port, self.token, self.source, self.timeout = port, token, source, timeout
        self.https = https

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:  # fmt: skip
        all_headers = {"Accept": "application/json"}
        if self.https:
            # The TLS proxy's header (USE_X_FORWARDED_PROTO): the app sees an HTTPS request.
            all_headers["X-Forwarded-Proto"] = "https"
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        all_headers.update(headers or {})
        return exchange(self.port, method, path, body=body, headers=all_headers,
                        source=self.source, timeout=self.timeout)  # fmt: skip

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def post_json(self, path: str, data: Any) -> Answer:
        return self.request("POST", path, body=json.dumps(data).encode(),
                            headers={"Content-Type": "application/json"})  # fmt: skip

    def post_file(self, path: str, name: str, content: bytes,
                  fields: dict[str, str] | None = None) -> Answer:  # fmt: skip
        boundary = uuid.uuid4().hex
        parts = []
        for key, value in (fields or {}).items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
                         f"{value}\r\n".encode())  # fmt: skip
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request("POST", path, body=b"".join(parts),
                            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})  # fmt: skip


def login(port: int, username: str, password: str, source: str | None = None) -> dict:
    answer = Http(port, source=source).post_json(
        "/api/v1/auth/login", {"username": username, "password": password}
    )
    if answer.status != 200:
        raise RuntimeError(f"login of {username} failed: {answer.status} {answer.body[:200]!r}")
    return answer.json()


@contextlib.contextmanager
def timed() -> Iterator[dict[str, float]]:
    box = {"seconds": 0.0}
    started = time.monotonic()
    try:
        yield box
    finally:
        box["seconds"] = round(time.monotonic() - started, 1)
