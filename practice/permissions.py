"""Who may do what with the practice models in Django's admin (SPEC-practice §2).

Roles, not per-user permission rows, decide it, as they do on the API: an instructor (or an
admin) manages every practice model; a learner, viewer or analyst none. A learner or instructor
gets nothing outside the practice app, even a permission granted by hand, so an instructor's
admin shows the practice models only. Runs first among AUTHENTICATION_BACKENDS: raising
``PermissionDenied`` stops the later backends from granting what the role forbids.
"""

from typing import Any

from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.core.exceptions import PermissionDenied

from accounts.models import Role

APP_LABEL = "practice"


def _area_decision(user: Any, app_label: str) -> bool | None:
    """True: granted; None: not this backend's question (other backends answer)."""
    if not user.is_active or user.is_superuser:
        return None
    role = user.effective_role
    if app_label != APP_LABEL:
        if user.is_practice_only:
            raise PermissionDenied
        return None
    if role in (Role.INSTRUCTOR, Role.ADMIN):
        return True
    raise PermissionDenied


class PracticeRolePermissions(BaseBackend):
    """Permissions only; it authenticates nobody."""

    def get_user(self, user_id: Any) -> Any:
        # Being first in the list, it is the backend Client.force_login and sessions may name.
        return ModelBackend().get_user(user_id)

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        app_label = perm.split(".", 1)[0]
        return bool(_area_decision(user_obj, app_label))

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return bool(_area_decision(user_obj, app_label))
