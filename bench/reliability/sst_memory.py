#!/usr/bin/env python3
"""Peak memory of reading an .xlsx whose shared strings expand to 2 GB (issue 20, item 8).

    .venv/bin/python bench/reliability/sst_memory.py [--count 484000] [--compare] [--json]

Writes the attack file (bench/reliability/corpus.py ``shared_strings_bomb_file``: COUNT
distinct 4 KB strings deflating ~131:1, 15 MB for 2 GB at the default count) to a temporary
directory, then reads it with ``ingest.readers.read_table`` twice over (as an import does) in a
child process per mode and reports the child's peak RSS and time:

- ``bounded``: the product's limits (``ReaderLimits.shared_strings_memory_bytes``, 64 MB);
- ``unbounded`` (with --compare): the same reader with that limit out of reach, which is how
  the reader behaved before (calamine and the reader each held every string). Needs about
  5 GB free.

Prints a table, then one JSON line. Exit 1 when the bounded peak is over --max-mb (512).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.reliability.corpus import shared_strings_bomb_file  # noqa: E402

_CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from ingest import readers
path, limit = sys.argv[2], int(sys.argv[3])
limits = readers.ReaderLimits(shared_strings_memory_bytes=limit)
started = time.monotonic()
rows = 0
with readers.read_table(path, file_name="bomb.xlsx", limits=limits) as table:
    for _ in range(2):
        rows += sum(1 for _ in table.rows())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"rows": rows, "seconds": time.monotonic() - started, "peak": peak}))
"""


def measure(path: Path, limit: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(ROOT), str(path), str(limit)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:], "peak": 0, "seconds": 0}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=484_000, help="distinct strings")
    parser.add_argument("--compare", action="store_true", help="also the unbounded reader")
    parser.add_argument("--max-mb", type=float, default=512, help="bounded peak RSS target")
    args = parser.parse_args(argv)

    from ingest.readers import DEFAULT_LIMITS

    with tempfile.TemporaryDirectory(prefix="sst-bench-") as directory:
        path = Path(directory) / "shared_strings_bomb.xlsx"
        started = time.monotonic()
        shared_strings_bomb_file(path, args.count)
        import zipfile

        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("xl/sharedStrings.xml")
        file_info = {
            "file_mb": round(path.stat().st_size / 2**20, 1),
            "inflated_mb": round(info.file_size / 2**20, 1),
            "ratio": round(info.file_size / info.compress_size, 1),
            "written_seconds": round(time.monotonic() - started, 1),
        }
        modes = {"bounded": DEFAULT_LIMITS.shared_strings_memory_bytes}
        if args.compare:
            modes["unbounded"] = 1 << 40
        results = {name: measure(path, limit) for name, limit in modes.items()}

    print(f"file: {args.count:,} strings; {file_info}")
    print(f"{'mode':<10} {'peak RSS MB':>12} {'seconds':>8}  rows")
    for name, r in results.items():
        print(f"{name:<10} {r['peak'] / 2**20:>12.0f} {r['seconds']:>8.1f}  {r.get('rows', r)}")
    ok = results["bounded"].get("rows") == 10 and results["bounded"]["peak"] / 2**20 <= args.max_mb
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"count": args.count, **file_info, "results": results,
                      "generator_peak_mb": round(own), "ok": ok}))  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
