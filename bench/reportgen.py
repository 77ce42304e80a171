"""Deterministic radiology reports for the legacy generator's studies (bench data only).

One report per reported study: 已审核 / completed -> ``finalized`` (85 %) or ``reviewed``,
已报告 / reported -> ``submitted``. Chinese studies get a Chinese report (检查所见 / 诊断意见),
the first system's English-vocabulary studies an English one (FINDINGS / IMPRESSION). The
findings are the study's ``exam_description`` (or the normal sentences of its body region when
the RIS has none); the impression lists the abnormal sentences, or says nothing abnormal was
seen. Timestamps are local wall-clock strings, like the studies'.

Pure Python and fast (>200k reports/s): ``sampledata.reports`` needs the studies its own
generator made (it follows patients), so it cannot be used for ``gen_studies.py`` rows.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "legacy"))

import gen_studies as G

# column positions in a gen_studies CSV row
EXAM_ID, STATUS, SOURCE, ITEM, DESCRIPTION = 0, 6, 7, 8, 9
ORDER, CHECK_IN, CERT, PHYSICIAN = 10, 11, 12, 13

CERTIFIED = {"已审核", "completed"}
REPORTED = {"已报告", "reported"}

_ITEM_KEY = {name: key for lst in G.ITEMS.values() for name, _w, key in lst}
_ITEM_KEY.update({name: key for _src, name, key in G.OLD_ITEMS})
_SPLIT_ZH = re.compile(r"(?<=。)")
_SPLIT_EN = re.compile(r"(?<=\.) ")
_NORMAL = {
    key: {
        s.strip()
        for sentence in pools[0]
        for s in (_SPLIT_EN if key.startswith("en_") else _SPLIT_ZH).split(sentence)
    }
    for key, pools in G.DESCRIPTIONS.items()
}
_parse = dt.datetime.fromisoformat


def _fmt(d: dt.datetime) -> str:
    return d.isoformat(" ")


class ReportGenerator:
    """Feed it study rows (gen_studies CSV order, strings, '' or None for null)."""

    def __init__(self, seed: int = 20251029, end: dt.datetime = G.DEFAULT_END):
        self.rng = random.Random(f"bench.reports:{seed}")
        self.end = end

    def content(self, item: str, description: str | None) -> str:
        key = _ITEM_KEY.get(item, "chest_ct")
        english = key.startswith("en_")
        normal = _NORMAL[key]
        findings = description or (" " if english else "").join(G.DESCRIPTIONS[key][0])
        sentences = [
            s.strip()
            for s in (_SPLIT_EN if english else _SPLIT_ZH).split(findings)
            if s.strip() and s.strip() not in normal
        ]
        if english:
            impression = (
                " ".join(f"{i}. {s}" for i, s in enumerate(sentences, 1))
                if sentences
                else "No acute abnormality."
            )
            return f"EXAMINATION: {item}\nFINDINGS: {findings}\nIMPRESSION: {impression}"
        impression = (
            "".join(f"{i}. {s}" for i, s in enumerate(sentences, 1))
            if sentences
            else "未见明显异常。"
        )
        if sentences and self.rng.random() < 0.3:
            impression += "建议随访复查。"
        return f"检查项目：{item}\n检查所见：{findings}\n诊断意见：{impression}"

    def report(self, row) -> tuple | None:
        status = row[STATUS]
        certified = status in CERTIFIED
        if not certified and status not in REPORTED:
            return None
        rng = self.rng
        exam_id = row[EXAM_ID]
        start = _parse(row[CHECK_IN] or row[ORDER])
        physician = row[PHYSICIAN] or None
        radiologist = (
            physician
            if physician and rng.random() < 0.6
            else G.RADIOLOGISTS[int(rng.random() * len(G.RADIOLOGISTS))]
        )
        if certified and row[CERT]:
            cert = _parse(row[CERT])
            span = max(60, int((cert - start).total_seconds()))
            created = start + dt.timedelta(seconds=int(span * (0.05 + rng.random() * 0.45)))
            submitted = created + dt.timedelta(
                seconds=int((cert - created).total_seconds() * (0.3 + rng.random() * 0.6))
            )
            status_out = "finalized" if rng.random() < 0.85 else "reviewed"
            reviewed = cert
        else:
            created = start + dt.timedelta(minutes=10 + int(rng.random() * 110))
            submitted = created + dt.timedelta(minutes=5 + int(rng.random() * 60))
            created, submitted = min(created, self.end), min(submitted, self.end)
            status_out, reviewed = ("submitted", None)
            if certified:  # certified without a certification time (never in this data)
                status_out = "finalized"
        return (
            f"RPT{exam_id}",
            exam_id,
            radiologist,
            self.content(row[ITEM], row[DESCRIPTION] or None),
            status_out,
            _fmt(created),
            _fmt(submitted),
            _fmt(reviewed) if reviewed else None,
        )

    def reports(self, rows) -> Iterator[tuple]:
        """(report_id, study_id, radiologist, content, status, created, submitted, reviewed):
        ``sampledata.reports.REPORT_FIELDS``' order, the study's id in its ``exam_id``."""
        for row in rows:
            r = self.report(row)
            if r is not None:
                yield r


if __name__ == "__main__":  # a quick look: python bench/reportgen.py bench/data/studies_10000.csv
    import csv
    import itertools
    import time

    with Path(sys.argv[1]).open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        t0 = time.perf_counter()
        n = sum(1 for _ in ReportGenerator().reports(reader))
        print(f"{n} reports in {time.perf_counter() - t0:.2f}s")
    with Path(sys.argv[1]).open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for r in itertools.islice(ReportGenerator().reports(reader), 3):
            print(r)
