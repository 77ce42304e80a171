"""Scenarios, enable/disable and rubric questions through HTTP (SPEC-practice §4)."""

from http import HTTPStatus

import pytest

from accounts.models import Role
from audit.models import AuditEvent
from practice.casesheet import TOPICS
from practice.models import Activity, Conversation, RubricQuestion, Scenario, Tag
from tests.practice.conftest import CONTRACT_ROLES
from tests.practice.contract_support import call, snapshot

pytestmark = pytest.mark.django_db

MISSING = {"message": "Missing fields"}
SCENARIO_NOT_FOUND = {"message": "Scenario not found"}

CASE = {
    "patient": {"name": "Mr Chen", "age": 58},
    "opening": "Doctor, my chest has been hurting since this morning.",
    "unknown_answer": "I'm not sure about that.",
    "empathy_answer": "Thank you, I am worried.",
    "hidden": {"diagnosis": "myocardial infarction"},
    "facts": [
        {"topic": "onset", "answer": "It started at seven.", "questions": ["when did it start"]},
    ],
}


def scenario(**fields) -> Scenario:
    values = {"scenario_text": "A 58-year-old man with chest pain.", **fields}
    tags = values.pop("tags", [])
    questions = values.pop("rubrics", [])
    created = Scenario.objects.create(**values)
    for tag in tags:
        Tag.objects.create(scenario=created, tag=tag)
    for question in questions:
        RubricQuestion.objects.create(scenario=created, question=question)
    return created


def listed(item: Scenario, **extra) -> dict:
    return {
        "id": item.id,
        "scenario_text": item.scenario_text,
        "additional_instructions": item.additional_instructions,
        "enable": item.enable,
        "role": item.role,
        "openid": item.openid,
        "communication_preferences": item.communication_preferences,
        "tags": [t.tag for t in item.tags.order_by("id")],
        "rubrics": [q.question for q in item.rubric_questions.order_by("id")],
        **extra,
    }


# ---------------------------------------------------------------- list
def test_scenario_list_is_the_flask_shape_in_id_order(contract_client) -> None:
    second = scenario(scenario_text="B", tags=["cardio", "acute"], rubrics=["Q1", "Q2"])
    first = Scenario.objects.create(id=second.id - 1 if second.id > 1 else 999, scenario_text="A")
    rows = sorted([first, second], key=lambda s: s.id)
    response = contract_client(Role.INSTRUCTOR).get("/api/scenarios")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == [listed(s) for s in rows]


def test_scenario_list_whole_body(contract_client) -> None:
    made = scenario(
        scenario_text="Persona",
        additional_instructions="Be brief.",
        communication_preferences="Plain words",
        role="Elderly Woman",
        openid="asst_123",
        tags=["t1", "t2"],
        rubrics=["Did they greet?", "Did they ask about pain?"],
    )
    body = contract_client(Role.LEARNER).get("/api/scenarios").json()
    assert body == [
        {
            "id": made.id,
            "scenario_text": "Persona",
            "additional_instructions": "Be brief.",
            "enable": True,
            "role": "Elderly Woman",
            "openid": "asst_123",
            "communication_preferences": "Plain words",
            "tags": ["t1", "t2"],
            "rubrics": ["Did they greet?", "Did they ask about pain?"],
        }
    ]


def test_learner_list_holds_enabled_scenarios_only(contract_client) -> None:
    on = scenario(scenario_text="on")
    scenario(scenario_text="off", enable=False)
    scenario(scenario_text="unknown", enable=None)
    body = contract_client(Role.LEARNER).get("/api/scenarios").json()
    assert [row["id"] for row in body] == [on.id]


def test_instructor_list_holds_every_scenario(contract_client) -> None:
    made = [scenario(scenario_text="on"), scenario(scenario_text="off", enable=False)]
    body = contract_client(Role.INSTRUCTOR).get("/api/scenarios").json()
    assert [row["id"] for row in body] == [s.id for s in made]


