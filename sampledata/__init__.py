"""Deterministic, seeded sample data for the Medical Imaging Data Platform.

Realistic radiology studies (a RIS export) and their reports, Chinese and English, with
patients who come back and lesions that change between visits. Standard library and
xlsxwriter only; no Django. ``python -m sampledata --help`` writes the files.

    from sampledata import generate_studies, generate_reports
    studies = list(generate_studies(3000, seed=20251029))
    reports = list(generate_reports(studies, seed=20251029))
"""

from sampledata.reports import REPORT_FIELDS, generate_reports
from sampledata.studies import (
    DEFAULT_END,
    DEFAULT_SEED,
    STUDY_FIELDS,
    StudyRecord,
    generate_studies,
)
from sampledata.writers import (
    STUDY_HEADERS_ZH,
    write_reports_csv,
    write_reports_json,
    write_reports_xlsx,
    write_studies_csv,
    write_studies_xlsx,
)

__all__ = [
    "DEFAULT_END",
    "DEFAULT_SEED",
    "REPORT_FIELDS",
    "STUDY_FIELDS",
    "STUDY_HEADERS_ZH",
    "StudyRecord",
    "generate_reports",
    "generate_studies",
    "write_reports_csv",
    "write_reports_json",
    "write_reports_xlsx",
    "write_studies_csv",
    "write_studies_xlsx",
]
