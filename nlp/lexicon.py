"""Load and validate the data files: the findings lexicon and the cue phrases.

Both are TOML files in ``data/`` next to this module, read with the standard library. They are
checked strictly when loaded (unknown fields, wrong types, a term listed twice) so that a typo
in an edit fails loudly at start-up instead of silently matching nothing.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from nlp.matcher import PhraseMatcher, normalise_phrase

DATA_DIR = Path(__file__).resolve().parent / "data"
FINDINGS_FILE = DATA_DIR / "findings.toml"
CUES_FILE = DATA_DIR / "cues.toml"

REGIONS = ("chest", "abdomen", "neuro", "msk", "general")
SIDES = ("left", "right", "bilateral")
CUE_KINDS = (
    "negation",
    "uncertainty",
    "historical",
    "resolving",
    "pseudo",
    "terminator",
    "alternative",
)
# Cue kinds that qualify a finding in a scope, in the order they are read from cues.toml.
SCOPED_KINDS = ("negation", "uncertainty", "historical", "resolving")
SIZE_ROLES = ("current", "prior", "change")
CHANGE_TRENDS = ("new", "increased", "decreased", "resolved", "unchanged")
INTRINSIC = {"names": "positive", "absent": "negated", "uncertain": "uncertain"}

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_FINDING_FIELDS = {
    "label_en",
    "label_zh",
    "region",
    "critical",
    "en",
    "zh",
    "names",
    "absent",
    "uncertain",
    "region_bound",
    "elsewhere",
}


class LexiconError(ValueError):
    """A data file is malformed; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class FindingDef:
    """One finding of the lexicon."""

    key: str
    label_en: str
    label_zh: str
    region: str
    critical: bool
    terms_en: tuple[str, ...]
    terms_zh: tuple[str, ...]
    # Phrases that name the finding and say it is absent or doubtful by themselves (心影不大,
    # "heart size is normal", "borderline heart size"): no cue needed.
    absent: tuple[str, ...] = ()
    uncertain: tuple[str, ...] = ()
    # Phrases that name this finding together with others (液气胸, "pleural or pericardial
    # effusion"); their cues apply as to any term.
    names: tuple[str, ...] = ()
    # Read only in an examination of its region, or in a sentence that names the region
    # (片状高密度影 in a head CT is no lung opacity); elsewhere it is ``elsewhere`` or nothing.
    region_bound: bool = False
    elsewhere: str | None = None


@dataclass(frozen=True, slots=True)
class IntrinsicDef:
    """A phrase that asserts one or more findings by itself: 肝脾不大 = no hepatomegaly and no
    splenomegaly."""

    phrase: str
    findings: tuple[tuple[FindingDef, str], ...]  # (finding, positive | negated | uncertain)


@dataclass(frozen=True, slots=True)
class CueDef:
    """One cue phrase: what it does and in which direction it looks."""

    phrase: str
    kind: str  # negation | uncertainty | historical | resolving | pseudo | terminator | alternative
    pre: bool
    post: bool
    chinese: bool  # decides the scope rule (clause for Chinese, word window for English)


@dataclass(frozen=True, slots=True)
class SizeCueDef:
    """A phrase that tells what a size next to it is: current, prior (quoted) or a change."""

    phrase: str
    role: str  # current | prior | change
    pre: bool  # stands right before its size
    post: bool  # stands right after it


# eq=False: compared and hashed by identity, so compiled helpers can be cached per lexicon.
@dataclass(frozen=True, eq=False)
class Lexicon:
    """Everything the analyser reads from the data files, compiled for matching."""

    findings: dict[str, FindingDef]
    finding_matcher: PhraseMatcher[FindingDef]
    intrinsic_matcher: PhraseMatcher[IntrinsicDef]
    cue_matcher: PhraseMatcher[CueDef]
    change_matcher: PhraseMatcher[str]  # the report's change words -> trend
    exam_region_matcher: PhraseMatcher[str]  # words of an examination's name -> region
    sentence_region_matcher: PhraseMatcher[str]  # words that name a region in a sentence
    laterality_matcher: PhraseMatcher[str | None]
    size_cue_matcher: PhraseMatcher[SizeCueDef]
    size_filler: re.Pattern[str]  # what may stand between a size cue and its size
    section_headers: dict[str, str]  # normalised header phrase -> section key
    abbreviations: frozenset[str]
    english_max_scope: int  # words a cue reaches in English; 0 = to the end of its scope
    chinese_breaks: frozenset[str]
    english_breaks: frozenset[str]
    english_clause_openers: frozenset[str]  # words after a comma that end a list's scope
    fingerprint: str  # first 12 hex digits of the SHA-256 of both files

    @property
    def critical_keys(self) -> frozenset[str]:
        return frozenset(k for k, f in self.findings.items() if f.critical)


