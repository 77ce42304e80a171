"""Writes of the instructors' side: a criterion's score overridden (or confirmed), audited."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

from accounts.models import User
from audit.services import audit_record
from core.errors import InvalidInput, NotFound
from practice.insights import scoring, selectors
from practice.models import Assessment, ScoreOverride


@transaction.atomic
def score_override(
    *,
    user: User,
    assessment_id: int,
    subcategory_id: int,
    score: int,
    reason: str,
    request: HttpRequest | None = None,
) -> Assessment:
    """Set one criterion's score with a reason. The same score as now is a confirmation: it
    counts as agreement in the automatic-versus-instructor figures."""
    assessment = Assessment.objects.select_for_update().filter(pk=assessment_id).first()
    if assessment is None:
        raise NotFound("Assessment not found")
    if assessment.kind != Assessment.Kind.RUBRIC:
        raise InvalidInput("Only rubric assessments have criteria to override")
    if score not in scoring.SCORES:
        raise InvalidInput("score must be 0, 1 or 2")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("A reason is required")
    current = scoring.criterion_scores(selectors.final_result(assessment))
    if subcategory_id not in current:
        raise NotFound("Criterion not found in this assessment")
    override = ScoreOverride.objects.create(
        assessment=assessment,
        subcategory_id=subcategory_id,
        old_score=current[subcategory_id],
        new_score=score,
        reason=reason,
        by=user,
        by_name=user.get_username(),
    )
    audit_record(
        action="practice.assessment.override",
        outcome="success",
        user=user,
        request=request,
        status_code=200,
        object_type="practice.assessment",
        object_ids=[str(assessment.pk)],
        detail={
            "subcategory_id": subcategory_id,
            "old_score": override.old_score,
            "new_score": score,
            "reason": reason,
        },
    )
    return selectors.assessment_get(user=user, assessment_id=assessment.pk)