@pytest.mark.parametrize("role", [Role.INSTRUCTOR, Role.ADMIN])
def test_include_case_adds_case_and_language_for_authors(contract_client, role) -> None:
    made = scenario(case=CASE, language="zh-hans")
    body = contract_client(role).get("/api/scenarios?include=case").json()
    assert body == [listed(made, case=CASE, language="zh-hans")]


def test_include_case_is_ignored_for_a_learner(contract_client) -> None:
    made = scenario(case=CASE)
    body = contract_client(Role.LEARNER).get("/api/scenarios?include=case").json()
    assert body == [listed(made)]


def test_scenario_list_takes_three_queries(contract_client, django_assert_num_queries) -> None:
    for i in range(5):
        scenario(scenario_text=f"s{i}", tags=["a", "b"], rubrics=["q"])
    client = contract_client(Role.INSTRUCTOR)
    client.get("/api/scenarios")  # warm the token's session cache
    # token session + user, scenarios, tags, questions, the audit insert
    with django_assert_num_queries(5, exact=False) as captured:
        assert len(client.get("/api/scenarios").json()) == 5
    tables = " ".join(q["sql"] for q in captured.captured_queries)
    assert tables.count('FROM "assistant_tags"') == 1
    assert tables.count('FROM "rubric_questions"') == 1


# ---------------------------------------------------------------- create
def test_create_saves_every_field_with_tags_and_questions(contract_client) -> None:
    client = contract_client(Role.INSTRUCTOR)
    body = {
        "scenario_text": "Persona",
        "additional_instructions": "Stay calm.",
        "communication_preferences": "Short answers",
        "role": "Boy",
        "enable": False,
        "tags": ["paediatrics", "fever"],
        "rubrics": ["Greets the parent", "Asks about fever"],
        "case": CASE,
        "language": "zh-hans",
        "unknown": "ignored",
    }
    response = call(client, "post", "/api/scenarios", body)
    assert response.status_code == HTTPStatus.CREATED
    created = Scenario.objects.get()
    assert response.json() == {"message": "Created", "id": created.id}
    listed_body = client.get("/api/scenarios?include=case").json()
    assert listed_body == [
        {
            "id": created.id,
            "scenario_text": "Persona",
            "additional_instructions": "Stay calm.",
            "enable": False,
            "role": "Boy",
            "openid": "",
            "communication_preferences": "Short answers",
            "tags": ["paediatrics", "fever"],
            "rubrics": ["Greets the parent", "Asks about fever"],
            "case": CASE,
            "language": "zh-hans",
        }
    ]
    assert created.created_at is not None
    assert created.updated_at == created.created_at
    event = AuditEvent.objects.get(action="practice.scenario_created")
    assert (event.username, event.object_ids) == (client.user.username, [str(created.id)])


def test_create_with_only_the_persona_takes_the_defaults(contract_client) -> None:
    client = contract_client(Role.ADMIN)
    response = call(client, "post", "/api/scenarios/", {"scenario_text": "Persona"})
    assert response.status_code == HTTPStatus.CREATED
    assert client.get("/api/scenarios?include=case").json() == [
        {
            "id": response.json()["id"],
            "scenario_text": "Persona",
            "additional_instructions": "",
            "enable": True,
            "role": "Adult",
            "openid": "",
            "communication_preferences": None,
            "tags": [],
            "rubrics": [],
            "case": None,
            "language": "en",
        }
    ]


@pytest.mark.parametrize("role", ["", None])
def test_create_with_an_empty_role_stores_adult(contract_client, role) -> None:
    response = call(
        contract_client(), "post", "/api/scenarios", {"scenario_text": "P", "role": role}
    )
    assert Scenario.objects.get(id=response.json()["id"]).role == "Adult"


def test_create_with_enable_null_is_enabled(contract_client) -> None:
    response = call(
        contract_client(), "post", "/api/scenarios", {"scenario_text": "P", "enable": None}
    )
    assert Scenario.objects.get(id=response.json()["id"]).enable is True


