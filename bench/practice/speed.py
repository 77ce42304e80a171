"""Speed of the scripted engines, in process (targets: reply <= 10 ms, assessment of a
40-message transcript <= 50 ms, medians).

Replies: every message of the evaluation set against every case sheet of its language.
Assessments: 40-message transcripts cut from the hand-scored ones (en and zh), graded on the
evaluation rubric, with the grader's caches emptied before every call so that nothing is
reused between runs. The one-off cost of compiling the vocabularies is reported apart.

    .venv/bin/python bench/practice/speed.py [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_grader import rubric_of  # noqa: E402
from eval_patient import LANGUAGES, load_cases, load_items  # noqa: E402

from practice.casesheet import patient_view  # noqa: E402
from practice.engines.base import PatientContext, Turn  # noqa: E402

EVALSET = Path(__file__).resolve().parent / "evalset"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def forty(messages: list[list[str]]) -> list[Turn]:
    """A 40-message transcript: the hand-scored one repeated until it is long enough."""
    turns: list[Turn] = []
    while len(turns) < 40:
        turns.extend(Turn(role, content) for role, content in messages)
    return turns[:40]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    start = time.perf_counter()
    from practice.engines.scripted import ScriptedGrader, ScriptedPatient, grader, matcher

    matcher.english()
    matcher.chinese()
    grader._skills()
    warmup_ms = (time.perf_counter() - start) * 1000

    patient = ScriptedPatient()
    cases = load_cases()
    reply_ms: dict[str, list[float]] = {"en": [], "zh": []}
    for item in load_items():
        for case in cases[item.language]:
            context = PatientContext(
                scenario_id=1,
                scenario_text="",
                language=LANGUAGES[item.language],
                case=patient_view(case),
            )
            transcript = [Turn("user", item.message)]
            matcher.clear_caches()
            t = time.perf_counter()
            patient.reply(context, transcript)
            reply_ms[item.language].append((time.perf_counter() - t) * 1000)

    data = json.loads((EVALSET / "transcripts.json").read_text("utf-8"))
    scripted = ScriptedGrader()
    assess_ms: dict[str, list[float]] = {"en": [], "zh": []}
    for lang in LANGUAGES:
        rubric = rubric_of(data["rubrics"][lang])
        for _ in range(5):
            for item in data["transcripts"][lang]:
                transcript = forty(item["messages"])
                grader.clear_caches()
                t = time.perf_counter()
                scripted.assess(rubric, transcript, language=LANGUAGES[lang])
                assess_ms[lang].append((time.perf_counter() - t) * 1000)

    figures = {"vocabulary_compile_ms": round(warmup_ms, 1)}
    for lang in LANGUAGES:
        figures[f"reply_{lang}"] = {
            "n": len(reply_ms[lang]),
            "median_ms": round(statistics.median(reply_ms[lang]), 3),
            "p95_ms": round(percentile(reply_ms[lang], 0.95), 3),
        }
        figures[f"assess40_{lang}"] = {
            "n": len(assess_ms[lang]),
            "median_ms": round(statistics.median(assess_ms[lang]), 2),
            "p95_ms": round(percentile(assess_ms[lang], 0.95), 2),
        }
    if args.json:
        print(json.dumps(figures, indent=1))
        return
    print(f"vocabulary compile (once per process): {figures['vocabulary_compile_ms']} ms")
    print(f"{'measure':<14} {'n':>6} {'median ms':>10} {'p95 ms':>8}")
    for key, row in figures.items():
        if isinstance(row, dict):
            print(f"{key:<14} {row['n']:>6} {row['median_ms']:>10} {row['p95_ms']:>8}")


if __name__ == "__main__":
    main()
