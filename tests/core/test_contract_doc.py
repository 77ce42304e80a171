"""docs/api/API_CONTRACT.md stays true: every operation documented, examples shaped like the API."""

import json
import re
from pathlib import Path

import pytest

from tests.factories import ReportFactory, StudyFactory, local

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "api" / "API_CONTRACT.md"


def _examples() -> list[dict]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    return [json.loads(block) for block in blocks]


def _keys(value: object) -> object:
    """The nested key structure of a JSON value (lists reduced to their first element)."""
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keys(value[0])] if value and isinstance(value[0], dict) else []
    return None


def test_every_operation_in_the_schema_has_a_section(viewer):
    schema = viewer.get("/api/v1/openapi.json").json()
    text = DOC.read_text(encoding="utf-8")
    missing = []
    for path, operations in schema["paths"].items():
        short = path.removeprefix("/api/v1")
        for method in operations:
            if (
                f"### `{method.upper()} {short}`" not in text
                and f"`{method.upper()} {short}`" not in text
            ):
                missing.append(f"{method.upper()} {short}")
    assert missing == []


def test_examples_have_the_keys_the_api_returns(viewer):
    study = StudyFactory(exam_id="EXAM001", order_datetime=local(2025, 11, 6, 10, 30))
    ReportFactory(report_id="R1", study=study)
    patient = study.medical_record_no
    live = {
        "search": viewer.get("/api/v1/studies/search").json(),
        "detail": viewer.get("/api/v1/studies/EXAM001").json(),
        "options": viewer.get("/api/v1/studies/filters/options").json(),
        "login": viewer.tokens,
        "report search": viewer.get("/api/v1/reports/search").json(),
        "report detail": viewer.get("/api/v1/reports/R1").json(),
        "patient studies": viewer.get(f"/api/v1/patients/{patient}/studies").json(),
    }
    documented = [_keys(example) for example in _examples()]
    for name, body in live.items():
        assert _keys(body) in documented, name