BAD_CREATES = [
    ({}, HTTPStatus.BAD_REQUEST, MISSING),
    ({"scenario_text": ""}, HTTPStatus.BAD_REQUEST, MISSING),
    ({"scenario_text": "   "}, HTTPStatus.BAD_REQUEST, MISSING),
    ({"scenario_text": None}, HTTPStatus.BAD_REQUEST, MISSING),
    ({"scenario_text": "P", "enable": "maybe"}, 400, {"message": "Invalid field: enable"}),
    ({"scenario_text": "P", "tags": "a"}, 400, {"message": "Invalid field: tags"}),
    ({"scenario_text": "P", "tags": [1]}, 400, {"message": "Invalid field: tags.0"}),
    ({"scenario_text": "P", "rubrics": [None]}, 400, {"message": "Invalid field: rubrics.0"}),
    ({"scenario_text": "P", "case": "text"}, 400, {"message": "Invalid field: case"}),
    (
        {"scenario_text": "P", "language": "fr"},
        400,
        {"message": "language: must be one of en, zh-hans"},
    ),
    (
        {"scenario_text": "P", "case": {**CASE, "opening": ""}},
        400,
        {"message": "case.opening: is required (a non-empty text)"},
    ),
    (
        {"scenario_text": "P", "case": {**CASE, "facts": [{"topic": "weather", "answer": "x"}]}},
        400,
        {"message": "case.facts[0].topic: must be one of " + ", ".join(TOPICS)},
    ),
    (
        {"scenario_text": "P", "case": {**CASE, "opening": "I have a myocardial infarction"}},
        400,
        {"message": "case.opening: must not contain the hidden diagnosis"},
    ),
    ({"scenario_text": "P\u0000"}, 400, {"message": "The request contains a NUL byte"}),
    ({"scenario_text": "P", "x\u0000": 1}, 400, {"message": "The request contains a NUL byte"}),
    ([{"scenario_text": "P"}], 400, MISSING),
]


@pytest.mark.parametrize(("body", "status", "answer"), BAD_CREATES)
def test_create_refuses_bad_input_and_writes_nothing(contract_client, body, status, answer) -> None:
    client = contract_client(Role.INSTRUCTOR)
    before = snapshot()
    response = call(client, "post", "/api/scenarios", body)
    assert (response.status_code, response.json()) == (status, answer)
    assert snapshot() == before
    assert not AuditEvent.objects.filter(action__startswith="practice.").exists()


def test_create_refuses_a_body_that_is_not_json(contract_client) -> None:
    client = contract_client()
    before = snapshot()
    response = call(client, "post", "/api/scenarios", b"{not json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()) == ["message"]
    assert snapshot() == before


def test_query_string_with_a_nul_byte_is_400(contract_client) -> None:
    response = contract_client(Role.LEARNER).get("/api/scenarios?include=case%00")
    assert (response.status_code, response.json()) == (
        400,
        {"message": "The request contains a NUL byte"},
    )
    # Audited, the NUL replaced by core.badinput.NUL_MARK (PostgreSQL cannot store it in JSON).
    assert AuditEvent.objects.get(path="/api/scenarios").query == {"include": "case\ufffd"}


# ---------------------------------------------------------------- update
def test_update_changes_only_the_fields_given(contract_client) -> None:
    made = scenario(
        additional_instructions="keep",
        communication_preferences="keep too",
        role="Girl",
        tags=["old"],
        rubrics=["old question"],
        case=CASE,
        language="zh-hans",
    )
    client = contract_client(Role.INSTRUCTOR)
    response = call(client, "put", f"/api/scenarios/{made.id}", {"scenario_text": "New persona"})
    assert (response.status_code, response.json()) == (HTTPStatus.OK, {"message": "Updated"})
    assert client.get("/api/scenarios?include=case").json() == [
        listed(made, scenario_text="New persona", case=CASE, language="zh-hans")
    ]


def test_update_replaces_tags_and_questions_when_given(contract_client) -> None:
    made = scenario(tags=["a", "b"], rubrics=["q1"])
    client = contract_client(Role.INSTRUCTOR)
    body = {"tags": ["c"], "rubrics": ["q2", "q3"], "role": "", "enable": False}
    assert call(client, "put", f"/api/scenarios/{made.id}/", body).status_code == HTTPStatus.OK
    row = client.get("/api/scenarios").json()[0]
    assert (row["tags"], row["rubrics"], row["role"], row["enable"]) == (
        ["c"],
        ["q2", "q3"],
        "Adult",
        False,
    )
    assert call(client, "put", f"/api/scenarios/{made.id}", {"tags": []}).status_code == 200
    assert client.get("/api/scenarios").json()[0]["tags"] == []


def test_update_can_set_and_clear_the_case(contract_client) -> None:
    made = scenario()
    client = contract_client(Role.INSTRUCTOR)
    call(client, "put", f"/api/scenarios/{made.id}", {"case": CASE, "language": "zh-hans"})
    made.refresh_from_db()
    assert (made.case, made.language) == (CASE, "zh-hans")
    call(client, "put", f"/api/scenarios/{made.id}", {"case": None})
    made.refresh_from_db()
    assert made.case is None


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        ({"scenario_text": ""}, MISSING),
        ({"scenario_text": None}, MISSING),
        (
            {"tags": ["ok"], "case": {"opening": "hi"}},
            {"message": "case.unknown_answer: is required (a non-empty text)"},
        ),
        (
            {"rubrics": ["ok"], "language": "de"},
            {"message": "language: must be one of en, zh-hans"},
        ),
        ({"enable": []}, {"message": "Invalid field: enable"}),
    ],
)
def test_update_refuses_bad_input_and_writes_nothing(contract_client, body, answer) -> None:
    made = scenario(tags=["a"], rubrics=["q"])
    client = contract_client()
    before = snapshot()
    response = call(client, "put", f"/api/scenarios/{made.id}", body)
    assert (response.status_code, response.json()) == (HTTPStatus.BAD_REQUEST, answer)
    assert snapshot() == before


