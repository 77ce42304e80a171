"""The reading engine: what the radiologist sees on a study, given the patient's history.

:class:`ReadingEngine` is fed studies in chronological order and returns a :class:`Reading`
(findings text, impression, full report content) for each examined one. The findings of a
patient's earlier study of the same region are kept so that a follow-up describes the same
nodule again — larger, smaller or stable — an effusion resolving, or something new.

Both :func:`sampledata.studies.generate_studies` (for ``exam_description``) and
:func:`sampledata.reports.generate_reports` (for report content) run an engine over the same
studies, so a study's description and its report agree. That only works if the engine's
choices depend on nothing but the studies: every study gets its own ``random.Random`` seeded
from its identifying fields (string seeds are hashed with SHA-512, so this is stable across
processes and independent of ``PYTHONHASHSEED``).
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from sampledata import sites as S
from sampledata.lexicon import REGIONS, Finding, Kind, Normal, Region
from sampledata.vocab import (
    EXAMINED_STATUSES,
    ITEMS_BY_NAME,
    SURNAME_PINYIN,
    UNIDENTIFIED_NAME,
    ExamItem,
)

T = TypeVar("T")

# English RIS words some older exports use for the same states.
_EXAMINED_EN = frozenset({"completed", "certified", "reported", "examined"})

SOURCE_FACTOR = {"急诊": 1.3, "住院": 1.25, "门诊": 1.0, "体检": 0.55}
ACUTE_FACTOR = {"急诊": 2.5, "住院": 1.5, "门诊": 1.0, "体检": 0.15}
CRITICAL_FACTOR = {"急诊": 1.0, "住院": 0.6, "门诊": 0.15, "体检": 0.0}

# Chinese sizes: 8mm×6mm, 8×6mm, 0.8cm×0.6cm, 8毫米; English: 8 x 6 mm, 8x6mm, 0.8 x 0.6 cm.
SIZE_STYLES_ZH = (("mm", 45), ("x", 20), ("cm", 25), ("hao", 10))
SIZE_STYLES_EN = (("mm", 50), ("cm", 25), ("x", 10), ("each", 15))

OPTIONAL_ORGANS = frozenset({"airway", "vessel", "bone", "soft", "diaphragm", "lymph", "axilla"})


@dataclass(frozen=True)
class Observation:
    finding: Finding  # as seen now (as last seen, if resolved)
    change: (
        str  # first | new | larger | smaller | stable | better | worse | healing | old | resolved
    )
    prev: Finding | None = None


@dataclass(frozen=True)
class Reading:
    """The radiologist's reading of one study."""

    language: str  # "zh" | "en"
    findings: str  # the findings section's text (the RIS's 检查描述)
    impression: str
    content: str  # the full report
    preliminary: str  # an earlier draft of the same report, later superseded
    findings_only: str  # a draft still being written: no impression yet
    abnormal: bool
    critical: bool
    recall_days: int | None  # when the radiologist's advice brings the patient back
    observations: tuple[Observation, ...]


@dataclass
class _RegionState:
    when: datetime
    item: str
    findings: tuple[Finding, ...]
    side: str


def fmt_size(size: tuple[int, ...], style: str, lang: str) -> str:
    if lang == "zh":
        if style == "cm":
            return "×".join(f"{v / 10:.1f}cm" for v in size)
        if style == "x":
            return "×".join(str(v) for v in size) + "mm"
        if style == "hao" and len(size) == 1:
            return f"{size[0]}毫米"
        return "×".join(f"{v}mm" for v in size)
    if style == "cm":
        return " x ".join(f"{v / 10:.1f}" for v in size) + " cm"
    if style == "x":
        return "x".join(str(v) for v in size) + "mm"
    if style == "each":
        return " x ".join(f"{v} mm" for v in size)
    return " x ".join(str(v) for v in size) + " mm"


def weighted_choice(rng: random.Random, pairs: Sequence[tuple[T, float]]) -> T:
    """One value of ``(value, weight)`` pairs, drawn in proportion to its weight (one draw)."""
    total = sum(w for _, w in pairs)
    r = rng.random() * total
    for value, w in pairs:
        r -= w
        if r < 0:
            return value
    return pairs[-1][0]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _sentence_end(text: str, lang: str) -> str:
    text = text.strip()
    if lang == "zh":
        return text if text.endswith(("。", "）")) else text + "。"
    return text if text.endswith(".") else text + "."


