"""Writes of the authoring data and of practice users (SPEC-practice §4), each in one
transaction that records its own audit event."""

from collections.abc import Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone

from accounts import services as accounts_services
from accounts.models import Role, User
from audit.services import audit_record
from core.errors import Conflict, DomainError, Forbidden, NotFound
from practice.authoring.selectors import (
    ACTIVITY_NOT_FOUND,
    CATEGORY_NOT_FOUND,
    CHARACTER_NOT_FOUND,
    CRITERION_NOT_FOUND,
    RUBRIC_QUESTION_NOT_FOUND,
    SCENARIO_NOT_FOUND,
)
from practice.casesheet import LANGUAGES, CaseSheetError, validate_case
from practice.flask_users import is_flask_hash
from practice.models import Activity, ActivityCategory, Category, RubricQuestion, Scenario, Tag
from practice.models import SubCategory as Criterion

DEFAULT_AVATAR = "Adult"
SCENARIO_IN_USE = (
    "Scenario is used by an activity or a conversation; disable it instead of deleting it"
)
USERNAME_TAKEN = "Username already exists"
EMAIL_TAKEN = "Email already exists"
INVALID_ROLE = "Invalid role: use learner, instructor, student or admin"
SELF_REGISTRATION_CLOSED = "Self-registration is disabled; ask an instructor for an account"
# The frontend's names for the practice roles (and the product's own): never the product's admin.
ROLE_GIVEN = {
    "learner": Role.LEARNER,
    "student": Role.LEARNER,
    "instructor": Role.INSTRUCTOR,
    "admin": Role.INSTRUCTOR,
}


class BadRequest(DomainError):
    """400 with the contract's message (a refused value the schema cannot judge)."""

    status_code = 400


M = TypeVar("M", bound=Model)


def _audit(
    request: HttpRequest | None, user: User | None, action: str, kind: str, ids: Iterable[Any]
) -> None:
    """The success event of one authoring write on the rows ``ids`` of ``kind``."""
    audit_record(
        action=action,
        outcome="success",
        user=user,
        request=request,
        object_type=kind,
        object_ids=[str(i) for i in ids],
    )


def _locked(model: type[M], row_id: int, missing: str) -> M:
    """The row, locked until the transaction ends, or the contract's 404 ``missing``."""
    found = model.objects.select_for_update().filter(id=row_id).first()
    if found is None:
        raise NotFound(missing)
    return found


def _delete(
    request: HttpRequest | None, by: User, model: type[Model], row_id: int, missing: str, kind: str
) -> None:
    """Delete the locked row and record ``practice.<kind>_deleted``."""
    _locked(model, row_id, missing).delete()
    _audit(request, by, f"practice.{kind}_deleted", kind, [row_id])


# ---------------------------------------------------------------- login and users
def contract_role(user: User) -> str:
    """The role as the React frontend reads it: learner → student, instructor/admin → admin."""
    role = user.effective_role
    if role == Role.LEARNER:
        return "student"
    if role in (Role.INSTRUCTOR, Role.ADMIN):
        return "admin"
    return role


def _login_name(email: str) -> str:
    """What the product's credential check is given for an email. A product user with a
    Django hash: their username (Django's ModelBackend authenticates by username). Anyone else
    — a user still on a Flask hash, an email the product does not know (a Flask user not
    imported yet, or nobody) — the email itself, which the email backend
    (``practice.flask_users.FlaskEmailBackend``) verifies; nobody fails like a wrong password,
    with the one message, counted for the lockout."""
    user = User.objects.filter(email__iexact=email).order_by("id").only("username", "password")
    found = user.first()
    if found is None or is_flask_hash(found.password):
        return email
    return found.username


def contract_login(
    *, request: HttpRequest, email: str, password: str
) -> tuple[accounts_services.TokenPair, User]:
    """The product's login by email: same credential check, lockout and audit as
    ``/api/v1/auth/login``; the token is the product's access token."""
    username = _login_name(email.strip())
    # The one credential check every login shares (lockout, failure count, audit).
    user = accounts_services.verified_user(
        request=request, username=username, password=password, detail={"via": "practice"}
    )
    with transaction.atomic():
        update_last_login(None, user)
        pair = accounts_services._issue(user, request=request)
        accounts_services.login_recorded(request=request, user=user, via="practice")
    return pair, user