def test_update_of_an_unknown_scenario_is_404(contract_client) -> None:
    response = call(contract_client(), "put", "/api/scenarios/999", {"scenario_text": "x"})
    assert (response.status_code, response.json()) == (404, SCENARIO_NOT_FOUND)


def test_a_path_id_that_is_not_a_number_is_404(contract_client) -> None:
    response = call(contract_client(), "put", "/api/scenarios/abc", {"scenario_text": "x"})
    assert (response.status_code, response.json()) == (404, {"message": "Not Found"})


# ---------------------------------------------------------------- delete
def test_delete_removes_the_scenario_with_tags_and_questions(contract_client) -> None:
    made = scenario(tags=["a"], rubrics=["q"])
    kept = scenario(tags=["b"])
    response = contract_client().delete(f"/api/scenarios/{made.id}")
    assert (response.status_code, response.json()) == (200, {"message": "Deleted"})
    assert list(Scenario.objects.values_list("id", flat=True)) == [kept.id]
    assert list(Tag.objects.values_list("tag", flat=True)) == ["b"]
    assert not RubricQuestion.objects.exists()
    assert AuditEvent.objects.filter(action="practice.scenario_deleted").count() == 1


def test_delete_is_409_while_an_activity_refers_to_it(contract_client) -> None:
    made = scenario(tags=["a"])
    Activity.objects.create(pre_brief="x", character=made)
    client = contract_client()
    before = snapshot()
    response = client.delete(f"/api/scenarios/{made.id}")
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == {
        "message": "Scenario is used by an activity or a conversation; "
        "disable it instead of deleting it"
    }
    assert snapshot() == before


def test_delete_is_409_while_a_conversation_refers_to_it(contract_client, make_user) -> None:
    made = scenario()
    Conversation.objects.create(thread_id="t1", user=make_user(Role.LEARNER), scenario=made)
    client = contract_client()
    before = snapshot()
    response = client.delete(f"/api/scenarios/{made.id}")
    assert response.status_code == HTTPStatus.CONFLICT
    assert snapshot() == before


def test_delete_of_an_unknown_scenario_is_404(contract_client) -> None:
    response = contract_client().delete("/api/scenarios/999")
    assert (response.status_code, response.json()) == (404, SCENARIO_NOT_FOUND)


def test_there_is_no_delete_all(contract_client) -> None:
    scenario()
    response = contract_client(Role.ADMIN).delete("/api/scenarios")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert Scenario.objects.count() == 1