def _resolve_item(item: str, equipment: str | None) -> ExamItem:
    """The known exam item, or a guess from its words so unknown items still read plausibly."""
    known = ITEMS_BY_NAME.get(item)
    if known is not None:
        return known
    text = item.lower()
    eq = (equipment or "").upper()
    mr = "MR" in item.upper() or eq in ("MR", "MRI")
    us = any(w in text for w in ("超声", "彩超", "ultrasound")) or eq in ("US", "ULTRASOUND")
    film = any(w in text for w in ("片", "x-ray", "radiograph")) or eq in (
        "DR",
        "CR",
        "DX",
        "X-RAY",
    )
    modality = "MR" if mr else "US" if us else "DR" if film else "CT"

    def has(*words: str) -> bool:
        return any(w in text for w in words)

    if has("胸", "肺", "chest", "lung"):
        region = "chest_dr" if modality == "DR" else "chest_ct"
        modality = "DR" if modality == "DR" else "CT"
    elif has("头", "颅", "脑", "head", "brain"):
        region = "head_mr" if modality == "MR" else "head_ct"
    elif has("腹", "肝", "胆", "肾", "泌尿", "abd", "liver"):
        region = "abd_us" if modality == "US" else "abd_ct"
    elif has("腰椎", "lumbar"):
        region = "spine_l"
    elif has("颈椎", "cervical"):
        region = "spine_c"
    elif has("膝", "knee"):
        region = "knee"
    elif has("甲状腺", "thyroid"):
        region, modality = "thyroid_us", "US"
    elif has("乳腺", "breast"):
        region, modality = "breast_us", "US"
    else:
        region = "generic"
    return ExamItem(item, modality, region, item, (0, 0, 0, 0))


def _is_latin_name(name: str) -> bool:
    return name.isascii() and any(c.isalpha() for c in name)


