"""The practice sample content and the quick start's demo accounts (SPEC-practice §6)."""

import re
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import Role, User
from practice.casesheet import TOPICS, validate_case
from practice.models import Activity, ActivityCategory, Category, Scenario, SubCategory
from practice.sampledata import RUBRIC, SCENARIOS, load_practice_samples

CALGARY_CAMBRIDGE = [
    "Initiating the session",
    "Gathering information",
    "Ideas, concerns and expectations",
    "Building the relationship",
    "Explanation and planning",
    "Closing the session",
]


@pytest.mark.parametrize("sample", SCENARIOS, ids=lambda s: s.case["patient"]["name"])
def test_every_sample_case_sheet_is_valid_and_full(sample):
    validate_case(sample.case)
    facts = sample.case["facts"]
    topics = {f["topic"] for f in facts}
    assert len(topics) >= 15
    assert topics >= {"presenting_complaint", "onset", "ideas", "concerns", "expectations"}
    assert topics <= set(TOPICS)
    assert all(f["questions"] for f in facts)  # example questions everywhere
    assert any(f["volunteer"] for f in facts)
    assert any(not f["volunteer"] for f in facts)
    assert sample.case["hidden"]["diagnosis"]
    assert sample.role and sample.tags and sample.rubric_questions and sample.pre_brief


def test_the_samples_cover_both_languages_in_their_own_script():
    languages = [s.language for s in SCENARIOS]
    assert 3 <= len(SCENARIOS) <= 4
    assert languages.count("en") >= 1 and languages.count("zh-hans") >= 1
    han = re.compile(r"[\u4e00-\u9fff]")
    for sample in SCENARIOS:
        answers = [f["answer"] for f in sample.case["facts"]] + [sample.case["opening"]]
        chinese = sample.language == "zh-hans"
        assert all(bool(han.search(a)) == chinese for a in answers), sample.case["patient"]
        if chinese:
            # Chinese parts are joined with nothing between them: each ends with its punctuation.
            assert all(a.endswith(("。", "！", "？")) for a in answers)


def test_the_rubric_follows_calgary_cambridge_with_instructions_and_evidence():
    assert [name.split(" / ")[0] for name, _required, _criteria in RUBRIC] == CALGARY_CAMBRIDGE
    for _name, required, criteria in RUBRIC:
        assert 0 < required <= 2 * len(criteria)
        for criterion, instructions, evidence in criteria:
            assert criterion and "2" in instructions and "0" in instructions
            assert len(evidence) >= 3
            assert any(re.search(r"[\u4e00-\u9fff]", e) for e in evidence)
            assert any(re.search(r"[A-Za-z]", e) for e in evidence)


@pytest.mark.django_db
def test_the_loader_creates_everything_once():
    first = load_practice_samples()
    criteria = sum(len(c) for _n, _r, c in RUBRIC)
    assert (first.scenarios, first.categories, first.criteria, first.activities) == (
        len(SCENARIOS),
        len(RUBRIC),
        criteria,
        len(SCENARIOS),
    )
    second = load_practice_samples()
    assert second.created == 0
    assert Scenario.objects.count() == len(SCENARIOS)
    assert Category.objects.count() == len(RUBRIC)
    assert SubCategory.objects.count() == criteria
    assert Activity.objects.count() == len(SCENARIOS)
    for scenario, sample in zip(Scenario.objects.order_by("id"), SCENARIOS, strict=True):
        validate_case(scenario.case)
        assert (scenario.language, scenario.enable, scenario.openid) == (sample.language, True, "")
        assert [t.tag for t in scenario.tags.all()] == list(sample.tags)
        assert [q.question for q in scenario.rubric_questions.all()] == list(
            sample.rubric_questions
        )
        activity = scenario.activities.get()
        links = ActivityCategory.objects.filter(activity=activity)
        assert sorted(links.values_list("category__name", flat=True)) == sorted(sample.categories)


@pytest.mark.django_db
def test_the_loader_keeps_an_instructors_edits_and_fills_what_was_deleted():
    load_practice_samples()
    scenario = Scenario.objects.order_by("id").first()
    scenario.additional_instructions = "Edited by an instructor"
    scenario.save()
    Category.objects.order_by("id").last().delete()
    again = load_practice_samples()
    assert (again.scenarios, again.categories, again.activities) == (0, 1, 0)
    assert Scenario.objects.get(pk=scenario.pk).additional_instructions == "Edited by an instructor"
    assert Category.objects.count() == len(RUBRIC)


@pytest.mark.django_db
def test_the_quickstart_loads_the_samples_and_prints_working_practice_accounts(
    settings, tmp_path, capsys
):
    settings.VAR_DIR = tmp_path
    call_command("quickstart", studies=20)
    out = capsys.readouterr().out
    criteria = sum(len(c) for _n, _r, c in RUBRIC)
    assert f"Practice samples: 4 scenarios, 6 categories, {criteria} criteria, 4 activities" in out
    passwords = dict(re.findall(r"username: (\w+)\n  password: (\S+)", out))
    assert set(passwords) == {"admin", "instructor", "learner"}
    emails = dict(re.findall(r"username: (\w+)\n  password: \S+\n  email: +(\S+)", out))
    assert set(emails) == {"instructor", "learner"}
    # The React frontend's way in: the contract's login by email.
    response = Client().post(
        "/api/login",
        {"email": emails["learner"], "password": passwords["learner"]},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["role"]) == (HTTPStatus.OK, "student")
    for username, role in (("instructor", "instructor"), ("learner", "learner")):
        response = Client().post(
            "/api/v1/auth/login",
            {"username": username, "password": passwords[username]},
            content_type="application/json",
        )
        assert response.status_code == HTTPStatus.OK
        assert response.json()["user"]["role"] == role
    instructor = User.objects.get(username="instructor")
    assert (instructor.role, instructor.is_staff, instructor.is_superuser) == (
        Role.INSTRUCTOR,
        True,
        False,
    )
    admin_site = Client()
    admin_site.force_login(instructor)
    assert admin_site.get("/admin/practice/scenario/").status_code == HTTPStatus.OK

    call_command("quickstart", studies=20)
    out = capsys.readouterr().out
    assert (
        "Practice samples: 0 scenarios, 0 categories, 0 criteria, 0 activities created "
        "(all present already)"
    ) in out
    renewed = dict(re.findall(r"username: (\w+)\n  password: (\S+)", out))
    assert renewed["learner"] != passwords["learner"]
    assert Scenario.objects.count() == 4