# ---------------------------------------------------------------- enable / disable
def test_disable_and_enable(contract_client) -> None:
    made = scenario()
    client = contract_client()
    response = client.put(f"/api/scenarios/{made.id}/disable")
    assert (response.status_code, response.json()) == (200, {"message": "Scenario disabled"})
    made.refresh_from_db()
    assert made.enable is False
    assert contract_client(Role.LEARNER).get("/api/scenarios").json() == []
    response = client.put(f"/api/scenarios/{made.id}/enable/")
    assert (response.status_code, response.json()) == (200, {"message": "Scenario enabled"})
    made.refresh_from_db()
    assert made.enable is True
    actions = list(
        AuditEvent.objects.filter(action__startswith="practice.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["practice.scenario_disabled", "practice.scenario_enabled"]


@pytest.mark.parametrize("switch", ["enable", "disable"])
def test_switch_of_an_unknown_scenario_is_404(contract_client, switch) -> None:
    response = contract_client().put(f"/api/scenarios/999/{switch}")
    assert (response.status_code, response.json()) == (404, SCENARIO_NOT_FOUND)


# ---------------------------------------------------------------- rubric questions
def test_rubric_questions_lifecycle(contract_client) -> None:
    made = scenario(rubrics=["First"])
    client = contract_client()
    path = f"/api/scenarios/{made.id}/rubric_questions"
    response = call(client, "post", path, {"question": "Second"})
    assert response.status_code == HTTPStatus.CREATED
    second = response.json()["id"]
    assert response.json() == {"message": "Rubric question created", "id": second}
    first = RubricQuestion.objects.get(question="First").id
    assert client.get(path).json() == [
        {"id": first, "question": "First"},
        {"id": second, "question": "Second"},
    ]
    response = call(client, "put", f"/api/rubric_questions/{first}", {"question": "Changed"})
    assert (response.status_code, response.json()) == (200, {"message": "Rubric question updated"})
    response = client.delete(f"/api/rubric_questions/{second}")
    assert (response.status_code, response.json()) == (200, {"message": "Rubric question deleted"})
    assert contract_client(Role.LEARNER).get(path).json() == [{"id": first, "question": "Changed"}]


def test_rubric_questions_of_a_disabled_scenario_are_404_to_a_learner(contract_client) -> None:
    made = scenario(enable=False, rubrics=["q"])
    response = contract_client(Role.LEARNER).get(f"/api/scenarios/{made.id}/rubric_questions")
    assert (response.status_code, response.json()) == (404, SCENARIO_NOT_FOUND)
    assert contract_client().get(f"/api/scenarios/{made.id}/rubric_questions").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "answer"),
    [
        ("post", "/api/scenarios/{sid}/rubric_questions", {}, 400, MISSING),
        ("post", "/api/scenarios/{sid}/rubric_questions", {"question": ""}, 400, MISSING),
        ("post", "/api/scenarios/999/rubric_questions", {"question": "q"}, 404, SCENARIO_NOT_FOUND),
        ("put", "/api/rubric_questions/{qid}", {"question": ""}, 400, MISSING),
        (
            "put",
            "/api/rubric_questions/999",
            {"question": "q"},
            404,
            {"message": "Rubric question not found"},
        ),
        (
            "delete",
            "/api/rubric_questions/999",
            None,
            404,
            {"message": "Rubric question not found"},
        ),
        ("get", "/api/scenarios/999/rubric_questions", None, 404, SCENARIO_NOT_FOUND),
    ],
)
def test_rubric_question_refusals_write_nothing(
    contract_client, method, path, body, status, answer
) -> None:
    made = scenario(rubrics=["q"])
    question = made.rubric_questions.get()
    client = contract_client()
    before = snapshot()
    url = path.format(sid=made.id, qid=question.id)
    response = call(client, method, url, body)
    assert (response.status_code, response.json()) == (status, answer)
    assert snapshot() == before


