"""Reads of the authoring data, in the contract's order (ascending id, nested lists too)."""

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import Role, User
from core.errors import NotFound
from practice.models import Activity, ActivityCategory, Category, RubricQuestion, Scenario, Tag
from practice.models import SubCategory as Criterion

SCENARIO_NOT_FOUND = "Scenario not found"
RUBRIC_QUESTION_NOT_FOUND = "Rubric question not found"
CATEGORY_NOT_FOUND = "Category not found"
CRITERION_NOT_FOUND = "Rubric not found"
ACTIVITY_NOT_FOUND = "Activity not found"
CHARACTER_NOT_FOUND = "Character not found"


def sees_all_scenarios(user: User) -> bool:
    """Instructors and admins see disabled scenarios and case sheets; learners do not."""
    return user.has_role(Role.INSTRUCTOR)


def scenario_list(*, user: User) -> QuerySet[Scenario]:
    """Scenarios by id with their tags and rubric questions (three queries in all)."""
    scenarios = Scenario.objects.order_by("id").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("id")),
        Prefetch("rubric_questions", queryset=RubricQuestion.objects.order_by("id")),
    )
    if not sees_all_scenarios(user):
        scenarios = scenarios.filter(enable=True)
    return scenarios


def scenario_rows(*, user: User, include: list[str]) -> list[dict[str, Any]]:
    """The contract's scenario list; ``include`` "case" adds the case sheet and language for
    instructors and admins (a learner never sees a case sheet)."""
    with_case = "case" in include and sees_all_scenarios(user)
    rows = []
    for scenario in scenario_list(user=user):
        row = {
            "id": scenario.id,
            "scenario_text": scenario.scenario_text,
            "additional_instructions": scenario.additional_instructions,
            "enable": scenario.enable,
            "role": scenario.role,
            "openid": scenario.openid,
            "communication_preferences": scenario.communication_preferences,
            "tags": [t.tag for t in scenario.tags.all()],
            "rubrics": [q.question for q in scenario.rubric_questions.all()],
        }
        if with_case:
            row["case"] = scenario.case
            row["language"] = scenario.language
        rows.append(row)
    return rows


def scenario_get(*, scenario_id: int, user: User | None = None) -> Scenario:
    """A scenario by id; a disabled one is unknown (404) to a learner."""
    scenarios = Scenario.objects.all()
    if user is not None and not sees_all_scenarios(user):
        scenarios = scenarios.filter(enable=True)
    scenario = scenarios.filter(id=scenario_id).first()
    if scenario is None:
        raise NotFound(SCENARIO_NOT_FOUND)
    return scenario


def rubric_question_list(*, scenario_id: int, user: User) -> QuerySet[RubricQuestion]:
    scenario = scenario_get(scenario_id=scenario_id, user=user)
    return RubricQuestion.objects.filter(scenario=scenario).order_by("id")


def category_list() -> QuerySet[Category]:
    """Categories by id, each with its criteria by id (two queries)."""
    return Category.objects.order_by("id").prefetch_related(
        Prefetch("subcategories", queryset=Criterion.objects.order_by("id"))
    )


def criterion_list(*, category_id: int) -> QuerySet[Criterion]:
    if not Category.objects.filter(id=category_id).exists():
        raise NotFound(CATEGORY_NOT_FOUND)
    return Criterion.objects.filter(category_id=category_id).order_by("id")


def activity_list(*, user: User) -> list[dict]:
    """Activities by id with their category ids ascending (two queries); a learner's list
    leaves out the activities whose scenario is not enabled."""
    activities = Activity.objects.order_by("id")
    if not sees_all_scenarios(user):
        activities = activities.filter(character__enable=True)
    rows = list(activities.values("id", "pre_brief", "character_id"))
    links: dict[int, list[int]] = {row["id"]: [] for row in rows}
    pairs = (
        ActivityCategory.objects.filter(activity_id__in=list(links))
        .order_by("activity_id", "category_id")
        .values_list("activity_id", "category_id")
    )
    for activity_id, category_id in pairs:
        links[activity_id].append(category_id)
    return [{**row, "categories": links[row["id"]]} for row in rows]


def practice_user_names() -> list[str]:
    """Usernames of the practice area's members (learners, instructors, admins), by id."""
    members = Q(role__in=[Role.LEARNER, Role.INSTRUCTOR, Role.ADMIN]) | Q(is_superuser=True)
    return list(User.objects.filter(members).order_by("id").values_list("username", flat=True))
