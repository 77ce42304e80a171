"""The scripted engines (SPEC-practice §6): offline, deterministic, no key.

``ScriptedPatient`` answers from the scenario's case sheet with its exact texts;
``ScriptedGrader`` scores each criterion 0/1/2 from its marking instructions, its evidence
phrasings and a built-in vocabulary of consultation skills. Both read English and Simplified
Chinese through the vocabulary data modules in ``vocabulary/``.
"""

from practice.engines.scripted.grader import ScriptedGrader
from practice.engines.scripted.patient import ScriptedPatient

__all__ = ["ScriptedGrader", "ScriptedPatient"]
