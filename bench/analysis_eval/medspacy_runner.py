"""medspaCy's ConText on the evaluation items, for the benchmark only (runs in bench/.venv).

Reads JSON from stdin: ``{"texts": [...], "rules": [[phrase, key], ...]}``; writes JSON to stdout:
``{"predictions": [[[key, assertion], ...], ...], "ms_per_text": float}``.

The target rules are the product lexicon's English terms (with their plural and hyphenated
forms, since a blank spaCy pipeline has no lemmatiser), so the comparison is of assertion and
matching, not of vocabularies. ConText runs with medspaCy's default rules. A target is
``absent`` when negated, ``uncertain`` when uncertain or hypothetical, otherwise ``present``
(historical counts as present: "old healed fracture" is still there).
"""

from __future__ import annotations

import json
import sys
import time

import medspacy
from medspacy.ner import TargetRule


def _variants(phrase: str) -> set[str]:
    forms = {phrase, phrase.replace(" ", "-")}
    if phrase[-1].isalpha():
        forms |= {f + "s" for f in list(forms)} | {f + "es" for f in list(forms)}
    return forms


def main() -> None:
    try:  # PyRuSH logs every token at DEBUG through loguru
        from loguru import logger

        logger.remove()
    except ImportError:
        pass
    payload = json.load(sys.stdin)
    nlp = medspacy.load()
    matcher = nlp.get_pipe("medspacy_target_matcher")
    seen: set[str] = set()
    rules = []
    for phrase, key in payload["rules"]:
        for form in _variants(phrase.lower()):
            if form not in seen:
                seen.add(form)
                rules.append(TargetRule(form, key))
    matcher.add(rules)
    out = []
    started = time.perf_counter()
    for text in payload["texts"]:
        doc = nlp(text)
        found: dict[str, set[str]] = {}
        for ent in doc.ents:
            if ent._.is_negated:
                assertion = "absent"
            elif ent._.is_uncertain or ent._.is_hypothetical:
                assertion = "uncertain"
            else:
                assertion = "present"
            found.setdefault(ent.label_, set()).add(assertion)
        out.append([[k, _report_level(v)] for k, v in found.items()])
    elapsed = time.perf_counter() - started
    n = max(len(payload["texts"]), 1)
    json.dump({"predictions": out, "ms_per_text": elapsed * 1000 / n}, sys.stdout)


def _report_level(assertions: set[str]) -> str:
    # One affirmed mention makes the finding present; else a hedge; else absent.
    for a in ("present", "uncertain", "absent"):
        if a in assertions:
            return a
    return "absent"


if __name__ == "__main__":
    main()