class ReadingEngine:
    """Reads studies in chronological order, remembering each patient's findings per region.

    Memory is bounded: the state of at most ``max_patients`` (patient, region) pairs is kept,
    least recently seen first out; a patient evicted and seen again reads as a first visit.
    Patients come back within months, so with the default nothing relevant is evicted.
    """

    def __init__(self, max_patients: int = 100_000) -> None:
        self.max_patients = max_patients
        self._state: OrderedDict[tuple[str, str], _RegionState] = OrderedDict()
        self._items: dict[tuple[str, str | None], ExamItem] = {}

    # -- public --------------------------------------------------------------------------

    def read(self, study: Mapping[str, Any]) -> Reading | None:
        """The reading of an examined study (images exist), else None. Call in order."""
        status = (study.get("exam_status") or "").strip()
        if status not in EXAMINED_STATUSES and status.lower() not in _EXAMINED_EN:
            return None
        item_name = (study.get("exam_item") or "").strip()
        equipment = study.get("equipment_type")
        key_item = (item_name, equipment)
        item = self._items.get(key_item)
        if item is None:
            item = self._items[key_item] = _resolve_item(item_name, equipment)
        region = REGIONS[item.region]
        modality = equipment or item.modality

        order_dt: datetime = study["order_datetime"]
        mrn = study.get("medical_record_no")
        rng = random.Random(
            f"{study.get('exam_id')}|{mrn}|{order_dt:%Y%m%d%H%M%S}|{item_name}|{study.get('patient_name')}"
        )
        lang = self._language(study.get("patient_name") or "", rng)

        state_key = (mrn, region.key) if mrn else None
        prior = self._state.get(state_key) if state_key else None
        age = study.get("patient_age")
        source = study.get("exam_source") or "门诊"
        kinds = self._available(region, item, modality, age)
        if prior is None:
            observations = self._baseline(rng, region, kinds, source, age)
            side = rng.choice("LR")
        else:
            days = (order_dt - prior.when).days
            observations = self._follow_up(rng, prior.findings, kinds, source, age, days)
            side = prior.side

        reading = self._render(rng, lang, region, item, modality, observations, prior, side)
        if state_key is not None:
            self._state[state_key] = _RegionState(
                order_dt,
                item_name,
                tuple(o.finding for o in observations if o.change != "resolved"),
                side,
            )
            self._state.move_to_end(state_key)
            while len(self._state) > self.max_patients:
                self._state.popitem(last=False)
        return reading

    # -- findings ------------------------------------------------------------------------

    @staticmethod
    def _language(name: str, rng: random.Random) -> str:
        # English reports follow the patient: foreigners mostly, pinyin-registered patients
        # often, and a few Chinese patients whose report a visiting colleague wrote.
        if _is_latin_name(name):
            first = name.split()[0] if name.split() else ""
            p = 0.45 if first in SURNAME_PINYIN.values() else 0.8
        elif name == UNIDENTIFIED_NAME:
            p = 0.0
        else:
            p = 0.07
        return "en" if rng.random() < p else "zh"

    @staticmethod
    def _available(
        region: Region, item: ExamItem, modality: str, age: int | None
    ) -> tuple[Kind, ...]:
        years = 50 if age is None else age
        return tuple(
            k
            for k in region.kinds
            if (k.modalities is None or modality in k.modalities)
            and (item.organs is None or k.organs[0] in item.organs)
            and years >= k.min_age
        )

    @staticmethod
    def _pick_kinds(
        rng: random.Random,
        kinds: tuple[Kind, ...],
        source: str,
        count: int,
        exclude: frozenset[str] = frozenset(),
    ) -> list[Kind]:
        pool = []
        for k in kinds:
            if k.key in exclude:
                continue
            w = k.weight
            if k.acute:
                w *= ACUTE_FACTOR.get(source, 1.0)
            if k.critical:
                w *= CRITICAL_FACTOR.get(source, 0.3)
            if w > 0:
                pool.append((k, w))
        chosen: list[Kind] = []
        while pool and len(chosen) < count:
            total = sum(w for _, w in pool)
            r = rng.random() * total
            for i, (k, w) in enumerate(pool):
                r -= w
                if r < 0 or i == len(pool) - 1:
                    chosen.append(k)
                    pool.pop(i)
                    break
        return chosen

    @staticmethod
    def _create(rng: random.Random, kind: Kind) -> Finding:
        site = rng.choice(tuple(kind.sites)) if kind.sites else ""
        size: tuple[int, ...] = ()
        if kind.size != (0, 0):
            a = rng.randint(*kind.size)
            size = (a, max(2, a - rng.randint(0, max(1, a // 3)))) if kind.dims == 2 else (a,)
        grade = 0 if kind.course == "healing" else rng.randint(*kind.grades)
        extra = 0
        if kind.extras:
            # the first variant (solid nodule, hypoechoic, central …) is the common one
            weights = [2] + [1] * (len(kind.extras) - 1)
            extra = rng.choices(range(len(kind.extras)), weights=weights)[0]
        return Finding(kind, site, size, grade, extra, weighted_choice(rng, kind.trends))

    def _baseline(
        self,
        rng: random.Random,
        region: Region,
        kinds: tuple[Kind, ...],
        source: str,
        age: int | None,
    ) -> list[Observation]:
        if age is None:
            age_factor = 1.0
        elif age < 18:
            age_factor = 0.5
        elif age < 40:
            age_factor = 0.8
        elif age < 60:
            age_factor = 1.0
        else:
            age_factor = 1.25
        rate = min(0.9, region.abnormal_rate * SOURCE_FACTOR.get(source, 1.0) * age_factor)
        if not kinds or rng.random() >= rate:
            return []
        count = 1 + (rng.random() < 0.35) + (rng.random() < 0.12)
        return [
            Observation(self._create(rng, k), "first")
            for k in self._pick_kinds(rng, kinds, source, count)
        ]

    def _follow_up(
        self,
        rng: random.Random,
        findings: tuple[Finding, ...],
        kinds: tuple[Kind, ...],
        source: str,
        age: int | None,
        days: int,
    ) -> list[Observation]:
        observations = []
        for f in findings:
            new, change = self._evolve(rng, f, days)
            observations.append(Observation(new or f, change, f))
        # Something new since last time: likelier if the last study was normal (the patient
        # came back for a reason) and with more time between the visits.
        p_new = (0.3 if not findings else 0.12) * (1.0 if days >= 14 else 0.3)
        if kinds and rng.random() < p_new:
            present = frozenset(f.kind.key for f in findings)
            for k in self._pick_kinds(rng, kinds, source, 1, exclude=present):
                observations.append(Observation(self._create(rng, k), "new"))
        return observations

    @staticmethod
    def _evolve(rng: random.Random, f: Finding, days: int) -> tuple[Finding | None, str]:
        k = f.kind
        if days < 1:
            return f, "stable"
        if k.course == "size":
            if f.trend == "resolve" and days >= 14:
                return None, "resolved"
            if f.trend == "absorb":  # haematoma: shrinks within weeks, gone in ~a month
                factor = 1.0 - min(1.0, days / 30 * rng.uniform(0.8, 1.2))
                size = tuple(max(0, round(v * factor)) for v in f.size)
                if max(size) < 8:
                    return None, "resolved"
                return replace(f, size=size), "smaller"
            if f.trend == "grow" and days >= 30 and max(f.size) < k.size_cap:
                step = rng.randint(1, k.growth) + (days > 180 and k.growth > 1)
                biggest = max(f.size)
                size = tuple(v + max(1, round(step * v / biggest)) for v in f.size)
                return replace(f, size=size), "larger"
            if f.trend == "shrink" and days >= 30:
                step = rng.randint(1, 3)
                size = tuple(max(1, v - step) for v in f.size)
                if max(size) < 3:
                    return None, "resolved"
                return replace(f, size=size), "smaller"
            return f, "stable"
        if k.course == "grade":
            if f.trend == "better":
                grade = f.grade - (1 if days < 21 else 2)
                if grade <= 0:
                    return None, "resolved"
                return replace(f, grade=grade), "better"
            if f.trend == "worse":
                # worse until treated: after getting worse once, likely to improve
                trend = "better" if rng.random() < 0.6 else "worse"
                if f.grade < k.max_grade:
                    return replace(f, grade=f.grade + 1, trend=trend), "worse"
                return replace(f, trend=trend), "stable"
            return f, "stable"
        if k.course == "chronic":
            if f.trend == "worse" and days > 90 and f.grade < k.max_grade:
                return replace(f, grade=f.grade + 1), "worse"
            return f, "stable"
        if k.course == "healing":
            stage = f.grade
            if stage == 0 and days >= 90:
                return replace(f, grade=2), "old"
            if stage == 0 and days >= 10:
                return replace(f, grade=1), "healing"
            if stage == 1 and days >= 42:
                return replace(f, grade=2), "old"
            return f, "stable"
        if k.course == "percent":
            pct = int(f.grade * rng.uniform(0.1, 0.6))
            if pct < 8:
                return None, "resolved"
            return replace(f, grade=pct), "better"
        return f, "stable"

    # -- text ------------------------------------------------------------------------------

    def _render(
        self,
        rng: random.Random,
        lang: str,
        region: Region,
        item: ExamItem,
        modality: str,
        observations: list[Observation],
        prior: _RegionState | None,
        side: str,
    ) -> Reading:
        li = 0 if lang == "zh" else 1
        style = weighted_choice(rng, SIZE_STYLES_ZH if lang == "zh" else SIZE_STYLES_EN)
        ctx = {name: words[li] for name, words in region.context.items()}
        ctx["joint"] = S.KNEE_SIDES[side][li]
        ctx["item"] = item.name if lang == "zh" else item.english
        order = region.organ_order

        def values(f: Finding, prev: Finding | None) -> dict[str, str]:
            k = f.kind
            v = dict(ctx)
            v["site"] = k.sites[f.site][li] if k.sites and f.site in k.sites else ""
            v["size"] = fmt_size(f.size, style, lang) if f.size else ""
            v["grade"] = v["pct"] = str(f.grade)
            if f.grade >= 1:
                v["amount"] = k.amounts[min(f.grade, len(k.amounts)) - 1][li]
            v["extra"] = k.extras[f.extra][li] if k.extras else ""
            if prev is not None:
                v["prev"] = fmt_size(prev.size, style, lang) if prev.size else ""
                v["prev_pct"] = str(prev.grade)
            if k.values is not None:
                v.update(k.values(f, lang))
            return v

        def tpl(k: Kind, key: str) -> tuple[str, ...]:
            return (k.zh if lang == "zh" else k.en).get(key, ())

        def change_text(o: Observation, v: dict[str, str]) -> str:
            k, c = o.finding.kind, o.change
            if c in ("better", "worse") and tpl(k, c):
                return rng.choice(tpl(k, c))
            if lang == "zh":
                options = {
                    "larger": ("较前增大（前片约{prev}）", "较前增大，前片约{prev}"),
                    "smaller": ("较前缩小（前片约{prev}）",),
                    "stable": ("较前变化不著", "较前相仿", "同前"),
                    "better": ("较前好转",),
                    "worse": ("较前进展",),
                }
            else:
                options = {
                    "larger": ("increased from {prev}", "enlarged from {prev} on the prior study"),
                    "smaller": ("decreased from {prev}",),
                    "stable": ("unchanged", "stable compared with the prior study"),
                    "better": ("improved",),
                    "worse": ("worse",),
                }
            return rng.choice(options.get(c, options["stable"])).format(**v)

        def sentence(o: Observation) -> str:
            f, k, c = o.finding, o.finding.kind, o.change
            v = values(f, o.prev)
            if c == "resolved":
                options = tpl(k, "resolved")
                if not options:  # no wording of its own: say it is gone
                    base = rng.choice(tpl(k, "new")).format(**v).rstrip("。.")
                    return (
                        ("原" + base + "，现未见显示。")
                        if lang == "zh"
                        else "Resolved: " + base + "."
                    )
                return rng.choice(options).format(**v)
            if k.course == "healing":
                text = rng.choice(tpl(k, ("new", "healing", "old")[f.grade])).format(**v)
                if c == "stable" and o.prev is not None:
                    text = text.rstrip("。.") + ("，同前。" if lang == "zh" else ", unchanged.")
                return text
            if c in ("first", "new"):
                text = rng.choice(tpl(k, "new")).format(**v)
                if c == "new":
                    text = text.rstrip("。.") + (
                        rng.choice(("，为新发病灶。", "，前片未见。"))
                        if lang == "zh"
                        else ", new since the prior study."
                    )
                return text
            v["change"] = change_text(o, v)
            if tpl(k, "follow"):
                return rng.choice(tpl(k, "follow")).format(**v)
            base = rng.choice(tpl(k, "new")).format(**v).rstrip("。.")
            return (
                base
                + ("，" if lang == "zh" else ", ")
                + v["change"]
                + ("。" if lang == "zh" else ".")
            )

        def impression_line(o: Observation) -> tuple[str, int] | None:
            f, k, c = o.finding, o.finding.kind, o.change
            v = values(f, o.prev)
            if c == "resolved":
                options = tpl(k, "imp_resolved")
                return (rng.choice(options).format(**v), 8) if options else None
            if k.course == "healing":
                key = ("imp", "imp_healing", "imp_old")[f.grade]
                return rng.choice(tpl(k, key)).format(**v), k.rank
            if k.advice is not None:
                zh, en, _ = k.advice(f, c)
                v["advice"] = zh if lang == "zh" else en
            chg = {
                "zh": {
                    "new": "（新发）",
                    "larger": "，较前增大",
                    "smaller": "，较前缩小",
                    "stable": rng.choice(("，较前变化不著", "，同前")),
                    "better": rng.choice(("，较前好转", "，较前吸收")),
                    "worse": "，较前进展",
                },
                "en": {
                    "new": ", new since the prior study",
                    "larger": ", increased in size",
                    "smaller": ", decreased in size",
                    "stable": rng.choice((", stable", ", unchanged")),
                    "better": ", improving",
                    "worse": ", worsening",
                },
            }[lang]
            v["chg"] = chg.get(c, "")
            rank = 0 if (k.critical and c in ("first", "new")) else k.rank
            return rng.choice(tpl(k, "imp")).format(**v), rank

        # Findings, organ by organ; an organ with nothing to report gets its normal sentence.
        covered = set()
        for o in observations:
            covered.update(o.finding.kind.organs)
        by_organ: dict[int, list[str]] = {}
        for o in observations:
            text = _sentence_end(sentence(o), lang)
            by_organ.setdefault(order.get(o.finding.kind.organs[0], 99), []).append(text)
        normals: list[Normal] = [
            n
            for n in region.normals
            if n.organ not in covered
            and (n.modalities is None or modality in n.modalities)
            and (item.organs is None or n.organ in item.organs or n.organ in OPTIONAL_ORGANS)
        ]
        for n in normals:
            if n.organ in OPTIONAL_ORGANS and rng.random() < 0.25:
                continue
            text = rng.choice(n.zh if lang == "zh" else n.en).format(**ctx)
            by_organ.setdefault(order.get(n.organ, 99), []).append(text)
        sentences = [s for _, group in sorted(by_organ.items()) for s in group]
        if lang == "en":
            sentences = [_cap(s) for s in sentences]

        comparison = ""
        if prior is not None:
            day = prior.when.date().isoformat()
            if lang == "zh":
                comparison = rng.choice((f"与{day}片比较：", f"对比{day}旧片："))
        joiner = "" if lang == "zh" else " "
        findings_text = comparison + joiner.join(sentences)

        # Impression: critical and acute first, chronic incidental findings last.
        lines = [x for x in (impression_line(o) for o in observations) if x is not None]
        lines.sort(key=lambda x: x[1])
        imp = [_sentence_end(text, lang) for text, _ in lines]
        present = [o for o in observations if o.change != "resolved"]
        if not present:
            normal_zh, normal_en = region.normal_imp
            if observations:
                imp.append("余未见明显异常。" if lang == "zh" else "No other acute abnormality.")
            else:
                imp.append(rng.choice(normal_zh if lang == "zh" else normal_en).format(**ctx))
        if lang == "en":
            imp = [_cap(s) for s in imp]
        critical = any(
            o.finding.kind.critical and o.change in ("first", "new", "larger", "worse")
            for o in observations
        )

        if len(imp) == 1 and rng.random() < 0.6:
            impression = imp[0]
        else:
            # Chinese templates number either way: "1. …" or "1、…"
            sep = rng.choice((". ", "、")) if lang == "zh" else ". "
            impression = "\n".join(f"{i}{sep}{s}" for i, s in enumerate(imp, 1))

        recall: int | None = None
        for o in present:
            k = o.finding.kind
            days = None
            if k.advice is not None:
                if o.finding.size and max(o.finding.size) >= k.size_cap:
                    continue  # referred on (biopsy, surgery), not followed up here
                days = k.advice(o.finding, o.change)[2]
            elif k.recall is not None and o.change not in ("stable", "old"):
                days = rng.randint(*k.recall)
            if days is not None and (recall is None or days < recall):
                recall = days

        content, preliminary, findings_only = self._compose(
            rng, lang, region, item, findings_text, sentences, impression, imp, critical, prior
        )
        return Reading(
            lang,
            findings_text,
            impression,
            content,
            preliminary,
            findings_only,
            bool(present),
            critical,
            recall,
            tuple(observations),
        )

    @staticmethod
    def _compose(
        rng: random.Random,
        lang: str,
        region: Region,
        item: ExamItem,
        findings_text: str,
        sentences: list[str],
        impression: str,
        imp: list[str],
        critical: bool,
        prior: _RegionState | None,
    ) -> tuple[str, str, str]:
        head: list[str] = []
        if lang == "zh":
            if region.indications and rng.random() < 0.3:
                head.append(f"临床诊断：{rng.choice(region.indications)[0]}")
            inline = rng.random() < 0.4  # "检查所见：双肺…" on one line, as some templates do
            findings_block = (
                [f"检查所见：{findings_text}"] if inline else ["检查所见：", findings_text]
            )
            imp_header = "诊断意见："
            note = "【危急值】已电话通知临床医师。" if critical else ""
        else:
            if rng.random() < 0.5:
                head.append(f"EXAM: {item.english}")
            if region.indications and rng.random() < 0.4:
                head.append(f"CLINICAL HISTORY: {_cap(rng.choice(region.indications)[1])}.")
            if prior is not None:
                prior_item = ITEMS_BY_NAME.get(prior.item)
                what = f" ({prior_item.english})" if prior_item else ""
                head.append(f"COMPARISON: {prior.when.date().isoformat()}{what}.")
            elif rng.random() < 0.5:
                head.append("COMPARISON: None.")
            body = "\n".join(sentences) if rng.random() < 0.4 else findings_text
            findings_block = ["FINDINGS:", body]
            imp_header = "IMPRESSION:"
            note = (
                "Critical result: discussed with the referring clinician by telephone."
                if critical
                else ""
            )
        content = [*head, *findings_block, imp_header, impression]
        if note:
            content.append(note)
        preliminary = [*head, *findings_block, imp_header, imp[0]]
        return "\n".join(content), "\n".join(preliminary), "\n".join([*head, *findings_block])