# ---------------------------------------------------------------- role matrix
ROUTES = [
    ("get", "/api/scenarios", None, Role.LEARNER),
    ("post", "/api/scenarios", {"scenario_text": "P"}, Role.INSTRUCTOR),
    ("put", "/api/scenarios/{sid}", {"scenario_text": "P2"}, Role.INSTRUCTOR),
    ("put", "/api/scenarios/{sid}/enable", None, Role.INSTRUCTOR),
    ("put", "/api/scenarios/{sid}/disable", None, Role.INSTRUCTOR),
    ("delete", "/api/scenarios/{sid}", None, Role.INSTRUCTOR),
    ("get", "/api/scenarios/{sid}/rubric_questions", None, Role.LEARNER),
    ("post", "/api/scenarios/{sid}/rubric_questions", {"question": "q"}, Role.INSTRUCTOR),
    ("put", "/api/rubric_questions/{qid}", {"question": "q2"}, Role.INSTRUCTOR),
    ("delete", "/api/rubric_questions/{qid}", None, Role.INSTRUCTOR),
]
ALLOWED = {
    Role.LEARNER: {Role.LEARNER, Role.INSTRUCTOR, Role.ADMIN},
    Role.INSTRUCTOR: {Role.INSTRUCTOR, Role.ADMIN},
}


@pytest.mark.parametrize(("method", "path", "body", "minimum"), ROUTES)
@pytest.mark.parametrize("role", CONTRACT_ROLES)
def test_role_matrix(contract_client, role, method, path, body, minimum) -> None:
    made = scenario(rubrics=["q"])
    url = path.format(sid=made.id, qid=made.rubric_questions.get().id)
    client = contract_client(role)
    before = snapshot()
    response = call(client, method, url, body)
    if role is None:
        expected = (401, {"message": "Authentication required"})
    elif role in ALLOWED[minimum]:
        expected = None
    else:
        expected = (403, {"message": "Your role does not allow this action"})
    if expected is None:
        assert response.status_code in (200, 201), response.content
    else:
        assert (response.status_code, response.json()) == expected
        assert snapshot() == before


@pytest.mark.parametrize(
    "body",
    [
        b'{"scenario_text": "P\x00"}',
        b'{"scenario_text": "P", "tags": ["a", "b\\u0000"]}',
        b'{"scenario_text": "P", "case": {"facts": [{"answer\\u0000": 1}]}}',
    ],
)
def test_a_nul_byte_raw_or_escaped_anywhere_in_the_body_is_400(contract_client, body) -> None:
    client = contract_client()
    before = snapshot()
    response = call(client, "post", "/api/scenarios", body)
    assert (response.status_code, response.json()) == (
        400,
        {"message": "The request contains a NUL byte"},
    )
    assert snapshot() == before


def test_an_escaped_backslash_before_u0000_is_not_a_nul(contract_client) -> None:
    response = call(contract_client(), "post", "/api/scenarios", b'{"scenario_text": "a\\\\u0000"}')
    assert response.status_code == HTTPStatus.CREATED
    assert Scenario.objects.get().scenario_text == "a\\u0000"


def test_a_non_json_body_mentioning_u0000_is_refused_by_the_parser(contract_client) -> None:
    response = call(contract_client(), "post", "/api/scenarios", b"\\u0000 not json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() != {"message": "The request contains a NUL byte"}


def test_update_whole_body(contract_client) -> None:
    made = scenario(additional_instructions="old", communication_preferences="old", tags=["x"])
    client = contract_client()
    body = {
        "scenario_text": "S2",
        "additional_instructions": None,
        "communication_preferences": None,
        "role": "Toddler",
        "enable": False,
        "tags": ["y", "z"],
        "rubrics": ["r"],
        "case": CASE,
        "language": "",
    }
    assert call(client, "put", f"/api/scenarios/{made.id}", body).status_code == HTTPStatus.OK
    made.refresh_from_db()
    assert client.get("/api/scenarios?include=case").json() == [
        {
            "id": made.id,
            "scenario_text": "S2",
            "additional_instructions": "",
            "enable": False,
            "role": "Toddler",
            "openid": "",
            "communication_preferences": None,
            "tags": ["y", "z"],
            "rubrics": ["r"],
            "case": CASE,
            "language": "en",
        }
    ]
    assert made.updated_at is not None
