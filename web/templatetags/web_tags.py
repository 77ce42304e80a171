"""Template helpers of the web UI: roles, labels, highlighting, sortable column headers."""

import re
from collections.abc import Callable
from functools import wraps

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from web import labels
from web.middleware import idle_timeout_seconds

register = template.Library()


def _dash_for_none(show: Callable[[float], str]) -> Callable[[float | None], str]:
    """A number filter that shows a missing value (None) as an em dash."""

    @wraps(show)
    def filter_(value: float | None) -> str:
        return "—" if value is None else show(value)

    return filter_


@register.filter
def has_role(user, minimum: str) -> bool:
    """``{% if user|has_role:"analyst" %}``: what the navigation and buttons show.

    The views check the role again; hiding a button is a convenience, not the protection.
    """
    return bool(getattr(user, "is_authenticated", False) and user.has_role(minimum))


@register.filter
def cancellable_by(task, user) -> bool:
    """``{% if task|cancellable_by:user %}``: the Cancel button for its creator and admins."""
    return task.may_be_cancelled_by(user)


@register.filter
def label(code: object, kind: str) -> str:
    """``{{ task.status|label:"task_status" }}``: the code's label in the active language."""
    return labels.label(kind, code)


@register.filter
def highlight(text: str | None, query: str | None) -> SafeString:
    """``text`` escaped, every case-insensitive occurrence of ``query`` in ``<mark>``.

    Matches are found in the raw text and each piece is escaped on its own, so neither the
    text nor the query can inject markup, and a query such as ``amp`` never matches inside an
    escape sequence.
    """
    text = text or ""
    query = (query or "").strip()
    if not query:
        return mark_safe(escape(text))  # the text is escaped first
    pieces = re.split(f"({re.escape(query)})", text, flags=re.IGNORECASE)
    out = []
    for i, piece in enumerate(pieces):
        # re.split with one group alternates: text, match, text, match, ...
        out.append(f"<mark>{escape(piece)}</mark>" if i % 2 else escape(piece))
    return mark_safe("".join(out))  # every piece is escaped


@register.filter
@_dash_for_none
def mm(value: float) -> str:
    """A size in millimetres without a needless decimal: 12.0 -> "12 mm"."""
    return f"{value:g} mm"


@register.filter
@_dash_for_none
def minutes_as_hours(value: float) -> str:
    hours, minutes = divmod(round(abs(value)), 60)
    sign = "−" if value < 0 else ""
    if hours:
        return sign + _("%(hours)s h %(minutes)s min") % {
            "hours": hours,
            "minutes": f"{minutes:02d}",
        }
    return sign + _("%(minutes)s min") % {"minutes": minutes}


@register.filter
@_dash_for_none
def percent(value: float) -> str:
    return f"{value * 100:.1f} %"


@register.filter
@_dash_for_none
def signed(value: float) -> str:
    return f"{value:+g}"


@register.inclusion_tag("web/_sort_header.html", takes_context=True)
def sort_header(context: template.Context, field: str, title: str) -> dict:
    """A column header that sorts by ``field``, toggling the direction when already sorted."""
    current = context.get("sort") or ""
    if current == field:
        target, state = f"-{field}", "ascending"
    elif current == f"-{field}":
        target, state = field, "descending"
    else:
        target, state = field, "none"
    return {"request": context["request"], "field": field, "title": title, "target": target,
            "state": state}  # fmt: skip


@register.simple_tag
def idle_seconds() -> int:
    """The idle timeout, for the page's own timer (web/static/web/app.js)."""
    return int(idle_timeout_seconds())
