"""Report search by finding: GET /reports/search?finding=&assertion=&min_size_mm= (issue 24)."""

import json
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from reports.findings import refresh_report_findings
from reports.models import Report, ReportFinding, ReportFindingSource
from tests.factories import ReportFactory, StudyFactory, local

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/reports/search"
OPTIONS = "/api/v1/reports/findings/options"


@pytest.fixture
def reports():
    chest = StudyFactory(exam_id="E-CHEST", exam_item="胸部CT平扫")
    head = StudyFactory(exam_id="E-HEAD", exam_item="头颅CT平扫")
    texts = {
        "R1": (chest, "检查所见：右肺上叶见一实性结节，大小约9mm×7mm。未见胸腔积液。"),
        "R2": (chest, "FINDINGS: A 5 mm nodule in the left lower lobe. No pneumothorax."),
        "R3": (chest, "FINDINGS: No suspicious pulmonary nodules. Small left pleural effusion."),
        "R4": (chest, "IMPRESSION: Possible 12 mm nodule in the right middle lobe."),
        "R5": (head, "检查所见：右侧颞叶见片状高密度影。中线结构居中。"),
        "R6": (chest, "诊断意见：右肺上叶结节，约1.5cm，较前增大。"),
    }
    for n, (rid, (study, content)) in enumerate(texts.items()):
        ReportFactory(
            report_id=rid, study=study, content=content, created_at=local(2025, 3, 1 + n, 9, 0)
        )
    totals = refresh_report_findings()
    assert totals["reports"] == 6
    return texts


def _ids(response) -> list[str]:
    assert response.status_code == HTTPStatus.OK, response.content
    return [item["report_id"] for item in response.json()["data"]]


def test_affirmed_nodules_newest_first(viewer, reports):
    response = viewer.get(SEARCH, {"finding": "nodule"})
    assert _ids(response) == ["R6", "R2", "R1"]
    assert response.json()["total"] == 3


def test_affirmed_nodules_of_at_least_8_mm(viewer, reports):
    assert _ids(viewer.get(SEARCH, {"finding": "nodule", "min_size_mm": 8})) == ["R6", "R1"]
    assert _ids(viewer.get(SEARCH, {"finding": "nodule", "min_size_mm": "15"})) == ["R6"]
    assert _ids(viewer.get(SEARCH, {"finding": "nodule", "min_size_mm": 15.1})) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"finding": "nodule", "assertion": "absent"}, ["R3"]),
        ({"finding": "nodule", "assertion": "uncertain"}, ["R4"]),
        ({"finding": "nodule", "assertion": "uncertain", "min_size_mm": 10}, ["R4"]),
        ({"finding": "nodule", "assertion": "present"}, ["R6", "R2", "R1"]),
        ({"finding": "pleural_effusion", "assertion": "absent"}, ["R1"]),
        ({"finding": "pleural_effusion"}, ["R3"]),
        ({"finding": "pneumothorax", "assertion": "absent"}, ["R2"]),
        ({"finding": "midline_shift", "assertion": "absent"}, ["R5"]),
        # The examination's region: a patch of high density in a head CT is no lung opacity.
        ({"finding": "opacity"}, []),
        ({"finding": "focal_lesion"}, ["R5"]),
        # With the other filters
        ({"finding": "nodule", "q": "结节"}, ["R6", "R1"]),
        ({"finding": "nodule", "exam_id": "E-HEAD"}, []),
        ({"finding": "nodule", "date_from": "2025-03-02", "date_to": "2025-03-05"}, ["R2"]),
    ],
)
def test_search_by_finding_table(viewer, reports, params, expected):
    assert _ids(viewer.get(SEARCH, params)) == expected


def test_the_finding_search_is_audited_with_what_it_returned(viewer, reports):
    viewer.get(SEARCH, {"finding": "nodule", "min_size_mm": 8})
    event = AuditEvent.objects.filter(action="report.search").latest("pk")
    assert event.object_ids == ["R6", "R1"]
    assert event.result_count == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"finding": "unicorn"}, "unknown finding 'unicorn'"),
        ({"assertion": "absent"}, "assertion and min_size_mm need a finding"),
        ({"min_size_mm": 8}, "assertion and min_size_mm need a finding"),
    ],
)
def test_invalid_finding_filters_are_422(viewer, reports, params, message):
    response = viewer.get(SEARCH, params)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert message in json.dumps(response.json())


@pytest.mark.parametrize(
    "params",
    [
        {"finding": "nodule", "assertion": "maybe"},
        {"finding": "nodule", "min_size_mm": -1},
        {"finding": "nodule", "min_size_mm": "big"},
    ],
)
def test_malformed_finding_filters_are_422(viewer, reports, params):
    assert viewer.get(SEARCH, params).status_code == HTTPStatus.UNPROCESSABLE_ENTITY


def test_finding_options_list_the_lexicon(viewer):
    response = viewer.get(OPTIONS)
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["assertions"] == ["present", "absent", "uncertain"]
    keys = [f["key"] for f in body["findings"]]
    assert keys == sorted(keys)
    nodule = next(f for f in body["findings"] if f["key"] == "nodule")
    assert nodule == {"key": "nodule", "label_en": "Nodule", "label_zh": "结节", "region": "chest"}
    assert AuditEvent.objects.latest("pk").action == "report.finding_options"


