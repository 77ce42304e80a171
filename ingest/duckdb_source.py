"""The legacy DuckDB file as a table of rows, for ``migrate_from_duckdb``.

The file is opened in a child process, read-only, with external access (files, network,
extensions) disabled and a memory cap, so a damaged or hostile file can neither reach anything
else, exhaust the machine, nor take down the process that imports it: if DuckDB crashes, only
the child dies and the import fails with a message. The child sends its answers back as
pickles on its standard output (rows in batches, in constant memory).
"""

import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.readers import FileFormatError

LEGACY_TABLE = "medical_examinations_fact"
FETCH_ROWS = 10_000
# How long each read of the file (its counts; then its rows) may take before the file is
# refused: a view can compute without end. A million plain rows read in well under a minute.
READ_SECONDS = 1800.0

# Runs in a fresh interpreter: ``meta`` answers (headers, count, repeated exam_ids); ``rows``
# streams every row in batches. Exit 2 with the error on stderr when DuckDB refuses the file.
_CHILD = """
import pickle, sys
import duckdb
path, memory_limit, mode, table, batch = sys.argv[1:6]
out = sys.stdout.buffer
try:
    con = duckdb.connect(path, read_only=True,
                         config={"enable_external_access": False, "memory_limit": memory_limit})
    cursor = con.execute(f"SELECT * FROM {table} LIMIT 0")
    headers = [column[0] for column in cursor.description]
    if mode == "meta":
        count = con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        repeated = con.execute(
            f"SELECT exam_id, COUNT(*) AS n FROM {table} GROUP BY exam_id "
            "HAVING COUNT(*) > 1 ORDER BY exam_id LIMIT 20"
        ).fetchall()
        pickle.dump((headers, count, repeated), out)
    else:
        cursor = con.cursor()
        cursor.execute(f"SELECT * FROM {table}")
        while rows := cursor.fetchmany(int(batch)):
            pickle.dump([list(r) for r in rows], out)
    out.flush()
except duckdb.Error as exc:
    sys.stderr.write(str(exc))
    sys.exit(2)
"""


@dataclass
class DuckDBTable:
    path: Path
    memory_limit: str = "512MB"
    time_limit: float = READ_SECONDS
    headers: list[str] = field(default_factory=list)
    _count: int = 0
    _repeated: list[tuple[str, int]] = field(default_factory=list)

    def _command(self, mode: str) -> list[str]:
        return [sys.executable, "-c", _CHILD, str(self.path), self.memory_limit, mode,
                LEGACY_TABLE, str(FETCH_ROWS)]  # fmt: skip

    def _failure(self, stderr: bytes, returncode: int) -> FileFormatError:
        reason = stderr.decode("utf-8", "replace").strip().splitlines()
        detail = reason[-1] if reason and returncode == 2 else f"the reader stopped ({returncode})"
        return FileFormatError(f"Cannot read {LEGACY_TABLE} from {self.path.name}: {detail}")

    def _too_slow(self) -> FileFormatError:
        return FileFormatError(
            f"Cannot read {LEGACY_TABLE} from {self.path.name}: it takes longer than the "
            f"{self.time_limit:g} s limit"
        )

    def __enter__(self) -> "DuckDBTable":
        try:
            done = subprocess.run(self._command("meta"), capture_output=True, check=False,
                                  timeout=self.time_limit)  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise self._too_slow() from exc
        if done.returncode != 0:
            raise self._failure(done.stderr, done.returncode)
        # Trusted: written by our own child process above.
        self.headers, self._count, self._repeated = pickle.loads(done.stdout)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing stays open between calls: each child process ends with its answer."""

    def count(self) -> int:
        return self._count

    def duplicated_keys(self, limit: int = 20) -> list[tuple[str, int]]:
        return self._repeated[:limit]

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        child = subprocess.Popen(self._command("rows"), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)  # fmt: skip
        # The whole read, however the importer paces it: past the limit the child is killed,
        # the pipe ends, and the import fails inside its transaction.
        watchdog = threading.Timer(self.time_limit, child.kill)
        watchdog.daemon = True
        watchdog.start()
        started = time.monotonic()
        number = 0
        try:
            while True:
                try:
                    batch = pickle.load(child.stdout)
                except (EOFError, pickle.UnpicklingError):  # the end, or a killed child
                    break
                for row in batch:
                    number += 1
                    yield number, row
            stderr = child.stderr.read()
            if child.wait() != 0:
                if time.monotonic() - started >= self.time_limit:
                    raise self._too_slow()
                raise self._failure(stderr, child.returncode)
        finally:
            watchdog.cancel()
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stdout.close()
            child.stderr.close()
