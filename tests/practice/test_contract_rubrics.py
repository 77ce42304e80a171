"""Categories and criteria ("rubrics") through HTTP (SPEC-practice §4)."""

from http import HTTPStatus

import pytest

from accounts.models import Role
from audit.models import AuditEvent
from practice.models import Activity, ActivityCategory, Category, Scenario
from practice.models import SubCategory as Criterion
from tests.practice.conftest import CONTRACT_ROLES
from tests.practice.contract_support import call, snapshot

pytestmark = pytest.mark.django_db

MISSING = {"message": "Missing fields"}
CATEGORY_NOT_FOUND = {"message": "Category not found"}
RUBRIC_NOT_FOUND = {"message": "Rubric not found"}


def category(name: str = "Gathering information", required: int = 2, criteria=()) -> Category:
    made = Category.objects.create(name=name, total_required_to_pass=required)
    for criterion in criteria:
        Criterion.objects.create(
            category=made, name=criterion, marking_instructions=f"{criterion}?"
        )
    return made


# ---------------------------------------------------------------- categories
def test_category_list_nests_criteria_in_id_order(contract_client) -> None:
    first = category("Initiating", 1, ["Greets", "Introduces self"])
    second = category("Closing", 0)
    a, b = first.subcategories.order_by("id")
    response = contract_client(Role.LEARNER).get("/api/categories")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == [
        {
            "id": first.id,
            "name": "Initiating",
            "total_required_to_pass": 1,
            "subcategories": [
                {
                    "id": a.id,
                    "name": "Greets",
                    "marking_instructions": "Greets?",
                    "category_id": first.id,
                },
                {
                    "id": b.id,
                    "name": "Introduces self",
                    "marking_instructions": "Introduces self?",
                    "category_id": first.id,
                },
            ],
        },
        {"id": second.id, "name": "Closing", "total_required_to_pass": 0, "subcategories": []},
    ]


def test_category_list_takes_constant_queries(
    contract_client, django_assert_max_num_queries
) -> None:
    for i in range(6):
        category(f"c{i}", 1, ["a", "b"])
    client = contract_client(Role.LEARNER)
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/categories").json()) == 6


@pytest.mark.parametrize("empty_id", [{}, {"id": None}, {"id": ""}])
def test_category_save_without_id_creates(contract_client, empty_id) -> None:
    body = {"name": "Building rapport", "total_required_to_pass": 3, "extra": 1, **empty_id}
    response = call(contract_client(), "post", "/api/categories", body)
    created = Category.objects.get()
    assert (response.status_code, response.json()) == (
        200,
        {"message": "Category saved", "id": created.id},
    )
    assert (created.name, created.total_required_to_pass) == ("Building rapport", 3)
    assert AuditEvent.objects.filter(action="practice.category_created").count() == 1


def test_category_save_with_id_updates(contract_client) -> None:
    made = category("Old", 1, ["kept"])
    body = {"id": made.id, "name": "New", "total_required_to_pass": 0}
    response = call(contract_client(Role.ADMIN), "post", "/api/categories/", body)
    assert (response.status_code, response.json()) == (
        200,
        {"message": "Category saved", "id": made.id},
    )
    made.refresh_from_db()
    assert (made.name, made.total_required_to_pass, made.subcategories.count()) == ("New", 0, 1)
    response = call(contract_client(), "post", "/api/categories", {**body, "id": str(made.id)})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "answer"),
    [
        ({"total_required_to_pass": 1}, 400, MISSING),
        ({"name": "", "total_required_to_pass": 1}, 400, MISSING),
        ({"name": "N"}, 400, MISSING),
        ({"name": "N", "total_required_to_pass": ""}, 400, MISSING),
        (
            {"name": "N", "total_required_to_pass": -1},
            400,
            {"message": "Invalid field: total_required_to_pass"},
        ),
        (
            {"name": "N", "total_required_to_pass": 2**31},
            400,
            {"message": "Invalid field: total_required_to_pass"},
        ),
        (
            {"name": "N", "total_required_to_pass": "many"},
            400,
            {"message": "Invalid field: total_required_to_pass"},
        ),
        ({"name": "N" * 256, "total_required_to_pass": 1}, 400, {"message": "Invalid field: name"}),
        ({"id": 999, "name": "N", "total_required_to_pass": 1}, 404, CATEGORY_NOT_FOUND),
        (
            {"id": "abc", "name": "N", "total_required_to_pass": 1},
            400,
            {"message": "Invalid field: id"},
        ),
        (
            {"name": "N\u0000", "total_required_to_pass": 1},
            400,
            {"message": "The request contains a NUL byte"},
        ),
    ],
)
def test_category_save_refusals_write_nothing(contract_client, body, status, answer) -> None:
    category("Existing")
    client = contract_client()
    before = snapshot()
    response = call(client, "post", "/api/categories", body)
    assert (response.status_code, response.json()) == (status, answer)
    assert snapshot() == before


