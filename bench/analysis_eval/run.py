"""Score the report analysis, and medspaCy's ConText beside it, on the labelled evaluation set.

    .venv/bin/python bench/analysis_eval/run.py [--split tune|heldout|both] [--lang en|zh|both]
                                               [--no-medspacy] [--errors] [--json]

The set: ``en.tsv`` and ``zh.tsv`` in this folder, one sentence or short report a line
(``exam<TAB>text<TAB>labels``; labels ``key+`` present, ``key-`` absent, ``key?`` uncertain,
``none``). Items alternate between the halves by their order in the file: the 1st, 3rd, 5th ...
item is in ``tune``, the 2nd, 4th ... in ``heldout``. Tune on ``tune`` only: ``--errors``
lists the wrong items of the tuning half and refuses to list the held-out ones.

Scores, per language and half: micro-F1 over (finding, assertion) pairs of every item; macro-F1,
the mean over findings of each finding's F1 on its pairs; and normal-vs-abnormal accuracy
(abnormal = at least one finding present). medspaCy (English only: it has no Chinese rules) runs
in ``bench/.venv`` in a subprocess, with the product lexicon's English terms as its targets.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from nlp import analyze_text, default_lexicon  # noqa: E402

MEDSPACY_PYTHON = ROOT / "bench" / ".venv" / "bin" / "python"
SYMBOL = {"+": "present", "-": "absent", "?": "uncertain"}
ASSERTION = {"positive": "present", "negated": "absent", "uncertain": "uncertain"}


def load(lang: str) -> list[dict]:
    items = []
    path = HERE / f"{lang}.tsv"
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        exam, text, labels = line.split("\t")
        gold = set()
        for label in labels.split():
            if label == "none":
                continue
            gold.add((label[:-1], SYMBOL[label[-1]]))
        split = "tune" if len(items) % 2 == 0 else "heldout"
        items.append({"line": n, "exam": exam, "text": text, "gold": gold, "split": split})
    return items


def product(items: list[dict]) -> tuple[list[set], float]:
    preds = []
    started = time.perf_counter()
    for item in items:
        found: dict[str, set[str]] = defaultdict(set)
        for m in analyze_text(item["text"], exam=item["exam"]).mentions:
            found[m.key].add(ASSERTION[m.assertion])
        preds.append({(k, _report_level(v)) for k, v in found.items()})
    return preds, (time.perf_counter() - started) * 1000 / max(len(items), 1)


def medspacy(items: list[dict]) -> tuple[list[set], float] | str:
    """Predictions of medspaCy, or the reason it could not run."""
    try:
        import medspacy as _  # noqa: F401

        python = sys.executable
    except ImportError:
        if not MEDSPACY_PYTHON.exists():
            return "medspaCy is not installed (see bench/analysis_eval/README.md)"
        python = str(MEDSPACY_PYTHON)
    lex = default_lexicon()
    rules = [[t, f.key] for f in lex.findings.values() for t in f.terms_en]
    payload = json.dumps({"texts": [i["text"] for i in items], "rules": rules})
    proc = subprocess.run(
        [python, str(HERE / "medspacy_runner.py")],
        input=payload,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        check=False,
    )
    if proc.returncode != 0:
        return f"medspaCy failed: {proc.stderr.strip().splitlines()[-1:]}"
    out = json.loads(proc.stdout)
    return [{tuple(p) for p in pred} for pred in out["predictions"]], out["ms_per_text"]


def _report_level(assertions: set[str]) -> str:
    for a in ("present", "uncertain", "absent"):
        if a in assertions:
            return a
    return "absent"


def score(golds: list[set], preds: list[set]) -> dict:
    tp = fp = fn = 0
    per_key: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    correct_normal = 0
    for gold, pred in zip(golds, preds, strict=True):
        for pair in gold | pred:
            k = per_key[pair[0]]
            if pair in gold and pair in pred:
                tp += 1
                k[0] += 1
            elif pair in pred:
                fp += 1
                k[1] += 1
            else:
                fn += 1
                k[2] += 1
        abnormal = any(a == "present" for _, a in gold)
        said_abnormal = any(a == "present" for _, a in pred)
        correct_normal += abnormal == said_abnormal
    macro = [_f1(*v) for v in per_key.values()]
    return {
        "items": len(golds),
        "micro_f1": round(_f1(tp, fp, fn), 4),
        "macro_f1": round(sum(macro) / len(macro), 4) if macro else 0.0,
        "normal_abnormal_accuracy": round(correct_normal / max(len(golds), 1), 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("tune", "heldout", "both"), default="both")
    ap.add_argument("--lang", choices=("en", "zh", "both"), default="both")
    ap.add_argument("--no-medspacy", action="store_true")
    ap.add_argument("--errors", action="store_true", help="list wrong items (tuning half only)")
    ap.add_argument("--json", action="store_true", help="one JSON line of the results")
    args = ap.parse_args()
    if args.errors and args.split != "tune":
        ap.error("--errors lists the tuning half only: add --split tune")
    splits = ("tune", "heldout") if args.split == "both" else (args.split,)
    langs = ("en", "zh") if args.lang == "both" else (args.lang,)
    results = []
    for lang in langs:
        items = load(lang)
        ours, ours_ms = product(items)
        theirs = None if args.no_medspacy or lang != "en" else medspacy(items)
        for split in splits:
            idx = [i for i, item in enumerate(items) if item["split"] == split]
            golds = [items[i]["gold"] for i in idx]
            row = {"lang": lang, "split": split, "system": "product", "ms_per_text": ours_ms}
            results.append(row | score(golds, [ours[i] for i in idx]))
            if isinstance(theirs, str):
                results.append({"lang": lang, "split": split, "system": "medspacy", "note": theirs})
            elif theirs is not None:
                preds, ms = theirs
                row = {"lang": lang, "split": split, "system": "medspacy", "ms_per_text": ms}
                results.append(row | score(golds, [preds[i] for i in idx]))
            if args.errors:
                for i in idx:
                    if ours[i] != items[i]["gold"]:
                        item = items[i]
                        print(
                            f"{lang}:{item['line']} [{item['exam']}] {item['text']}\n"
                            f"    gold {sorted(item['gold'])}\n    got  {sorted(ours[i])}"
                        )
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return 0
    print(
        f"{'lang':4} {'half':8} {'system':9} {'items':>5} {'micro-F1':>9} {'macro-F1':>9} "
        f"{'norm/abn':>9} {'ms/text':>8}"
    )
    for r in results:
        if "note" in r:
            print(f"{r['lang']:4} {r['split']:8} {r['system']:9} {r['note']}")
            continue
        print(
            f"{r['lang']:4} {r['split']:8} {r['system']:9} {r['items']:5d} {r['micro_f1']:9.3f} "
            f"{r['macro_f1']:9.3f} {r['normal_abnormal_accuracy']:9.3f} {r['ms_per_text']:8.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
