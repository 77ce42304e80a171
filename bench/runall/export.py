"""The export step: every study as CSV and .xlsx through the API, timed, with the workers'
peak memory."""

from __future__ import annotations

import http.client
import threading
import time

from runall.classes import q
from runall.client import Client
from runall.common import log
from runall.db import Database
from runall.procs import Procs, mem_status
from runall.servers import Server, start_product


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