def _refusal(error: DjangoValidationError) -> str:
    return " ".join(error.messages)


@transaction.atomic
def practice_user_create(
    *,
    request: HttpRequest | None,
    by: User | None,
    username: str,
    email: str,
    password: str,
    role: str | None,
) -> User:
    """A learner or instructor account. ``by`` None is self-registration (a learner, whatever
    ``role`` says, and only while PRACTICE_SELF_REGISTRATION is on)."""
    if by is None:
        if not settings.PRACTICE_SELF_REGISTRATION:
            raise Forbidden(SELF_REGISTRATION_CLOSED)
        granted = Role.LEARNER
    elif not by.has_role(Role.INSTRUCTOR):
        raise Forbidden("Your role does not allow this action")
    elif not role:
        granted = Role.LEARNER
    elif role.strip().lower() in ROLE_GIVEN:
        granted = ROLE_GIVEN[role.strip().lower()]
    else:
        raise BadRequest(INVALID_ROLE)
    username = username.strip()
    email = email.strip()
    try:
        User._meta.get_field("username").run_validators(username)
    except DjangoValidationError as exc:
        raise BadRequest(f"username: {_refusal(exc)}") from exc
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise BadRequest(f"email: {_refusal(exc)}") from exc
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(USERNAME_TAKEN)
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(EMAIL_TAKEN)
    # Instructors author in the admin too (practice models only: practice.permissions).
    user = User(username=username, email=email, role=granted, is_staff=granted == Role.INSTRUCTOR)
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise BadRequest(f"password: {_refusal(exc)}") from exc
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # Two registrations of one name at once: the loser is told as if it came second.
        taken = User.objects.filter(username__iexact=username).exists()
        raise Conflict(USERNAME_TAKEN if taken else EMAIL_TAKEN) from exc
    audit_record(
        action="practice.user_created",
        outcome="success",
        user=by,
        username=by.get_username() if by else username,
        request=request,
        object_type="user",
        object_ids=[str(user.pk)],
        detail={"role": granted, "self_registration": by is None},
    )
    return user


# ---------------------------------------------------------------- scenarios
def _language(value: str | None) -> str:
    if value is None or value == "":
        return "en"
    if value not in LANGUAGES:
        raise BadRequest(f"language: must be one of {', '.join(LANGUAGES)}")
    return value


def _case(value: dict | None) -> dict | None:
    try:
        validate_case(value)
    except CaseSheetError as exc:
        raise BadRequest(f"{exc.path}: {exc.message}") from exc
    return value


def _replace_tags(scenario: Scenario, tags: list[str]) -> None:
    Tag.objects.filter(scenario=scenario).delete()
    Tag.objects.bulk_create([Tag(scenario=scenario, tag=tag) for tag in tags])


def _replace_questions(scenario: Scenario, questions: list[str]) -> None:
    RubricQuestion.objects.filter(scenario=scenario).delete()
    RubricQuestion.objects.bulk_create(
        [RubricQuestion(scenario=scenario, question=question) for question in questions]
    )


@transaction.atomic
def scenario_create(*, request: HttpRequest | None, by: User, data: dict[str, Any]) -> Scenario:
    """A scenario with its tags and rubric questions (the Flask service dropped those)."""
    now = timezone.now()
    scenario = Scenario.objects.create(
        scenario_text=data["scenario_text"],
        additional_instructions=data.get("additional_instructions") or "",
        communication_preferences=data.get("communication_preferences"),
        role=data.get("role") or DEFAULT_AVATAR,
        enable=data.get("enable") is not False,
        openid="",
        case=_case(data.get("case")),
        language=_language(data.get("language")),
        created_at=now,
        updated_at=now,
    )
    _replace_tags(scenario, data.get("tags") or [])
    _replace_questions(scenario, data.get("rubrics") or [])
    _audit(request, by, "practice.scenario_created", "scenario", [scenario.id])
    return scenario