def test_category_delete_takes_its_criteria_and_activity_links(contract_client) -> None:
    doomed = category("Doomed", 1, ["a", "b"])
    kept = category("Kept", 1, ["c"])
    activity = Activity.objects.create(
        pre_brief="p", character=Scenario.objects.create(scenario_text="s")
    )
    ActivityCategory.objects.create(activity=activity, category=doomed)
    ActivityCategory.objects.create(activity=activity, category=kept)
    response = contract_client().delete(f"/api/categories/{doomed.id}")
    assert (response.status_code, response.json()) == (200, {"message": "Category deleted"})
    assert list(Category.objects.values_list("id", flat=True)) == [kept.id]
    assert list(Criterion.objects.values_list("name", flat=True)) == ["c"]
    assert list(ActivityCategory.objects.values_list("category_id", flat=True)) == [kept.id]
    assert Activity.objects.filter(id=activity.id).exists()


def test_category_delete_of_an_unknown_id_is_404(contract_client) -> None:
    response = contract_client().delete("/api/categories/999")
    assert (response.status_code, response.json()) == (404, CATEGORY_NOT_FOUND)


def test_there_is_no_delete_of_all_categories(contract_client) -> None:
    category()
    assert contract_client(Role.ADMIN).delete("/api/categories").status_code == 405
    assert Category.objects.count() == 1


# ---------------------------------------------------------------- criteria
def test_criterion_list_of_a_category(contract_client) -> None:
    made = category("C", 1, ["x", "y"])
    category("Other", 1, ["z"])
    x, y = made.subcategories.order_by("id")
    response = contract_client(Role.LEARNER).get(f"/api/categories/{made.id}/rubrics")
    assert response.json() == [
        {"id": x.id, "name": "x", "marking_instructions": "x?", "category_id": made.id},
        {"id": y.id, "name": "y", "marking_instructions": "y?", "category_id": made.id},
    ]


def test_criterion_list_of_an_unknown_category_is_404(contract_client) -> None:
    response = contract_client(Role.LEARNER).get("/api/categories/999/rubrics")
    assert (response.status_code, response.json()) == (404, CATEGORY_NOT_FOUND)


def test_criterion_create_with_evidence(contract_client) -> None:
    made = category()
    body = {
        "id": "",
        "name": "Open question",
        "marking_instructions": "Starts with an open question",
        "category_id": made.id,
        "evidence": ["What brings you in today?", "Tell me more"],
    }
    response = call(contract_client(), "post", "/api/rubrics", body)
    created = Criterion.objects.get()
    assert (response.status_code, response.json()) == (
        200,
        {"message": "Rubric saved", "id": created.id},
    )
    assert (created.name, created.marking_instructions, created.category_id, created.evidence) == (
        "Open question",
        "Starts with an open question",
        made.id,
        ["What brings you in today?", "Tell me more"],
    )
    assert AuditEvent.objects.filter(action="practice.criterion_created").count() == 1


def test_criterion_update_keeps_evidence_left_out_and_moves_category(contract_client) -> None:
    source, target = category("A"), category("B")
    criterion = Criterion.objects.create(
        category=source, name="n", marking_instructions="m", evidence=["e"]
    )
    body = {
        "id": criterion.id,
        "name": "n2",
        "marking_instructions": "m2",
        "category_id": target.id,
    }
    response = call(contract_client(), "post", "/api/rubrics", body)
    assert (response.status_code, response.json()) == (
        200,
        {"message": "Rubric saved", "id": criterion.id},
    )
    criterion.refresh_from_db()
    assert (
        criterion.name,
        criterion.marking_instructions,
        criterion.category_id,
        criterion.evidence,
    ) == (
        "n2",
        "m2",
        target.id,
        ["e"],
    )
    call(contract_client(), "post", "/api/rubrics", {**body, "evidence": None})
    criterion.refresh_from_db()
    assert criterion.evidence is None


