"""Pure arithmetic of results, overrides and agreement (no Django)."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

SCORES = (0, 1, 2)


def apply_overrides(result: Mapping, overrides: Mapping[int, int]) -> dict:
    """The result with each overridden criterion's score replaced (``{subcategory_id: score}``)
    and the categories and overall verdict recomputed by the contract's rules: a category's
    score is the sum of its criteria and passes at ``score >= required_to_pass``; overall the sum,
    passed when every category passes."""
    final = copy.deepcopy(dict(result))
    categories = final.get("categories") or []
    for category in categories:
        for criterion in category.get("criteria") or []:
            sid = criterion.get("subcategory_id")
            if sid in overrides:
                criterion["score"] = overrides[sid]
                if criterion["score"] == 2:
                    criterion["rewrite_if_missing"] = None
        category["score"] = sum(c.get("score", 0) for c in category.get("criteria") or [])
        category["passed"] = category["score"] >= (category.get("required_to_pass") or 0)
    final["overall"] = {
        "total_score": sum(c["score"] for c in categories),
        "passed": all(c["passed"] for c in categories),
    }
    return final


def criterion_scores(result: Mapping) -> dict[int, int]:
    """``{subcategory_id: score}`` of a result."""
    return {
        c["subcategory_id"]: c.get("score", 0)
        for category in result.get("categories") or []
        for c in category.get("criteria") or []
    }


def weighted_kappa(
    pairs: Sequence[tuple[int, int]], *, levels: Sequence[int] = SCORES
) -> float | None:
    """Cohen's kappa with quadratic weights for ordinal scores (None without pairs, 1.0 when
    both raters agree on every pair and never vary: no disagreement is possible to correct)."""
    if not pairs:
        return None
    k = len(levels)
    position = {level: i for i, level in enumerate(levels)}
    n = len(pairs)
    observed = [[0.0] * k for _ in range(k)]
    for a, b in pairs:
        observed[position[a]][position[b]] += 1
    rows = [sum(observed[i]) for i in range(k)]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    weight = [[((i - j) ** 2) / ((k - 1) ** 2) for j in range(k)] for i in range(k)]
    disagreement_observed = sum(weight[i][j] * observed[i][j] for i in range(k) for j in range(k))
    disagreement_expected = sum(
        weight[i][j] * rows[i] * cols[j] / n for i in range(k) for j in range(k)
    )
    if disagreement_expected == 0:
        return 1.0 if disagreement_observed == 0 else 0.0
    return 1.0 - disagreement_observed / disagreement_expected


def exact_agreement(pairs: Sequence[tuple[int, int]]) -> float | None:
    if not pairs:
        return None
    return sum(1 for a, b in pairs if a == b) / len(pairs)


def distribution(values: Iterable[int]) -> list[dict[str, int]]:
    """``[{"total_score": s, "count": n}]`` in ascending score order."""
    counts = Counter(values)
    return [{"total_score": s, "count": counts[s]} for s in sorted(counts)]
