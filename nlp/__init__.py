"""Pure, offline analysis of radiology report text (Chinese and English).

No Django, no network, no models: functions of text and dates, deterministic and explainable.
The lexicon and cue phrases live in ``data/*.toml`` and can be extended without code.

Modules: ``matcher`` (longest-match phrase finder), ``lexicon`` (data files), ``text`` (sections
and sentences), ``measurements`` (sizes in mm, current or quoted from a prior study), ``cues``
(negation, uncertainty, laterality), ``extract`` (findings per sentence), ``timeline``
(turnaround), ``analyses`` (the three analyses and the choice of a prior study).
"""

from nlp.analyses import (
    ANALYSIS_TYPES,
    ENGINE_VERSION,
    STABLE_MM,
    STABLE_PERCENT,
    analyze_comparison,
    analyze_detailed,
    analyze_general,
    primary_report,
    run_analysis,
    select_prior,
)
from nlp.extract import analyze_text, extract_findings
from nlp.lexicon import Lexicon, LexiconError, default_lexicon, load_lexicon
from nlp.measurements import (
    classify_measurements,
    find_measurements,
    parse_measurements,
)
from nlp.text import split_report, split_sections, split_sentences
from nlp.timeline import compute_timeline, format_datetime

__all__ = [
    "ANALYSIS_TYPES",
    "ENGINE_VERSION",
    "STABLE_MM",
    "STABLE_PERCENT",
    "Lexicon",
    "LexiconError",
    "analyze_comparison",
    "analyze_detailed",
    "analyze_general",
    "analyze_text",
    "classify_measurements",
    "compute_timeline",
    "default_lexicon",
    "extract_findings",
    "find_measurements",
    "format_datetime",
    "load_lexicon",
    "parse_measurements",
    "primary_report",
    "run_analysis",
    "select_prior",
    "split_report",
    "split_sections",
    "split_sentences",
]
