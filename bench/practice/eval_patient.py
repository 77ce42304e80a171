"""Exact-reply accuracy of the scripted patient on the evaluation set (bench/practice/evalset).

Every phrasing (and every combined message) is sent to every case sheet of its language; the
expected reply is composed from the message's labels by SPEC-practice §6's rules, written
here independently of the engine. The sets alternate dev (built the vocabulary) and held-out
(never looked at while building it); ``fresh_*.json`` is a second held-out set written after
the tuning on the dev half.

    .venv/bin/python bench/practice/eval_patient.py                # the table
    .venv/bin/python bench/practice/eval_patient.py --errors dev   # what the dev half misses
    .venv/bin/python bench/practice/eval_patient.py --write-expected   # evalset/patient_expected.json
    .venv/bin/python bench/practice/eval_patient.py --json         # the figures as JSON
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from practice.casesheet import patient_view, validate_case  # noqa: E402
from practice.engines.scripted.patient import compose_text  # noqa: E402

EVALSET = Path(__file__).resolve().parent / "evalset"
LANGUAGES = {"en": "en", "zh": "zh-hans"}
NON_TOPICS = ("greeting", "empathy", "unknown")


@dataclass
class Item:
    language: str
    # dev | held-out | fresh (a second set, written after tuning on dev, measured, then tuned
    # on) | fresh2, fresh3 (a third and a fourth, measured untouched, then tuning data)
    split: str
    kind: str  # a topic, greeting, empathy, unknown or combo
    message: str
    greeting: bool = False
    empathy: bool = False
    topics: tuple[str, ...] = ()
    others: tuple[str, ...] = ()


@dataclass
class Tally:
    right: int = 0
    total: int = 0
    errors: list[dict] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0


def load_items() -> list[Item]:
    items: list[Item] = []
    for lang in LANGUAGES:
        phrasings = json.loads((EVALSET / f"phrasings_{lang}.json").read_text("utf-8"))
        for kind, messages in phrasings.items():
            if kind.startswith("_"):
                continue
            for n, message in enumerate(messages):
                items.append(
                    Item(
                        language=lang,
                        split="dev" if n % 2 == 0 else "held-out",
                        kind=kind,
                        message=message,
                        greeting=kind == "greeting",
                        empathy=kind == "empathy",
                        topics=() if kind in NON_TOPICS else (kind,),
                    )
                )
        for name, split in (("fresh", "fresh"), ("fresh2", "fresh2"), ("fresh3", "fresh3")):
            items.extend(_set_items(lang, name, split))
    combos = json.loads((EVALSET / "combos.json").read_text("utf-8"))
    for lang in LANGUAGES:
        for n, combo in enumerate(combos[lang]):
            items.append(
                Item(
                    language=lang,
                    split="dev" if n % 2 == 0 else "held-out",
                    kind="combo",
                    message=combo["m"],
                    greeting=combo.get("g", False),
                    empathy=combo.get("e", False),
                    topics=tuple(combo.get("t", ())),
                    others=tuple(combo.get("o", ())),
                )
            )
    return items


def _set_items(lang: str, name: str, split: str) -> list[Item]:
    """Every phrasing of one extra set, all in one split."""
    phrasings = json.loads((EVALSET / f"{name}_{lang}.json").read_text("utf-8"))
    return [
        Item(
            language=lang,
            split=split,
            kind=kind,
            message=message,
            greeting=kind == "greeting",
            empathy=kind == "empathy",
            topics=() if kind in NON_TOPICS else (kind,),
        )
        for kind, messages in phrasings.items()
        if not kind.startswith("_")
        for message in messages
    ]


def load_cases() -> dict[str, list[dict]]:
    cases = json.loads((EVALSET / "cases.json").read_text("utf-8"))
    for lang in LANGUAGES:
        for case in cases[lang]:
            validate_case(case)
    return {lang: cases[lang] for lang in LANGUAGES}


def expected_reply(case: dict, item: Item) -> str:
    """SPEC-practice §6, from the labels: the reference the engine is measured against."""
    facts = case["facts"]
    parts: list[str] = []
    if item.greeting:
        parts.append(case["opening"])
        parts.extend(f["answer"] for f in facts if f.get("volunteer"))
    for fact in facts:
        asked = fact["topic"] in item.topics if fact["topic"] != "other" else False
        if fact.get("id") in item.others:
            asked = True
        if asked:
            parts.append(fact["answer"])
    if not parts:
        parts.append(case["empathy_answer"] if item.empathy else case["unknown_answer"])
    unique = list(dict.fromkeys(parts))
    return ("" if item.language == "zh" else " ").join(unique)


def run() -> tuple[dict[tuple[str, str], Tally], int, list[dict]]:
    cases = load_cases()
    tallies: dict[tuple[str, str], Tally] = {}
    leaks = 0
    expected_rows = []
    for item in load_items():
        for case in cases[item.language]:
            want = expected_reply(case, item)
            got = compose_text(patient_view(case), item.message, LANGUAGES[item.language])
            tally = tallies.setdefault((item.language, item.split), Tally())
            tally.total += 1
            diagnosis = case["hidden"]["diagnosis"]
            if diagnosis.casefold() in got.casefold():
                leaks += 1
            if got == want:
                tally.right += 1
            else:
                tally.errors.append(
                    {
                        "case": case["id"],
                        "kind": item.kind,
                        "message": item.message,
                        "want": want,
                        "got": got,
                    }
                )
            expected_rows.append(
                {
                    "language": item.language,
                    "split": item.split,
                    "case": case["id"],
                    "kind": item.kind,
                    "message": item.message,
                    "expected": want,
                }
            )
    return tallies, leaks, expected_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--errors",
        choices=["dev", "held-out", "fresh", "fresh2", "fresh3"],
        help="list the misses of a half",
    )
    parser.add_argument("--write-expected", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tallies, leaks, rows = run()
    if args.write_expected:
        path = EVALSET / "patient_expected.json"
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", "utf-8")
        print(f"wrote {len(rows)} expected replies to {path.relative_to(ROOT)}")
    figures = {
        f"{lang}/{split}": {"right": t.right, "total": t.total, "accuracy": round(t.accuracy, 4)}
        for (lang, split), t in sorted(tallies.items())
    }
    figures["diagnosis_leaks"] = leaks
    if args.json:
        print(json.dumps(figures, indent=1))
    else:
        print(f"{'language/split':<16} {'exact':>7} {'of':>5} {'accuracy':>9}")
        for (lang, split), t in sorted(tallies.items()):
            print(f"{lang + '/' + split:<16} {t.right:>7} {t.total:>5} {t.accuracy:>9.1%}")
        print(f"diagnosis leaks: {leaks}")
    if args.errors:
        for (lang, split), t in sorted(tallies.items()):
            if split != args.errors:
                continue
            for e in t.errors:
                print(
                    f"[{lang} {e['case']} {e['kind']}] {e['message']!r}\n   want {e['want']!r}\n   got  {e['got']!r}"
                )


if __name__ == "__main__":
    main()
