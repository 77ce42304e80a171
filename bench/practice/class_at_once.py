#!/usr/bin/env python3
"""A class at once (issue 23): 200 learners each holding a streamed conversation with the
virtual patient while the imaging load of ``bench/run_all.py`` runs beside them.

    python3.11 bench/practice/class_at_once.py                    # PostgreSQL mip_bench_class_100000
    python3.11 bench/practice/class_at_once.py --setups wsgi-128,asgi -d 60 --rounds 2
    python3.11 bench/practice/class_at_once.py --sqlite           # a SQLite file instead

What it does (everything on 127.0.0.1, every process in its own process group, killed on the
way out, also on Ctrl-C):

1. the data: N imaging studies (``bench/gen_db.py``, default 100,000) in a ``mip_bench_*``
   PostgreSQL database (``bench/dbtool.py createdb``), the practice sample content and
   ``--learners`` learners with bearer tokens (``bench/practice/class_setup.py``);
2. the built-in OpenAI-compatible model server (``manage.py serve_openai_compatible``) at a
   realistic pace: the first token after 0.5 s, then the reply in 40 chunks over 2 s
   (``--pace``);
3. for each server setup (``--setups``): the product under granian with
   ``PRACTICE_PATIENT_ENGINE=openai`` pointing at the model server, then ``--rounds``
   interleaved pairs: A = the imaging load alone, B = the same imaging load with the class.
   The imaging load is ``bench/legacy/load.py``'s realistic mix (the one run_all's ``servers``
   and ``compare`` steps use), ``--imaging-c`` clients for ``-d`` seconds after a warm-up, the
   same request plan in A and B. In B each learner, on a fresh conversation, sends a message
   (the case sheet's own questions, in turn), reads the Server-Sent Events to ``done``, pauses
   ``--pause`` s, and again, for the whole load; ``--probes`` clients meanwhile stream the same
   kind of request straight from the model server: its own time to first token, under the
   same load, measured by the same client process.

Reported per setup: the learners' turns and errors (target 0), the time to the first streamed
token (first ``delta`` event) at the client against the model server's own (overhead = the
difference of the p95s, target <= 50 ms), and the imaging load's p95 and requests/s with the
class against without it (target: within 10 %). Results: a Markdown table on stdout and in
``bench/results/class_<stamp>.md``, raw numbers in ``class_<stamp>.json``, server logs in
``bench/results/logs/``.

Runs under ``bench/.venv`` (aiohttp; re-executes itself there like run_all.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "legacy"))

# bench/run_all.py's modules (bench/runall/): processes, databases, servers
from runall import common  # noqa: E402
from runall.client import http_get  # noqa: E402
from runall.common import DATA, LEGACY, PRODUCT_PY, RESULTS, VENV, log  # noqa: E402
from runall.db import Database, add_pg_options, last_json, product_run  # noqa: E402
from runall.measure import pct  # noqa: E402
from runall.procs import Procs, free_port  # noqa: E402
from runall.results import RunFiles  # noqa: E402
from runall.servers import Server  # noqa: E402
from runall.snapshot import machine_info, start_run  # noqa: E402

# The server setups compared (2 workers each, one per core, as in production): granian's
# arguments and the environment the product gets beside the benchmark database's.
POOL = {"DB_POOL_MAX_SIZE": "30"}  # 2 workers x 30 stay under PostgreSQL's 100 connections
SETUPS: dict[str, tuple[list[str], dict[str, str]]] = {
    # The production line of README before this benchmark: 4 blocking threads per worker.
    "wsgi-4": (["--interface", "wsgi", "--blocking-threads", "4", "config.wsgi:application"], {}),
    # Enough threads for every stream of the class to hold one (2 x 128), a connection each.
    "wsgi-128": (
        ["--interface", "wsgi", "--blocking-threads", "128", "config.wsgi:application"],
        {},
    ),
    # The same threads sharing a connection pool per worker.
    "wsgi-128-pool": (
        ["--interface", "wsgi", "--blocking-threads", "128", "config.wsgi:application"],
        POOL,
    ),
    # ASGI: the streaming route is an async view; the rest runs as sync views in threads.
    "asgi": (["--interface", "asgi", "config.asgi:application"], {}),
    "asgi-pool": (["--interface", "asgi", "config.asgi:application"], POOL),
}
# Setups with a second server for the practice API (the reverse proxy sends
# ``/api/v1/practice/`` there, README: Production): the imaging server as in its setup above,
# the practice server's granian arguments and environment here. The two share the machine's
# cores but not an interpreter: a stream's first token never waits for the GIL behind an
# imaging request, nor an imaging request behind 100 streams.
PRACTICE_SERVERS: dict[str, tuple[str, list[str], dict[str, str]]] = {
    "split-wsgi": (
        "wsgi-128-pool",
        ["--interface", "wsgi", "--blocking-threads", "128", "config.wsgi:application"],
        {"DB_POOL_MAX_SIZE": "15"},
    ),
}
SETUPS.update({name: SETUPS[imaging] for name, (imaging, _, _) in PRACTICE_SERVERS.items()})
TARGETS = {"errors": 0, "ttft_overhead_p95_ms": 50.0, "imaging_within": 0.10}


# ------------------------------------------------------------------------------ SSE clients


@dataclass
class Turns:
    """What the learners (or the direct probes) saw."""

    ttft_ms: list[float] = field(default_factory=list)  # first delta after the request
    total_ms: list[float] = field(default_factory=list)  # request to done
    ok: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(text[:300])

    def summary(self) -> dict:
        return {
            "turns": self.ok,
            "errors": self.errors,
            "ttft_ms": {
                "p50": pct(self.ttft_ms, 50),
                "p95": pct(self.ttft_ms, 95),
                "p99": pct(self.ttft_ms, 99),
                "max": round(max(self.ttft_ms), 1) if self.ttft_ms else None,
            },
            "reply_ms": {"p50": pct(self.total_ms, 50), "p95": pct(self.total_ms, 95)},
            "error_samples": self.error_samples,
        }


async def sse_events(response):
    """(event, data) pairs of a Server-Sent Events body."""
    event, data = "message", []
    async for raw in response.content:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        yield event, "\n".join(data)


async def learner(
    session,
    base: str,
    who: dict,
    questions: list[str],
    start_at: float,
    stop_at: float,
    pause: float,
    turns: Turns,
) -> None:
    """One learner: message, stream to ``done``, pause, again, until ``stop_at``."""
    url = f"{base}/api/v1/practice/conversations/{who['thread_id']}/stream"
    headers = {"Authorization": f"Bearer {who['token']}", "Accept": "text/event-stream"}
    k = random.Random(who["thread_id"]).randrange(len(questions))
    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
    while time.perf_counter() < stop_at:
        content = questions[k % len(questions)]
        k += 1
        t0 = time.perf_counter()
        first = None
        done = False
        failure = ""
        try:
            async with session.post(url, json={"content": content}, headers=headers) as r:
                if r.status != 200:
                    failure = f"HTTP {r.status}: {(await r.text())[:200]}"
                else:
                    async for event, data in sse_events(r):
                        if event == "delta" and first is None:
                            first = time.perf_counter()
                        elif event == "done":
                            done = True
                        elif event == "error":
                            failure = f"error event: {data}"
                            break
                    if not done and not failure:
                        failure = "the stream ended without done"
        except Exception as exc:  # transport failures are counted, not raised
            failure = f"{type(exc).__name__}: {exc}"
        if failure:
            turns.error(failure)
        t1 = time.perf_counter()
        if done:
            turns.ok += 1
            turns.ttft_ms.append((first - t0) * 1000 if first else (t1 - t0) * 1000)
            turns.total_ms.append((t1 - t0) * 1000)
        await asyncio.sleep(pause)


async def probe(
    session,
    model_base: str,
    body: dict,
    start_at: float,
    stop_at: float,
    pause: float,
    turns: Turns,
) -> None:
    """The model server's own time to first token: the engine's request, sent straight to it."""
    url = f"{model_base}/v1/chat/completions"
    headers = {"Authorization": "Bearer bench", "Accept": "text/event-stream"}
    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
    while time.perf_counter() < stop_at:
        t0 = time.perf_counter()
        first = None
        done = False
        failure = ""
        try:
            async with session.post(url, json=body, headers=headers) as r:
                if r.status != 200:
                    failure = f"HTTP {r.status}"
                else:
                    async for _event, data in sse_events(r):
                        if data == "[DONE]":
                            done = True
                            break
                        chunk = json.loads(data)
                        if first is None and any(
                            (c.get("delta") or {}).get("content") for c in chunk.get("choices", [])
                        ):
                            first = time.perf_counter()
        except Exception as exc:
            failure = f"{type(exc).__name__}: {exc}"
        t1 = time.perf_counter()
        if done and first is not None:
            turns.ok += 1
            turns.ttft_ms.append((first - t0) * 1000)
            turns.total_ms.append((t1 - t0) * 1000)
        else:
            turns.error(failure or "a model stream without content or [DONE]")
        await asyncio.sleep(pause)


async def run_class(
    base: str,
    model_base: str,
    world: dict,
    *,
    seconds: float,
    ramp: float,
    pause: float,
    probes: int,
    pids: dict[str, list[int]],
) -> dict:
    """Every learner of ``world`` for ``seconds`` (starts spread over ``ramp`` s), and
    ``probes`` direct model clients beside them."""
    import resource

    import aiohttp
    from load import machine_busy_seconds, tree_cpu_seconds

    n = len(world["learners"])
    cpu0 = {k: tree_cpu_seconds(v) for k, v in pids.items()}
    busy0, self0 = machine_busy_seconds(), resource.getrusage(resource.RUSAGE_SELF)
    connector = aiohttp.TCPConnector(limit=n + probes + 10, limit_per_host=n + probes + 10)
    timeout = aiohttp.ClientTimeout(total=120, sock_read=60)
    learners, direct = Turns(), Turns()
    now = time.perf_counter()
    stop_at = now + seconds
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [
            learner(session, base, who, world["questions"], now + ramp * i / n, stop_at, pause,
                    learners)
            for i, who in enumerate(world["learners"])
        ]  # fmt: skip
        tasks += [
            probe(session, model_base, world["direct_body"], now + ramp * i / max(1, probes),
                  stop_at, pause, direct)
            for i in range(probes)
        ]  # fmt: skip
        await asyncio.gather(*tasks)
    wall = time.perf_counter() - now
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    out = {"learners": n, "seconds": round(wall, 1), "class": learners.summary()}
    # Where the CPU went meanwhile (cores): the product, the model server (in production on
    # another machine), this client, and the whole machine (the imaging load and its client,
    # PostgreSQL and the other tenants included).
    out["cores"] = {k: round((tree_cpu_seconds(v) - cpu0[k]) / wall, 2) for k, v in pids.items()}
    out["cores"]["class_client"] = round(
        (self1.ru_utime + self1.ru_stime - self0.ru_utime - self0.ru_stime) / wall, 2
    )
    out["cores"]["machine"] = round((machine_busy_seconds() - busy0) / wall, 2)
    out["direct"] = direct.summary()
    out["turns_per_s"] = round(learners.ok / wall, 1) if wall else None
    lp, dp = out["class"]["ttft_ms"]["p95"], out["direct"]["ttft_ms"]["p95"]
    out["ttft_overhead_p95_ms"] = round(lp - dp, 1) if lp is not None and dp is not None else None
    lm, dm = out["class"]["ttft_ms"]["p50"], out["direct"]["ttft_ms"]["p50"]
    out["ttft_overhead_p50_ms"] = round(lm - dm, 1) if lm is not None and dm is not None else None
    return out


# ------------------------------------------------------------------------------ processes


class Product:
    def __init__(self, setup: str, db: Database, procs: Procs, model_base: str, workers: int):
        self.setup, self.procs = setup, procs
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = db.env()
        env.update(
            PRACTICE_PATIENT_ENGINE="openai",
            OPENAI_BASE_URL=f"{model_base}/v1",
            OPENAI_API_KEY="bench",
            OPENAI_MODEL="practice-scripted",
            OPENAI_API_STYLE="chat",
        )
        server_args, server_env = SETUPS[setup]
        self.proc, self.log_path = self._start(env, server_args, server_env, workers, self.port)
        self.token: str | None = None
        # The learners' server: the same one, or the practice server of a split setup.
        self.practice_base, self.practice_proc = self.base, self.proc
        if setup in PRACTICE_SERVERS:
            _, practice_args, practice_env = PRACTICE_SERVERS[setup]
            port = free_port()
            self.practice_base = f"http://127.0.0.1:{port}"
            self.practice_proc, _ = self._start(env, practice_args, practice_env, workers, port)

    def _start(self, env: dict, server_args: list[str], server_env: dict[str, str],
               workers: int, port: int) -> tuple[subprocess.Popen, Path]:  # fmt: skip
        env = dict(env)
        if "asgi" in server_args:
            # as run_all's uvicorn: persistent connections under ASGI gave 500s (issue notes)
            env["DB_CONN_MAX_AGE"] = "0"
        env.update(server_env)
        cmd = [PRODUCT_PY, "-m", "granian", "--host", "127.0.0.1", "--port", port,
               "--workers", workers, "--log-level", "warning", *server_args]  # fmt: skip
        log_path = RESULTS / "logs" / f"class_{self.setup}_{port}.log"
        return procs_start(self.procs, cmd, env, log_path), log_path

    def ready(self, user: tuple[str, str]) -> None:
        for proc, base in {(self.proc, self.base), (self.practice_proc, self.practice_base)}:
            server = Server.__new__(Server)
            server.kind, server.proc, server.port = self.setup, proc, int(base.rsplit(":")[-1])
            server.base, server.log_path = base, self.log_path
            server.wait_ready()
        server = Server.__new__(Server)
        server.kind, server.proc, server.port = self.setup, self.proc, self.port
        server.base, server.log_path = self.base, self.log_path
        self.token = server.login(*user)

    def pids(self, model_pid: int) -> dict[str, list[int]]:
        pids = {"product": [self.proc.pid], "model_server": [model_pid]}
        if self.practice_proc is not self.proc:
            pids["practice_server"] = [self.practice_proc.pid]
        return pids

    def stop(self) -> None:
        self.procs.stop(self.proc)
        if self.practice_proc is not self.proc:
            self.procs.stop(self.practice_proc)


def procs_start(procs: Procs, cmd: list, env: dict, log_path: Path) -> subprocess.Popen:
    return procs.start(cmd, env=env, cwd=common.PRODUCT_DIR, log_path=log_path)


def start_model_server(db: Database, procs: Procs, pace: str) -> tuple[str, int]:
    port = free_port()
    cmd = [PRODUCT_PY, "manage.py", "serve_openai_compatible", "--port", port, "--pace", pace]
    log_path = RESULTS / "logs" / f"class_model_{port}.log"
    proc = procs.start(cmd, env=db.env(), cwd=common.PRODUCT_DIR, log_path=log_path)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _, _ = http_get(base, "/v1/models", timeout=3)
            if status == 200:
                return base, proc.pid
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the model server did not start; see {log_path}")


def imaging_load(product: Product, params_path: str, args, tag: str) -> subprocess.Popen:
    """bench/legacy/load.py's realistic mix in its own process (its own client CPU)."""
    out = RESULTS / "logs" / f"class_imaging_{tag}.json"
    cmd = [sys.executable, LEGACY / "load.py", "--base-url", product.base, "--token",
           product.token, "--mix", LEGACY / "mixes" / "realistic.json", "--params", params_path,
           "-c", args.imaging_c, "-d", args.duration, "--warmup", args.imaging_warmup,
           "--server-pid", product.proc.pid, "--json-out", out, "-q"]  # fmt: skip
    p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    p._bench_out = out  # type: ignore[attr-defined]
    return p