def is_chinese(text: str) -> bool:
    """True when the text contains a CJK ideograph."""
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The lexicon of the files shipped in ``data/``, loaded once per process."""
    return load_lexicon()


def load_lexicon(findings_path: Path | None = None, cues_path: Path | None = None) -> Lexicon:
    """Read, validate and compile the two data files."""
    findings_path = Path(findings_path or FINDINGS_FILE)
    cues_path = Path(cues_path or CUES_FILE)
    findings_raw = findings_path.read_bytes()
    cues_raw = cues_path.read_bytes()
    findings_doc = _parse(findings_raw, findings_path)
    cues_doc = _parse(cues_raw, cues_path)

    max_gap = _int(findings_doc.get("max_gap_chars", 4), findings_path.name, "max_gap_chars")
    findings = _read_findings(findings_doc, findings_path.name)
    finding_terms = [(term, f) for f in findings.values() for term in (*f.terms_en, *f.terms_zh)]
    try:
        finding_matcher = PhraseMatcher(finding_terms, plurals=True, max_gap=max_gap)
    except ValueError as exc:
        raise LexiconError(f"{findings_path.name}: {exc}") from exc

    intrinsic = _read_intrinsic(findings)
    for f in findings.values():
        if f.elsewhere is not None and f.elsewhere not in findings:
            raise LexiconError(
                f"{findings_path.name} [findings.{f.key}]: elsewhere names no finding"
            )
    try:
        intrinsic_matcher = PhraseMatcher((d.phrase, d) for d in intrinsic)
    except ValueError as exc:
        raise LexiconError(f"{findings_path.name}: {exc}") from exc

    cues = _read_cues(cues_doc, cues_path.name)
    changes = _read_changes(cues_doc, cues_path.name)
    exam_regions, sentence_regions = _read_regions(cues_doc, cues_path.name)
    laterality = _read_laterality(cues_doc, cues_path.name)
    size_cues, fillers = _read_size_cues(cues_doc, cues_path.name)
    try:
        cue_matcher = PhraseMatcher((c.phrase, c) for c in cues)
        laterality_matcher = PhraseMatcher(laterality)
        size_cue_matcher = PhraseMatcher((c.phrase, c) for c in size_cues)
        change_matcher = PhraseMatcher(changes)
        exam_region_matcher = PhraseMatcher(exam_regions)
        sentence_region_matcher = PhraseMatcher(sentence_regions)
    except ValueError as exc:
        raise LexiconError(f"{cues_path.name}: {exc}") from exc

    scope = _table(cues_doc, "scope", cues_path.name)
    sentences = _table(cues_doc, "sentences", cues_path.name)
    return Lexicon(
        findings=findings,
        finding_matcher=finding_matcher,
        intrinsic_matcher=intrinsic_matcher,
        cue_matcher=cue_matcher,
        change_matcher=change_matcher,
        exam_region_matcher=exam_region_matcher,
        sentence_region_matcher=sentence_region_matcher,
        laterality_matcher=laterality_matcher,
        size_cue_matcher=size_cue_matcher,
        size_filler=_filler_pattern(fillers),
        section_headers=_read_sections(cues_doc, cues_path.name),
        abbreviations=frozenset(
            a.lower().rstrip(".")
            for a in _strings(sentences.get("abbreviations", []), cues_path.name, "abbreviations")
        ),
        english_max_scope=_int(scope.get("english_max_scope", 0), cues_path.name, "scope"),
        chinese_breaks=frozenset(_str(scope.get("chinese_breaks", ""), cues_path.name, "scope")),
        english_breaks=frozenset(_str(scope.get("english_breaks", ""), cues_path.name, "scope")),
        english_clause_openers=frozenset(
            normalise_phrase(w)
            for w in _strings(
                scope.get("english_clause_openers", []), cues_path.name, "clause openers"
            )
        ),
        fingerprint=hashlib.sha256(findings_raw + b"\0" + cues_raw).hexdigest()[:12],
    )


# ------------------------------------------------------------------------------- readers


def _parse(raw: bytes, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LexiconError(f"{path.name}: not valid UTF-8 TOML: {exc}") from exc


def _read_findings(doc: dict[str, Any], where: str) -> dict[str, FindingDef]:
    table = _table(doc, "findings", where)
    if not table:
        raise LexiconError(f"{where}: no [findings.<key>] tables")
    findings: dict[str, FindingDef] = {}
    for key, entry in table.items():
        ctx = f"{where} [findings.{key}]"
        if not _KEY_RE.match(key):
            raise LexiconError(f"{ctx}: key must be lower_snake_case")
        if not isinstance(entry, dict):
            raise LexiconError(f"{ctx}: must be a table")
        unknown = set(entry) - _FINDING_FIELDS
        if unknown:
            raise LexiconError(f"{ctx}: unknown field(s) {', '.join(sorted(unknown))}")
        region = _str(entry.get("region"), ctx, "region")
        if region not in REGIONS:
            raise LexiconError(f"{ctx}: region must be one of {', '.join(REGIONS)}")
        critical = entry.get("critical")
        if not isinstance(critical, bool):
            raise LexiconError(f"{ctx}: critical must be true or false")
        terms_en = tuple(_strings(entry.get("en", []), ctx, "en"))
        terms_zh = tuple(_strings(entry.get("zh", []), ctx, "zh"))
        if not terms_en and not terms_zh:
            raise LexiconError(f"{ctx}: needs at least one term in en or zh")
        region_bound = entry.get("region_bound", False)
        if not isinstance(region_bound, bool):
            raise LexiconError(f"{ctx}: region_bound must be true or false")
        elsewhere = entry.get("elsewhere")
        if elsewhere is not None:
            _str(elsewhere, ctx, "elsewhere")
        findings[key] = FindingDef(
            key=key,
            label_en=_str(entry.get("label_en"), ctx, "label_en"),
            label_zh=_str(entry.get("label_zh"), ctx, "label_zh"),
            region=region,
            critical=critical,
            terms_en=terms_en,
            terms_zh=terms_zh,
            absent=tuple(_strings(entry.get("absent", []), ctx, "absent")),
            uncertain=tuple(_strings(entry.get("uncertain", []), ctx, "uncertain")),
            names=tuple(_strings(entry.get("names", []), ctx, "names")),
            region_bound=region_bound,
            elsewhere=elsewhere,
        )
    return findings


def _read_intrinsic(findings: dict[str, FindingDef]) -> list[IntrinsicDef]:
    # One phrase may deny several findings (肝脾不大): merged into one entry.
    merged: dict[str, tuple[str, list[tuple[FindingDef, str]]]] = {}
    for f in findings.values():
        for field, assertion in INTRINSIC.items():
            for phrase in getattr(f, field):
                norm = normalise_phrase(phrase)
                merged.setdefault(norm, (phrase, []))[1].append((f, assertion))
    return [IntrinsicDef(phrase, tuple(items)) for phrase, items in merged.values()]


def _read_changes(doc: dict[str, Any], where: str) -> list[tuple[str, str]]:
    table = _table(doc, "change", where)
    unknown = set(table) - set(CHANGE_TRENDS)
    if unknown:
        raise LexiconError(f"{where} [change]: unknown trend(s) {', '.join(sorted(unknown))}")
    return [
        (phrase, trend)
        for trend in CHANGE_TRENDS
        for phrase in _strings(table.get(trend, []), where, f"change.{trend}")
    ]


def _read_regions(
    doc: dict[str, Any], where: str
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    table = _table(doc, "regions", where)
    exam: list[tuple[str, str]] = []
    sentence: list[tuple[str, str]] = []
    for region, entry in table.items():
        if region not in REGIONS or not isinstance(entry, dict):
            raise LexiconError(f"{where} [regions.{region}]: must be a table named by a region")
        extra = set(entry) - {"exam", "sentence"}
        if extra:
            raise LexiconError(f"{where} [regions.{region}]: unknown field(s) {sorted(extra)}")
        exam += [(p, region) for p in _strings(entry.get("exam", []), where, "regions.exam")]
        sentence += [
            (p, region) for p in _strings(entry.get("sentence", []), where, "regions.sentence")
        ]
    return exam, sentence


def _read_cues(doc: dict[str, Any], where: str) -> list[CueDef]:
    # phrase -> [kind, pre, post, phrase as written]; a phrase may be pre and post of one kind.
    merged: dict[str, list[Any]] = {}

    def add(phrase: str, kind: str, pre: bool, post: bool) -> None:
        norm = normalise_phrase(phrase)
        if norm in merged:
            if merged[norm][0] != kind:
                raise LexiconError(
                    f"{where}: {phrase!r} is both a {merged[norm][0]} and a {kind} cue"
                )
            merged[norm][1] |= pre
            merged[norm][2] |= post
        else:
            merged[norm] = [kind, pre, post, phrase]

    for kind in SCOPED_KINDS:
        table = _table(doc, kind, where)
        for phrase in _strings(table.get("pre", []), where, f"{kind}.pre"):
            add(phrase, kind, True, False)
        for phrase in _strings(table.get("post", []), where, f"{kind}.post"):
            add(phrase, kind, False, True)
    for kind in ("pseudo", "terminator", "alternative"):
        name = {"terminator": "terminators", "alternative": "alternatives"}.get(kind, kind)
        table = _table(doc, name, where)
        for phrase in _strings(table.get("phrases", []), where, f"{kind}.phrases"):
            add(phrase, kind, False, False)
    return [
        CueDef(phrase=phrase, kind=kind, pre=pre, post=post, chinese=is_chinese(phrase))
        for kind, pre, post, phrase in merged.values()
    ]


def _read_size_cues(doc: dict[str, Any], where: str) -> tuple[list[SizeCueDef], list[str]]:
    table = _table(doc, "sizes", where)
    unknown = set(table) - {"fillers", *SIZE_ROLES}
    if unknown:
        raise LexiconError(f"{where} [sizes]: unknown field(s) {', '.join(sorted(unknown))}")
    merged: dict[str, list[Any]] = {}  # phrase -> [role, pre, post, phrase as written]
    for role in SIZE_ROLES:
        entry = _table(table, role, f"{where} [sizes]")
        extra = set(entry) - {"pre", "post"}
        if extra:
            raise LexiconError(
                f"{where} [sizes.{role}]: unknown field(s) {', '.join(sorted(extra))}"
            )
        for direction in ("pre", "post"):
            for phrase in _strings(entry.get(direction, []), where, f"sizes.{role}.{direction}"):
                norm = normalise_phrase(phrase)
                item = merged.setdefault(norm, [role, False, False, phrase])
                if item[0] != role:
                    raise LexiconError(
                        f"{where}: size cue {phrase!r} is both a {item[0]} and a {role} cue"
                    )
                item[1 if direction == "pre" else 2] = True
    cues = [SizeCueDef(phrase, role, pre, post) for role, pre, post, phrase in merged.values()]
    return cues, _strings(table.get("fillers", []), where, "sizes.fillers")


def _filler_pattern(fillers: list[str]) -> re.Pattern[str]:
    """Matches a whole gap of spaces, colons and filler words, in any order and number."""
    words = sorted({normalise_phrase(f) for f in fillers}, key=len, reverse=True)
    alts = []
    for w in words:
        body = r"[\s\-]+".join(re.escape(part) for part in w.split(" "))
        if w[-1].isascii() and w[-1].isalnum():
            body += r"(?![A-Za-z0-9])"
        alts.append(body)
    filler = "|".join(alts) or "(?!)"
    # One separator character per repetition: "(?:\s+)*" would backtrack exponentially.
    return re.compile(rf"(?:[\s:：~～≈]|{filler})*", re.IGNORECASE)


def _read_laterality(doc: dict[str, Any], where: str) -> list[tuple[str, str | None]]:
    table = _table(doc, "laterality", where)
    terms: list[tuple[str, str | None]] = []
    for side in (*SIDES, "none"):
        for phrase in _strings(table.get(side, []), where, f"laterality.{side}"):
            terms.append((phrase, None if side == "none" else side))
    return terms


def _read_sections(doc: dict[str, Any], where: str) -> dict[str, str]:
    table = _table(doc, "sections", where)
    headers: dict[str, str] = {}
    for key, entry in table.items():
        if not _KEY_RE.match(key) or not isinstance(entry, dict):
            raise LexiconError(f"{where} [sections.{key}]: must be a table with a snake_case key")
        for lang in ("en", "zh"):
            for phrase in _strings(entry.get(lang, []), where, f"sections.{key}.{lang}"):
                norm = normalise_phrase(phrase)
                if headers.get(norm, key) != key:
                    raise LexiconError(f"{where}: header {phrase!r} belongs to two sections")
                headers[norm] = key
    return headers


def _table(doc: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise LexiconError(f"{where}: [{name}] must be a table")
    return value


def _strings(value: Any, where: str, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise LexiconError(f"{where}: {field} must be a list of non-empty strings")
    return value


def _str(value: Any, where: str, field: str) -> str:
    if not isinstance(value, str):
        raise LexiconError(f"{where}: {field} must be a string")
    return value


def _int(value: Any, where: str, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LexiconError(f"{where}: {field} must be a non-negative integer")
    return value