@pytest.mark.parametrize(
    ("fields", "status", "answer"),
    [
        ({"name": ""}, 400, MISSING),
        ({"marking_instructions": ""}, 400, MISSING),
        ({"category_id": ""}, 400, MISSING),
        ({"category_id": None}, 400, MISSING),
        ({"category_id": 999}, 404, CATEGORY_NOT_FOUND),
        ({"id": 999}, 404, RUBRIC_NOT_FOUND),
        ({"evidence": "text"}, 400, {"message": "Invalid field: evidence"}),
        ({"evidence": [""]}, 400, {"message": "evidence: must be a list of non-empty texts"}),
        ({"name": "x" * 256}, 400, {"message": "Invalid field: name"}),
    ],
)
def test_criterion_save_refusals_write_nothing(contract_client, fields, status, answer) -> None:
    made = category("C", 1, ["existing"])
    client = contract_client()
    body = {"name": "n", "marking_instructions": "m", "category_id": made.id, **fields}
    before = snapshot()
    response = call(client, "post", "/api/rubrics", body)
    assert (response.status_code, response.json()) == (status, answer)
    assert snapshot() == before


@pytest.mark.parametrize("missing", ["name", "marking_instructions", "category_id"])
def test_criterion_saved_field_by_field_without_a_field_is_400(contract_client, missing) -> None:
    made = category("C", 1, ["existing"])
    existing = made.subcategories.get()
    body = {"id": existing.id, "name": "n", "marking_instructions": "m", "category_id": made.id}
    del body[missing]
    client = contract_client()
    before = snapshot()
    response = call(client, "post", "/api/rubrics", body)
    assert (response.status_code, response.json()) == (400, MISSING)
    assert snapshot() == before


def test_criterion_delete(contract_client) -> None:
    made = category("C", 1, ["a", "b"])
    a, b = made.subcategories.order_by("id")
    response = contract_client().delete(f"/api/rubrics/{a.id}")
    assert (response.status_code, response.json()) == (200, {"message": "Rubric deleted"})
    assert list(Criterion.objects.values_list("id", flat=True)) == [b.id]
    response = contract_client().delete(f"/api/rubrics/{a.id}")
    assert (response.status_code, response.json()) == (404, RUBRIC_NOT_FOUND)


# ---------------------------------------------------------------- role matrix
ROUTES = [
    ("get", "/api/categories", None, Role.LEARNER),
    ("post", "/api/categories", {"name": "N", "total_required_to_pass": 1}, Role.INSTRUCTOR),
    ("delete", "/api/categories/{cid}", None, Role.INSTRUCTOR),
    ("get", "/api/categories/{cid}/rubrics", None, Role.LEARNER),
    (
        "post",
        "/api/rubrics",
        {"name": "n", "marking_instructions": "m", "category_id": "{cid}"},
        Role.INSTRUCTOR,
    ),
    ("delete", "/api/rubrics/{rid}", None, Role.INSTRUCTOR),
]
ALLOWED = {
    Role.LEARNER: {Role.LEARNER, Role.INSTRUCTOR, Role.ADMIN},
    Role.INSTRUCTOR: {Role.INSTRUCTOR, Role.ADMIN},
}


@pytest.mark.parametrize(("method", "path", "body", "minimum"), ROUTES)
@pytest.mark.parametrize("role", CONTRACT_ROLES)
def test_role_matrix(contract_client, role, method, path, body, minimum) -> None:
    made = category("C", 1, ["r"])
    ids = {"cid": made.id, "rid": made.subcategories.get().id}
    if body is not None:
        body = {k: int(v.format(**ids)) if v == "{cid}" else v for k, v in body.items()}
    client = contract_client(role)
    before = snapshot()
    response = call(client, method, path.format(**ids), body)
    if role in ALLOWED[minimum]:
        assert response.status_code == HTTPStatus.OK, response.content
        return
    expected = (
        (401, {"message": "Authentication required"})
        if role is None
        else (403, {"message": "Your role does not allow this action"})
    )
    assert (response.status_code, response.json()) == expected
    assert snapshot() == before
