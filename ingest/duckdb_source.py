"""The legacy DuckDB file as a table of rows, for ``migrate_from_duckdb``.

Opened read-only, with external access (files, network, extensions) disabled and a memory
cap, so a damaged or hostile file can neither reach anything else nor exhaust the machine.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ingest.readers import FileFormatError

LEGACY_TABLE = "medical_examinations_fact"
FETCH_ROWS = 10_000


@dataclass
class DuckDBTable:
    path: Path
    memory_limit: str = "512MB"
    headers: list[str] = field(default_factory=list)
    _connection: Any = None

    def __enter__(self) -> "DuckDBTable":
        try:
            self._connection = duckdb.connect(
                str(self.path),
                read_only=True,
                config={"enable_external_access": False, "memory_limit": self.memory_limit},
            )
            cursor = self._connection.execute(f"SELECT * FROM {LEGACY_TABLE} LIMIT 0")
        except duckdb.Error as exc:
            self.close()
            raise FileFormatError(
                f"Cannot read {LEGACY_TABLE} from {self.path.name}: {exc}"
            ) from exc
        self.headers = [column[0] for column in cursor.description]
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def count(self) -> int:
        return self._connection.execute(f"SELECT COUNT(*) FROM {LEGACY_TABLE}").fetchone()[0]

    def duplicated_keys(self, limit: int = 20) -> list[tuple[str, int]]:
        return self._connection.execute(
            f"SELECT exam_id, COUNT(*) AS n FROM {LEGACY_TABLE} GROUP BY exam_id "
            f"HAVING COUNT(*) > 1 ORDER BY exam_id LIMIT {int(limit)}"
        ).fetchall()

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        cursor = self._connection.cursor()
        cursor.execute(f"SELECT * FROM {LEGACY_TABLE}")
        number = 0
        while batch := cursor.fetchmany(FETCH_ROWS):
            for row in batch:
                number += 1
                yield number, list(row)