def test_finding_search_needs_a_login(client):
    assert client.get(SEARCH, {"finding": "nodule"}).status_code == HTTPStatus.UNAUTHORIZED


# ------------------------------------------------------------ once per report version


def test_a_refresh_reads_only_new_or_changed_reports(reports):
    assert refresh_report_findings() == {"reports": 0, "findings": 0, "texts": 0}
    report = Report.objects.get(report_id="R2")
    report.content = "FINDINGS: No pulmonary nodules."
    report.save()
    totals = refresh_report_findings()
    assert (totals["reports"], totals["texts"]) == (1, 1)
    rows = set(ReportFinding.objects.filter(report_id="R2").values_list("key", "assertion"))
    assert rows == {("nodule", "absent")}
    source = ReportFindingSource.objects.get(report_id="R2")
    assert source.report_updated_at == Report.objects.get(report_id="R2").updated_at


def test_a_new_lexicon_reads_every_report_again(reports):
    ReportFindingSource.objects.update(lexicon="000000000000")
    assert refresh_report_findings()["reports"] == 6
    assert ReportFinding.objects.filter(report_id="R1", key="nodule").get().max_mm == 9.0


def test_identical_texts_are_analysed_once(db):
    study = StudyFactory(exam_item="胸部DR")
    for n in range(5):
        ReportFactory(
            report_id=f"T{n}", study=study, content="心影增大。",
            created_at=local(2025, 1, 1, 9, 0) + timedelta(hours=n),
        )  # fmt: skip
    totals = refresh_report_findings(batch_size=2)
    assert totals == {"reports": 5, "findings": 5, "texts": 1}


def test_a_deleted_report_takes_its_findings_along(reports):
    Report.objects.filter(report_id="R1").delete()
    assert not ReportFinding.objects.filter(report_id="R1").exists()
    assert not ReportFindingSource.objects.filter(report_id="R1").exists()


def test_the_management_command_reads_existing_reports(capsys):
    study = StudyFactory(exam_item="Chest X-ray")
    ReportFactory(report_id="M1", study=study, content="Mild cardiomegaly. No effusion.")
    call_command("extract_report_findings")
    out = capsys.readouterr().out
    assert out.startswith("Read 1 report(s) (1 distinct text(s)) into 2 finding row(s)")
    rows = set(ReportFinding.objects.values_list("report_id", "key", "assertion"))
    assert rows == {("M1", "cardiomegaly", "present"), ("M1", "pleural_effusion", "absent")}
    call_command("extract_report_findings")
    assert capsys.readouterr().out.startswith("Read 0 report(s)")


@pytest.mark.django_db(transaction=True)
def test_the_warm_up_counts_each_finding_for_the_totals(viewer):
    from core.cache import data_version, stored
    from reports import services

    study = StudyFactory(exam_item="胸部CT平扫")
    for n, text in enumerate(["右肺结节。", "左肺结节，约9mm。", "双肺未见结节。"]):
        ReportFactory(report_id=f"W{n}", study=study, content=text)
    refresh_report_findings()
    services.warm_caches()
    counts = stored("reports", "finding_counts", version=data_version("reports"))
    assert counts == {"nodule:present": 2, "nodule:absent": 1}
    response = viewer.get(SEARCH, {"finding": "nodule"})
    assert (response.json()["total"], _ids(response)) == (2, ["W1", "W0"])
    response = viewer.get(SEARCH, {"finding": "nodule", "min_size_mm": 9})
    assert (response.json()["total"], _ids(response)) == (1, ["W1"])


@pytest.mark.django_db(transaction=True)
def test_the_warm_up_counts_each_finding_by_size_for_the_totals_with_a_least_size(viewer):
    from core.cache import data_version, stored
    from reports import services

    study = StudyFactory(exam_item="胸部CT平扫")
    texts = [
        "右肺结节，约9mm。",
        "左肺结节，约9mm。",
        "右肺结节，约1.2cm。",
        "右肺结节。",
        "右肺结节，约8mm。",
    ]
    for n, text in enumerate(texts):
        ReportFactory(
            report_id=f"S{n}", study=study, content=text,
            created_at=local(2025, 1, 1, 9, 0) + timedelta(hours=n),
        )  # fmt: skip
    refresh_report_findings()
    services.warm_caches()
    sizes = stored("reports", "finding_sizes", version=data_version("reports"))
    assert sorted(sizes["nodule:present"]) == [[8.0, 1], [9.0, 2], [12.0, 1]]
    for least, ids in [(0, ["S4", "S2", "S1", "S0"]), (8, ["S4", "S2", "S1", "S0"]),
                       (8.5, ["S2", "S1", "S0"]), (9, ["S2", "S1", "S0"]), (9.01, ["S2"]),
                       (12, ["S2"]), (12.5, [])]:  # fmt: skip
        response = viewer.get(SEARCH, {"finding": "nodule", "min_size_mm": least})
        assert (response.json()["total"], _ids(response)) == (len(ids), ids), least
