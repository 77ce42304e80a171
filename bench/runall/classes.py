"""The query classes of the search step: for each, K distinct URLs drawn from the data set's
params.json (terms that exist). The seed and the order of the draws fix the URLs, so runs,
databases and the PostgreSQL / SQLite steps measure the same requests."""

from __future__ import annotations

import json
import random
import urllib.parse
from pathlib import Path


def q(path: str, **params) -> str:
    return path + "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})


S = "/api/v1/studies/search"
R = "/api/v1/reports/search"
REPORT_TERMS_ZH = ["结节", "积液", "骨折", "脑梗死", "结石", "囊肿", "钙化", "狭窄", "增生", "肺炎"]
REPORT_TERMS_EN = ["nodule", "effusion", "pneumonia", "hemorrhage", "cyst", "stenosis", "fracture",
                   "Degenerative", "opacity", "No acute"]  # fmt: skip
# Report search by finding (issue 24): the findings table read at import, by key, assertion and
# size; common and rare findings, each assertion, and the example (nodule >= 8 mm).
REPORT_FINDINGS = [
    {"finding": "nodule"}, {"finding": "nodule", "min_size_mm": 8},
    {"finding": "pleural_effusion", "assertion": "absent"}, {"finding": "hemorrhage"},
    {"finding": "fracture", "assertion": "absent"}, {"finding": "calcification"},
    {"finding": "pneumonia", "assertion": "uncertain"}, {"finding": "infarct"},
    {"finding": "kidney_stone"}, {"finding": "cardiomegaly", "assertion": "absent"},
]  # fmt: skip


def read_params(files: dict) -> dict:
    """params.json, with gen_db's pinyin search terms (``search_terms``) where it wrote them."""
    params = json.loads(Path(files["params"]).read_text(encoding="utf-8"))
    if files.get("search_terms"):
        params["search_terms"] = json.loads(Path(files["search_terms"]).read_text("utf-8"))
    return params


def pinyin_classes(params: dict, pick) -> dict[str, list[str]]:
    """The pinyin searches (full pinyin with and without the space between surname and given
    name, initials), a name with a word of that patient's items, and a patient's history."""
    extra = params.get("search_terms") or {"pinyin": {}, "name_item": []}
    readings = [extra["pinyin"][name] for name in pick(sorted(extra["pinyin"]))]
    # half as typed without a space (zhangwei), half with one after the surname (zhang wei)
    half = len(readings) // 2
    pinyin = [full for full, _, _ in readings[:half]] + [spaced for *_, spaced in readings[half:]]
    return {
        "q_pinyin": [q(S, q=t, page=1, page_size=20) for t in pinyin],
        "q_initials": [q(S, q=initials, page=1, page_size=20) for _, initials, _ in readings],
        "q_name_item": [
            q(S, q=f"{name} {word}", page=1, page_size=20)
            for name, word in pick(extra["name_item"])
        ],
        "patient_history": [
            f"/api/v1/patients/{mrn}/studies?page=1&page_size=20"
            for mrn in pick(params["medical_record_nos"])
        ],
    }


def search_classes(params: dict, n: int, k: int = 10) -> dict[str, list[str]]:
    """Query class -> K distinct URLs, drawn from the data's params.json (terms that exist)."""
    rng = random.Random(20251029)
    terms = params["q_terms"]
    zh_names = [x for x in terms["name_full"] if not x.isascii()]
    latin_names = [x for x in terms["name_full"] if x.isascii()]
    two = [x for x in zh_names if len(x) == 2]
    three = [x for x in zh_names if len(x) >= 3]
    pick = lambda pool, m=k: rng.sample(pool, min(m, len(pool)))  # noqa: E731
    statuses, sources = params["exam_statuses"], params["exam_sources"]
    equipment, items = params["equipment_types"], params["exam_items"]
    last_page = max(1, -(-n // 20))
    far = min(5000, last_page)
    combos = [
        {"exam_status": rng.choice(statuses[:3]), "exam_source": rng.choice(sources[:4]),
         "equipment_type": rng.choice(equipment)}
        for _ in range(k)
    ]  # fmt: skip
    # filters that keep a third or more of the rows
    unselective = [{"exam_status": "已审核" if "已审核" in statuses else statuses[0]},
                   {"exam_source": "门诊"}, {"exam_source": "住院"}, {"equipment_type": "CT"},
                   {"patient_gender": "M"}, {"patient_gender": "F"}]  # fmt: skip
    start = 737060  # 2019-01-01 ordinal .. the export date
    import datetime as dt

    span = (dt.date(2025, 10, 29).toordinal() - start) or 1
    dates = []
    for i in range(k):
        d0 = dt.date.fromordinal(start + rng.randrange(span))
        d1 = d0 + dt.timedelta(days=6 if i % 2 == 0 else 29)
        dates.append({"date_from": d0.isoformat(), "date_to": d1.isoformat()})
    return {
        "no_filter": [q(S, page=p, page_size=20) for p in (1, 2, 3, 4, 5, 6, 8, 10, 20, 50)][:k],
        "one_filter": [q(S, exam_item=i, page=1, page_size=20) for i in pick(items)],
        "three_filters": [q(S, **c, page=1, page_size=20) for c in combos],
        "unselective": [q(S, **f, page=1, page_size=20) for f in unselective],
        "q_zh_1char": [q(S, q=s, page=1, page_size=20) for s in terms["surname"][:k]],
        "q_zh_2char": [q(S, q=s, page=1, page_size=20) for s in pick(two)],
        "q_zh_3char": [q(S, q=s, page=1, page_size=20) for s in pick(three)],
        "q_latin": [
            q(S, q=s, page=1, page_size=20)
            for s in (terms["latin_fragment"] + pick(latin_names))[:k]
        ],  # fmt: skip
        "mrn": [q(S, q=m, page=1, page_size=20) for m in pick(params["medical_record_nos"])],
        "date_range": [q(S, **d, page=1, page_size=20) for d in dates],
        "page_1": [q(S, page=1, page_size=20)],
        f"page_{far}": [q(S, page=far, page_size=20)],
        "options": ["/api/v1/studies/filters/options"],
        "detail": [f"/api/v1/studies/{e}" for e in pick(params["exam_ids"])],
        "report_q_zh": [q(R, q=t, page=1, page_size=20) for t in REPORT_TERMS_ZH[:k]],
        "report_q_en": [q(R, q=t, page=1, page_size=20) for t in REPORT_TERMS_EN[:k]],
        "report_finding": [q(R, **f, page=1, page_size=20) for f in REPORT_FINDINGS[:k]],
        **pinyin_classes(params, pick),
    }


def only_classes(classes: dict[str, list[str]], args) -> dict[str, list[str]]:
    """The classes --classes names (all without it), on PostgreSQL and on SQLite alike."""
    if not args.classes:
        return classes
    return {k: v for k, v in classes.items() if k in args.classes.split(",")}
