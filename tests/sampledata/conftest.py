"""Shared fixtures: one default-seed data set, generated once per test session."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from sampledata import generate_reports, generate_studies

N = 3000


@pytest.fixture(scope="session")
def studies() -> list[dict[str, Any]]:
    return list(generate_studies(N))


@pytest.fixture(scope="session")
def reports(studies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(generate_reports(studies))


@pytest.fixture(scope="session")
def study_by_id(studies: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["exam_id"]: s for s in studies}


@pytest.fixture(scope="session")
def reports_by_patient(
    reports: list[dict[str, Any]], study_by_id: dict[str, dict[str, Any]]
) -> dict[str, list[tuple[dict[str, Any], dict[str, Any]]]]:
    """MRN -> [(study, report)] in chronological order."""
    out: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = defaultdict(list)
    for r in reports:
        s = study_by_id[r["exam_id"]]
        if s["medical_record_no"]:
            out[s["medical_record_no"]].append((s, r))
    return out
