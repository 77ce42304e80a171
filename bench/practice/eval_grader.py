"""Agreement of the scripted grader with hand scores (bench/practice/evalset/transcripts.json).

Quadratic-weighted Cohen's kappa and exact agreement over every (transcript, criterion) pair,
per language and half (dev: the transcripts the grader was tuned on; held-out: the others),
and a structural check of every result: evidence indices point at learner messages only,
sorted and unique; quotes are verbatim sentences of those messages; a rewrite exactly where
the score is below 2.

    .venv/bin/python bench/practice/eval_grader.py
    .venv/bin/python bench/practice/eval_grader.py --errors dev
    .venv/bin/python bench/practice/eval_grader.py --json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from practice.engines.base import Category, Criterion, Turn  # noqa: E402
from practice.engines.scripted import ScriptedGrader  # noqa: E402

EVALSET = Path(__file__).resolve().parent / "evalset"
LANGUAGES = {"en": "en", "zh": "zh-hans"}


def quadratic_kappa(a: list[int], b: list[int], categories: int = 3) -> float:
    """Cohen's kappa with quadratic weights (1.0 perfect, 0.0 chance)."""
    n = len(a)
    if n == 0:
        return 0.0
    observed = [[0.0] * categories for _ in range(categories)]
    for x, y in zip(a, b, strict=True):
        observed[x][y] += 1
    hist_a = [sum(row) for row in observed]
    hist_b = [sum(observed[i][j] for i in range(categories)) for j in range(categories)]
    num = den = 0.0
    for i in range(categories):
        for j in range(categories):
            weight = (i - j) ** 2 / (categories - 1) ** 2
            expected = hist_a[i] * hist_b[j] / n
            num += weight * observed[i][j]
            den += weight * expected
    return 1.0 - num / den if den else 1.0


def rubric_of(spec: list[dict]) -> tuple[Category, ...]:
    return tuple(
        Category(
            c["id"],
            c["name"],
            c["required_to_pass"],
            tuple(
                Criterion(x["id"], x["name"], x["marking_instructions"], tuple(x["evidence"]))
                for x in c["criteria"]
            ),
        )
        for c in spec
    )


def structural_problems(transcript: list[Turn], grading) -> list[str]:
    problems = []
    for s in grading.scores:
        indices = list(s.message_indices)
        if indices != sorted(set(indices)):
            problems.append(f"{s.subcategory_id}: indices not sorted/unique")
        if any(transcript[i].role != "user" for i in indices):
            problems.append(f"{s.subcategory_id}: an index points at a patient message")
        for quote in s.quotes:
            if not any(quote in transcript[i].content for i in indices):
                problems.append(f"{s.subcategory_id}: quote not verbatim in its messages")
        if (s.rewrite_if_missing is None) != (s.score == 2):
            problems.append(f"{s.subcategory_id}: rewrite where it should not be (or missing)")
        if s.score == 0 and indices:
            problems.append(f"{s.subcategory_id}: evidence for a score of 0")
    return problems


def run() -> dict:
    data = json.loads((EVALSET / "transcripts.json").read_text("utf-8"))
    grader = ScriptedGrader()
    pairs: dict[str, tuple[list[int], list[int]]] = {}
    errors: dict[str, list[str]] = {}
    problems: list[str] = []
    for lang, language in LANGUAGES.items():
        rubric = rubric_of(data["rubrics"][lang])
        names = {x.id: x.name for c in rubric for x in c.criteria}
        for n, item in enumerate(data["transcripts"][lang]):
            split = "dev" if n % 2 == 0 else "held-out"
            transcript = [Turn(role, content) for role, content in item["messages"]]
            grading = grader.assess(rubric, transcript, language=language)
            problems += [f"{item['id']} {p}" for p in structural_problems(transcript, grading)]
            hand, auto = pairs.setdefault(f"{lang}/{split}", ([], []))
            for score in grading.scores:
                want = item["scores"][str(score.subcategory_id)]
                hand.append(want)
                auto.append(score.score)
                if want != score.score:
                    errors.setdefault(split, []).append(
                        f"[{item['id']}] {names[score.subcategory_id]}: hand {want}, grader "
                        f"{score.score}; quotes {list(score.quotes)}"
                    )
    figures: dict = {}
    all_hand: list[int] = []
    all_auto: list[int] = []
    for key, (hand, auto) in sorted(pairs.items()):
        all_hand += hand
        all_auto += auto
        figures[key] = {
            "pairs": len(hand),
            "qwk": round(quadratic_kappa(hand, auto), 3),
            "exact": round(sum(h == a for h, a in zip(hand, auto, strict=True)) / len(hand), 3),
        }
    figures["all"] = {
        "pairs": len(all_hand),
        "qwk": round(quadratic_kappa(all_hand, all_auto), 3),
        "exact": round(
            sum(h == a for h, a in zip(all_hand, all_auto, strict=True)) / len(all_hand), 3
        ),
    }
    figures["structural_problems"] = len(problems)
    return {"figures": figures, "errors": errors, "problems": problems}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", choices=["dev", "held-out"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run()
    figures = result["figures"]
    if args.json:
        print(json.dumps(figures, indent=1))
    else:
        print(f"{'set':<14} {'pairs':>6} {'QWK':>6} {'exact':>6}")
        for key, row in figures.items():
            if isinstance(row, dict):
                print(f"{key:<14} {row['pairs']:>6} {row['qwk']:>6.3f} {row['exact']:>6.1%}")
        print(f"structural problems: {figures['structural_problems']}")
        for p in result["problems"]:
            print("  ", p)
    if args.errors:
        for line in result["errors"].get(args.errors, []):
            print(line)


if __name__ == "__main__":
    main()
