"""Time the three report analyses on a typical Chinese and a typical English report.

    .venv/bin/python bench/bench_analysis.py [--iterations 200]

Prints a table of median and 95th-percentile milliseconds per call, then one JSON line with
the same figures (for scripts that collect results). Pure Python, no database: this measures
``nlp`` alone, which is what a task worker spends its CPU on.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHINESE_REPORT = (
    "检查方法：胸部CT平扫，层厚5mm。\n"
    "检查所见：胸廓对称，气管居中。双肺纹理增多、增粗，右肺上叶尖段见一实性结节，大小约9mm×7mm，"
    "边界清楚，较前增大；左肺下叶背段见斑片状模糊影，边界不清。右侧胸腔见弧形液体密度影，"
    "右侧胸腔少量积液。右侧气胸，右肺压缩约20%。纵隔未见肿大淋巴结，心影未见明显增大。"
    "主动脉壁见钙化斑。所见胸椎骨质增生，未见明显骨折。\n"
    "诊断意见：1.右肺上叶结节，较前增大，建议随访；2.左肺下叶炎症可能，不除外结核；"
    "3.右侧少量胸腔积液；4.右侧气胸；5.胸椎退行性变。"
)
ENGLISH_REPORT = (
    "CLINICAL HISTORY: Cough and shortness of breath for 2 weeks.\n"
    "TECHNIQUE: CT chest without contrast.\n"
    "COMPARISON: CT chest of 2025-08-01.\n"
    "FINDINGS: The heart is enlarged. There is a 9 x 7 mm solid nodule in the right upper lobe, "
    "previously 6 mm. Patchy opacity in the left lower lobe, possibly pneumonia. Small right "
    "pleural effusion. No pneumothorax. No mediastinal lymphadenopathy. Calcified granuloma in "
    "the left lower lobe. Degenerative changes of the thoracic spine without fracture.\n"
    "IMPRESSION: 1. Enlarging right upper lobe nodule, 9 mm. 2. Left lower lobe opacity, cannot "
    "exclude pneumonia. 3. Small right pleural effusion. 4. Cardiomegaly."
)
PRIOR_CHINESE = (
    "检查所见：右肺上叶尖段见一结节，大小约6mm。左侧胸腔少量积液。\n诊断意见：右肺上叶结节。"
)
PRIOR_ENGLISH = (
    "FINDINGS: 6 mm nodule in the right upper lobe. Small left pleural effusion.\n"
    "IMPRESSION: Right upper lobe nodule."
)


def _study(exam_id: str, when: datetime) -> dict:
    return {
        "exam_id": exam_id,
        "medical_record_no": "MRN-BENCH",
        "exam_item": "胸部CT平扫",
        "equipment_type": "CT",
        "order_datetime": when,
        "check_in_datetime": when + timedelta(minutes=40),
        "report_certification_datetime": when + timedelta(hours=26),
        "exam_description": None,
    }


def _report(report_id: str, content: str) -> dict:
    return {
        "report_id": report_id,
        "content": content,
        "status": "finalized",
        "radiologist": "bench",
        "created_at": datetime(2025, 11, 7, 10, 0),
    }


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))  # run from a checkout without installing it
    import nlp

    started = time.perf_counter()
    nlp.load_lexicon()
    lexicon_ms = (time.perf_counter() - started) * 1000
    nlp.default_lexicon()  # the analyses use the cached lexicon, as a worker process does

    now, before = datetime(2025, 11, 6, 8, 0), datetime(2025, 8, 1, 9, 0)
    cases = {
        "zh": (CHINESE_REPORT, PRIOR_CHINESE),
        "en": (ENGLISH_REPORT, PRIOR_ENGLISH),
    }
    rows = []
    for language, (content, prior_content) in cases.items():
        study, reports = _study("CUR", now), [_report("R-CUR", content)]
        prior, prior_reports = _study("PRI", before), [_report("R-PRI", prior_content)]
        calls = {
            "general": lambda s=study, r=reports: nlp.analyze_general(s, r),
            "detailed": lambda s=study, r=reports: nlp.analyze_detailed(s, r),
            "comparison": lambda s=study, r=reports, p=prior, pr=prior_reports: (
                nlp.analyze_comparison(s, r, p, pr)
            ),
        }
        for analysis_type, call in calls.items():
            for _ in range(args.warmup):
                call()
            timings = []
            for _ in range(args.iterations):
                t0 = time.perf_counter()
                result = call()
                timings.append((time.perf_counter() - t0) * 1000)
            json.dumps(result, ensure_ascii=False, allow_nan=False)  # results must serialise
            rows.append(
                {
                    "analysis": analysis_type,
                    "language": language,
                    "chars": len(content),
                    "iterations": args.iterations,
                    "median_ms": round(statistics.median(timings), 3),
                    "p95_ms": round(_percentile(timings, 0.95), 3),
                    "max_ms": round(max(timings), 3),
                }
            )

    print(f"lexicon load (cold): {lexicon_ms:.1f} ms")
    header = (
        f"{'analysis':<11} {'lang':<4} {'chars':>5} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['analysis']:<11} {r['language']:<4} {r['chars']:>5} "
            f"{r['median_ms']:>10.3f} {r['p95_ms']:>8.3f} {r['max_ms']:>8.3f}"
        )
    print(
        json.dumps(
            {
                "bench": "analysis_nlp",
                "python": platform.python_version(),
                "lexicon_load_ms": round(lexicon_ms, 1),
                "results": rows,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
