"""Where a run's results go: its result dict as JSON and as a Markdown table, in RESULTS."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from runall.common import RESULTS


class RunFiles:
    """``RESULTS/<name>.json`` (the whole ``result``) and ``RESULTS/<name>.md``
    (``markdown(result)``), written again after every step, so a run stopped half-way still
    leaves what it measured."""

    def __init__(self, name: str, result: dict, markdown: Callable[[dict], str]) -> None:
        self.result, self.markdown = result, markdown
        self.json_path, self.md_path = RESULTS / f"{name}.json", RESULTS / f"{name}.md"

    def save(self) -> None:
        text = json.dumps(self.result, ensure_ascii=False, indent=1)
        self.json_path.write_text(text, encoding="utf-8")
        self.md_path.write_text(self.markdown(self.result), encoding="utf-8")

    def finish(self) -> None:
        """The run's end, however it ended: the time, both files, the table on stdout and
        where the files are."""
        self.result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        self.save()
        print(self.markdown(self.result), flush=True)
        print(f"\nJSON: {self.json_path}\nTable: {self.md_path}", flush=True)