@transaction.atomic
def scenario_update(
    *, request: HttpRequest | None, by: User, scenario_id: int, data: dict[str, Any]
) -> Scenario:
    """Change the fields given (``data`` holds only those); tags and rubric questions, when
    given, replace the stored ones."""
    scenario = _locked(Scenario, scenario_id, SCENARIO_NOT_FOUND)
    if "scenario_text" in data:
        scenario.scenario_text = data["scenario_text"]
    if "additional_instructions" in data:
        scenario.additional_instructions = data["additional_instructions"] or ""
    if "communication_preferences" in data:
        scenario.communication_preferences = data["communication_preferences"]
    if "role" in data:
        scenario.role = data["role"] or DEFAULT_AVATAR
    if data.get("enable") is not None:
        scenario.enable = data["enable"]
    if "case" in data:
        scenario.case = _case(data["case"])
    if "language" in data:
        scenario.language = _language(data["language"])
    scenario.updated_at = timezone.now()
    scenario.save()
    if data.get("tags") is not None:
        _replace_tags(scenario, data["tags"])
    if data.get("rubrics") is not None:
        _replace_questions(scenario, data["rubrics"])
    _audit(request, by, "practice.scenario_updated", "scenario", [scenario.id])
    return scenario


@transaction.atomic
def scenario_delete(*, request: HttpRequest | None, by: User, scenario_id: int) -> None:
    """Delete a scenario with its tags and questions, unless something refers to it: a
    transcript is never lost, so a used scenario is disabled instead."""
    scenario = _locked(Scenario, scenario_id, SCENARIO_NOT_FOUND)
    if scenario.activities.exists() or scenario.conversations.exists():
        raise Conflict(SCENARIO_IN_USE)
    scenario.delete()
    _audit(request, by, "practice.scenario_deleted", "scenario", [scenario_id])


@transaction.atomic
def scenario_set_enabled(
    *, request: HttpRequest | None, by: User, scenario_id: int, enabled: bool
) -> Scenario:
    scenario = _locked(Scenario, scenario_id, SCENARIO_NOT_FOUND)
    scenario.enable = enabled
    scenario.updated_at = timezone.now()
    scenario.save(update_fields=["enable", "updated_at"])
    action = "practice.scenario_enabled" if enabled else "practice.scenario_disabled"
    _audit(request, by, action, "scenario", [scenario.id])
    return scenario


@transaction.atomic
def rubric_question_create(
    *, request: HttpRequest | None, by: User, scenario_id: int, question: str
) -> RubricQuestion:
    scenario = _locked(Scenario, scenario_id, SCENARIO_NOT_FOUND)
    created = RubricQuestion.objects.create(scenario=scenario, question=question)
    _audit(request, by, "practice.rubric_question_created", "rubric_question", [created.id])
    return created


@transaction.atomic
def rubric_question_update(
    *, request: HttpRequest | None, by: User, question_id: int, question: str
) -> RubricQuestion:
    found = _locked(RubricQuestion, question_id, RUBRIC_QUESTION_NOT_FOUND)
    found.question = question
    found.save(update_fields=["question"])
    _audit(request, by, "practice.rubric_question_updated", "rubric_question", [found.id])
    return found


@transaction.atomic
def rubric_question_delete(*, request: HttpRequest | None, by: User, question_id: int) -> None:
    _delete(request, by, RubricQuestion, question_id, RUBRIC_QUESTION_NOT_FOUND, "rubric_question")


# ---------------------------------------------------------------- categories and criteria
@transaction.atomic
def category_save(
    *,
    request: HttpRequest | None,
    by: User,
    category_id: int | None,
    name: str,
    total_required_to_pass: int,
) -> Category:
    """Create (no id) or update (an id that must exist) a category."""
    if category_id is None:
        category = Category.objects.create(name=name, total_required_to_pass=total_required_to_pass)
        action = "practice.category_created"
    else:
        category = _locked(Category, category_id, CATEGORY_NOT_FOUND)
        category.name = name
        category.total_required_to_pass = total_required_to_pass
        category.save(update_fields=["name", "total_required_to_pass"])
        action = "practice.category_updated"
    _audit(request, by, action, "category", [category.id])
    return category


