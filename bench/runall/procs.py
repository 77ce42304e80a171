"""Child processes (each in its own process group) and what /proc says about them: the
process tree, the CPU of PostgreSQL backends, the memory of a process."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from pathlib import Path


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
