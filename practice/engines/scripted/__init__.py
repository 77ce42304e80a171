"""The scripted engines (SPEC-practice §6): offline, deterministic, no key.

``ScriptedPatient`` answers from the scenario's case sheet with its exact texts;
``ScriptedGrader`` scores each criterion 0/1/2 from its marking instructions, its evidence
phrasings and a built-in vocabulary of consultation skills. Both read English and Simplified
Chinese through the vocabulary data modules in ``vocabulary/``.
"""

from practice.engines.scripted.grader import ScriptedGrader
from practice.engines.scripted.patient import ScriptedPatient

__all__ = ["ScriptedGrader", "ScriptedPatient", "warm_up"]


def warm_up() -> None:
    """Compile the vocabularies now (about half a second, once per process) rather than on
    the first reply: a worker or web process can call this when it starts."""
    from practice.engines.scripted import grader, matcher

    matcher.english()
    matcher.chinese()
    grader._skills()
    grader._topic_mentions()
    grader._topic_groups()