@transaction.atomic
def category_delete(*, request: HttpRequest | None, by: User, category_id: int) -> None:
    """Its criteria and activity links go with it; assessments keep their own copy."""
    category = _locked(Category, category_id, CATEGORY_NOT_FOUND)
    criteria = list(category.subcategories.values_list("id", flat=True))
    category.delete()
    audit_record(
        action="practice.category_deleted",
        outcome="success",
        user=by,
        request=request,
        object_type="category",
        object_ids=[str(category_id)],
        detail={"criteria_deleted": criteria},
    )


def _evidence(value: list[str] | None) -> list[str] | None:
    if value is not None and any(not item.strip() for item in value):
        raise BadRequest("evidence: must be a list of non-empty texts")
    return value


@transaction.atomic
def criterion_save(
    *,
    request: HttpRequest | None,
    by: User,
    criterion_id: int | None,
    data: dict[str, Any],
) -> Criterion:
    """Create or update a criterion; ``evidence`` left out keeps the stored list (the Flask
    frontend does not know it and must not erase it)."""
    # Locked like in activity_save: a concurrent category delete cannot orphan the criterion.
    if not Category.objects.select_for_update(no_key=True).filter(id=data["category_id"]).exists():
        raise NotFound(CATEGORY_NOT_FOUND)
    evidence = _evidence(data.get("evidence"))
    if criterion_id is None:
        criterion = Criterion.objects.create(
            name=data["name"],
            marking_instructions=data["marking_instructions"],
            category_id=data["category_id"],
            evidence=evidence,
        )
        action = "practice.criterion_created"
    else:
        criterion = _locked(Criterion, criterion_id, CRITERION_NOT_FOUND)
        criterion.name = data["name"]
        criterion.marking_instructions = data["marking_instructions"]
        criterion.category_id = data["category_id"]
        if "evidence" in data:
            criterion.evidence = evidence
        criterion.save()
        action = "practice.criterion_updated"
    _audit(request, by, action, "criterion", [criterion.id])
    return criterion


@transaction.atomic
def criterion_delete(*, request: HttpRequest | None, by: User, criterion_id: int) -> None:
    _delete(request, by, Criterion, criterion_id, CRITERION_NOT_FOUND, "criterion")


# ---------------------------------------------------------------- activities
@transaction.atomic
def activity_save(
    *,
    request: HttpRequest | None,
    by: User,
    activity_id: int | None,
    pre_brief: str,
    character_id: int,
    category_ids: list[int],
) -> Activity:
    """Create or update an activity; its categories are replaced by the ones given."""
    # Locked (as a scenario or category delete locks them) so that a delete running at the
    # same time either waits for this link or makes it a clean 404, never a foreign-key error.
    if not Scenario.objects.select_for_update(no_key=True).filter(id=character_id).exists():
        raise NotFound(CHARACTER_NOT_FOUND)
    wanted = sorted(set(category_ids))
    known = set(
        Category.objects.select_for_update(no_key=True)
        .filter(id__in=wanted)
        .values_list("id", flat=True)
    )
    if len(known) != len(wanted):
        raise NotFound(CATEGORY_NOT_FOUND)
    if activity_id is None:
        activity = Activity.objects.create(pre_brief=pre_brief, character_id=character_id)
        action = "practice.activity_created"
    else:
        activity = _locked(Activity, activity_id, ACTIVITY_NOT_FOUND)
        activity.pre_brief = pre_brief
        activity.character_id = character_id
        activity.save(update_fields=["pre_brief", "character_id"])
        ActivityCategory.objects.filter(activity=activity).exclude(category_id__in=wanted).delete()
        action = "practice.activity_updated"
    present = set(
        ActivityCategory.objects.filter(activity=activity).values_list("category_id", flat=True)
    )
    ActivityCategory.objects.bulk_create(
        [ActivityCategory(activity=activity, category_id=c) for c in wanted if c not in present]
    )
    audit_record(
        action=action,
        outcome="success",
        user=by,
        request=request,
        object_type="activity",
        object_ids=[str(activity.id)],
        detail={"character_id": character_id, "categories": wanted},
    )
    return activity


@transaction.atomic
def activity_delete(*, request: HttpRequest | None, by: User, activity_id: int) -> None:
    """Conversations and assessments of the activity are kept (they hold their own copy)."""
    _delete(request, by, Activity, activity_id, ACTIVITY_NOT_FOUND, "activity")