def imaging_result(p: subprocess.Popen, timeout: float) -> dict:
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        raise SystemExit("the imaging load did not finish in time") from None
    if p.returncode != 0:
        raise SystemExit(f"load.py failed:\n{err[-2000:]}")
    r = json.loads(Path(p._bench_out).read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    return {
        "rps": r["rps"],
        "p50": r["latency_ms"]["p50"],
        "p95": r["latency_ms"]["p95"],
        "p99": r["latency_ms"]["p99"],
        "errors": r["errors"],
        "requests": r["requests"],
        "server_cpu_util": r.get("server_cpu_util"),
        "machine_busy_cores": r.get("machine_busy_cores"),
        "other_busy_cores": r.get("other_busy_cores"),
        "p95_by_class": {k: v["latency_ms"]["p95"] for k, v in r["classes"].items()},
        "error_samples": r.get("error_samples", [])[:5],
    }


def fresh_world(db: Database, learners: int, stamp: str) -> dict:
    out = DATA / f"class_world_{stamp}.json"
    product_run(db, [BENCH / "practice" / "class_setup.py", "--learners", learners, "--out", out])
    world = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return world


def run_setup(setup: str, db: Database, procs: Procs, model: tuple[str, int], params_path: str,
              user: tuple[str, str], args, stamp: str) -> dict:  # fmt: skip
    model_base, model_pid = model
    product = Product(setup, db, procs, model_base, args.workers)
    try:
        product.ready(user)
        rounds = []
        for rnd in range(args.rounds):
            pair = {}
            for phase in ("alone", "with_class"):
                tag = f"{stamp}_{setup}_{rnd}_{phase}"
                world = fresh_world(db, args.learners, stamp) if phase == "with_class" else None
                load = imaging_load(product, params_path, args, tag)
                budget = args.imaging_warmup + args.duration + 120
                if world is not None:
                    # the class runs from the imaging warm-up to the end of the measured window
                    cls = asyncio.run(
                        run_class(
                            product.practice_base, model_base, world,
                            seconds=args.imaging_warmup + args.duration, ramp=args.ramp,
                            pause=args.pause, probes=args.probes,
                            pids=product.pids(model_pid),
                        )
                    )  # fmt: skip
                    pair["class"] = cls
                pair[phase] = imaging_result(load, budget)
                img = pair[phase]
                log(
                    f"  {setup} round {rnd + 1} {phase:<10}: imaging {img['rps']} rps, p95 "
                    f"{img['p95']} ms, errors {img['errors']}, busy {img['machine_busy_cores']} "
                    f"cores (others {img['other_busy_cores']})"
                )
                if world is not None:
                    c = pair["class"]
                    log(
                        f"  {setup} round {rnd + 1} class     : {c['class']['turns']} turns "
                        f"({c['turns_per_s']}/s), errors {c['class']['errors']}, TTFT p50/p95 "
                        f"{c['class']['ttft_ms']['p50']}/{c['class']['ttft_ms']['p95']} ms vs "
                        f"model {c['direct']['ttft_ms']['p50']}/{c['direct']['ttft_ms']['p95']}"
                        f"; cores {c['cores']}"
                    )
                time.sleep(1)
            rounds.append(pair)
    finally:
        product.stop()
    return summarize(setup, rounds)


def summarize(setup: str, rounds: list[dict]) -> dict:
    med = statistics.median
    alone = [r["alone"] for r in rounds]
    withc = [r["with_class"] for r in rounds]
    classes = [r["class"] for r in rounds]
    rps_a, rps_b = med(x["rps"] for x in alone), med(x["rps"] for x in withc)
    p95_a, p95_b = med(x["p95"] for x in alone), med(x["p95"] for x in withc)
    learner_ttft = [c["class"]["ttft_ms"]["p95"] for c in classes]
    direct_ttft = [c["direct"]["ttft_ms"]["p95"] for c in classes]
    overheads = [c["ttft_overhead_p95_ms"] for c in classes]
    errors = sum(c["class"]["errors"] for c in classes) + sum(x["errors"] for x in alone + withc)
    out = {
        "setup": setup,
        "command_args": SETUPS[setup][0],
        "practice_server": PRACTICE_SERVERS.get(setup, (None, None, None))[1:],
        "env": SETUPS[setup][1],
        "imaging_alone": {"rps": rps_a, "p95": p95_a},
        "imaging_with_class": {"rps": rps_b, "p95": p95_b},
        "rps_change": round(rps_b / rps_a - 1, 3) if rps_a else None,
        "p95_change": round(p95_b / p95_a - 1, 3) if p95_a else None,
        "class_turns": sum(c["class"]["turns"] for c in classes),
        "class_errors": sum(c["class"]["errors"] for c in classes),
        "imaging_errors": sum(x["errors"] for x in alone + withc),
        "learner_ttft_p50": med(c["class"]["ttft_ms"]["p50"] or 0 for c in classes),
        "learner_ttft_p95": med(x or 0 for x in learner_ttft),
        "direct_ttft_p50": med(c["direct"]["ttft_ms"]["p50"] or 0 for c in classes),
        "direct_ttft_p95": med(x or 0 for x in direct_ttft),
        "ttft_overhead_p95_ms": max((x for x in overheads if x is not None), default=None),
        "turns_per_s": med(c["turns_per_s"] or 0 for c in classes),
        "cores_with_class": {
            k: med(c["cores"][k] for c in classes) for k in classes[0].get("cores", {})
        },
        "product_cores_alone": med(x.get("server_cpu_util") or 0 for x in alone),
        "rounds": rounds,
    }
    out["met"] = {
        "errors": errors == 0,
        "ttft": out["ttft_overhead_p95_ms"] is not None
        and out["ttft_overhead_p95_ms"] <= TARGETS["ttft_overhead_p95_ms"],
        "imaging": out["rps_change"] is not None
        and out["rps_change"] >= -TARGETS["imaging_within"]
        and out["p95_change"] <= TARGETS["imaging_within"],
    }
    out["met"]["all"] = all(out["met"].values())
    return out


def markdown(result: dict) -> str:
    ok = lambda flag: "met" if flag else "**NOT met**"  # noqa: E731
    lines = [
        f"Class at once — {result['started']}, {result['database']}, "
        f"{result['learners']} learners (pause {result['pause']} s), imaging realistic mix at "
        f"{result['imaging_c']} clients, {result['duration']} s measured per run "
        f"(+{result['imaging_warmup']} s warm-up), {result['rounds']} interleaved A/B rounds, "
        f"model pace {result['pace']}, {result['workers']} workers",
        "",
        f"Command: `{result['command']}`",
        "",
        "| setup | class turns (/s) | errors | TTFT client p50 / p95 | model's own p50 / p95 "
        "| overhead p95 | imaging rps alone → with class | imaging p95 alone → with class "
        "| targets |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in result["setups"].values():
        if "failed" in s:
            lines.append(f"| {s['setup']} | failed: {s['failed']} | | | | | | | |")
            continue
        m = s["met"]
        lines.append(
            f"| {s['setup']} | {s['class_turns']} ({s['turns_per_s']}) "
            f"| {s['class_errors']} + {s['imaging_errors']} imaging "
            f"| {s['learner_ttft_p50']:.0f} / {s['learner_ttft_p95']:.0f} ms "
            f"| {s['direct_ttft_p50']:.0f} / {s['direct_ttft_p95']:.0f} ms "
            f"| {s['ttft_overhead_p95_ms']} ms "
            f"| {s['imaging_alone']['rps']} → {s['imaging_with_class']['rps']} "
            f"({s['rps_change']:+.1%}) "
            f"| {s['imaging_alone']['p95']} → {s['imaging_with_class']['p95']} ms "
            f"({s['p95_change']:+.1%}) "
            f"| errors {ok(m['errors'])}, TTFT {ok(m['ttft'])}, imaging {ok(m['imaging'])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("-n", type=int, default=100_000, help="imaging studies (default 100,000)")
    ap.add_argument("--pg-db", help="PostgreSQL database (default mip_bench_class_<n>)")
    add_pg_options(ap)
    ap.add_argument("--sqlite", action="store_true", help="a SQLite file instead of PostgreSQL")
    ap.add_argument("--seed", type=int, default=20251029)
    ap.add_argument("--setups", default="wsgi-128,asgi", help=f"from {','.join(SETUPS)}")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--learners", type=int, default=200)
    ap.add_argument("--pause", type=float, default=1.0, help="seconds between a learner's turns")
    ap.add_argument("--ramp", type=float, default=3.0, help="learners' starts spread over (s)")
    ap.add_argument("--probes", type=int, default=10, help="direct model-server clients")
    ap.add_argument("--pace", default="0.5,40,2", help="model server: FIRST,CHUNKS,SECONDS")
    ap.add_argument("--imaging-c", type=int, default=100)
    ap.add_argument("-d", "--duration", type=float, default=60, help="measured seconds (≤ 60)")
    ap.add_argument("--imaging-warmup", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=2, help="A/B pairs per setup")
    ap.add_argument("--tag", default="")
    ap.add_argument("--no-snapshot", action="store_true",
                    help="run the product from the checkout itself, not from a snapshot")  # fmt: skip
    args = ap.parse_args(argv)
    setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    if unknown := set(setups) - set(SETUPS):
        ap.error(f"unknown setups {unknown}")
    if not 0 < args.duration <= 60 or not 0 <= args.imaging_warmup <= 30:
        ap.error("duration must be in (0, 60] s and the warm-up in [0, 30] s")
    if not 1 <= args.learners <= 500:
        ap.error("learners must be in [1, 500]")
    args.pg_db = args.pg_db or f"mip_bench_class_{args.n}"
    if not args.pg_db.startswith("mip_bench"):
        ap.error("use a database named mip_bench_* (the benchmark writes into it)")

    RESULTS.mkdir(parents=True, exist_ok=True)
    DATA.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d_%H%M%S") + (f"_{args.tag}" if args.tag else "")
    snapshot = start_run(args.no_snapshot, 300)
    procs = Procs()
    if args.sqlite:
        db = Database("sqlite3", str(DATA / f"mip_bench_sqlite_class_{args.n}.sqlite3"), args)
    else:
        db = Database("postgresql", args.pg_db, args)
    result: dict = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": "python3.11 bench/practice/class_at_once.py " + " ".join(sys.argv[1:]),
        "database": db.label(),
        "n": args.n,
        "learners": args.learners,
        "pause": args.pause,
        "pace": args.pace,
        "imaging_c": args.imaging_c,
        "duration": args.duration,
        "imaging_warmup": args.imaging_warmup,
        "rounds": args.rounds,
        "workers": args.workers,
        "machine": machine_info(None),
        "loadavg_at_start": os.getloadavg(),
        "setups": {},
    }
    record = RunFiles(f"class_{stamp}", result, markdown)
    save = record.save

    try:
        if db.kind == "postgresql":
            product_run(db, [BENCH / "dbtool.py", "createdb", db.name])
        log(f"data: {args.n:,} studies into {db.label()}")
        gen = last_json(
            product_run(
                db, [BENCH / "gen_db.py", "-n", args.n, "--seed", args.seed], timeout=3600
            )  # fmt: skip
        )
        result["gen"] = {k: v for k, v in gen.items() if k != "files"}
        params_path = gen["files"]["params"]
        user = ("bench", secrets.token_urlsafe(18))
        product_run(db, [BENCH / "dbtool.py", "user", *user])
        model = start_model_server(db, procs, args.pace)
        log(f"model server at {model[0]}, pace {args.pace}")
        for setup in setups:
            log(f"setup {setup}: {' '.join(SETUPS[setup][0])} {SETUPS[setup][1]}")
            try:
                result["setups"][setup] = run_setup(
                    setup, db, procs, model, params_path, user, args, stamp
                )
            except (Exception, SystemExit) as exc:  # the next setup still runs
                if str(exc).startswith("signal "):
                    raise  # stopped (Ctrl-C, SIGTERM): no next setup
                log(f"setup {setup} failed: {exc}")
                result["setups"][setup] = {"setup": setup, "failed": str(exc)[:500]}
            save()
    finally:
        procs.stop_all()
        if snapshot:
            shutil.rmtree(snapshot["dir"], ignore_errors=True)
        record.finish()
    return 0


def ensure_bench_venv() -> None:
    """Run under bench/.venv, as run_all.py does (it creates the venv when missing)."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    py = VENV / "bin" / "python"
    if not py.exists():
        raise SystemExit("bench/.venv is missing: run bench/run_all.py once, or see bench/README")
    os.execv(str(py), [str(py), str(Path(__file__).resolve()), *sys.argv[1:]])


if __name__ == "__main__":
    ensure_bench_venv()
    sys.exit(main())
