"""An analysis task's texts in the reader's language, said again from their stored codes.

The worker stores every text of a result in English beside its code and parameters
(``nlp.messages``): the summary (``summary``, ``summary_code``, ``summary_parts``), the
comparison's note (``message``, ``message_code``), each flag's ``message`` (``message_code``,
``message_params``) and the stability threshold's ``text`` (``text_code``); a failed task keeps
``error_code`` and ``error_params`` beside ``error_message``. At read time the API (by
``Accept-Language``) and the web pages (by the page's language) render them here through
gettext (``analysis/locale``). A result stored before the codes existed has none and is shown as
stored, in English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_noop

from core.language import request_language
from nlp.messages import TEXTS, Speaker, render

__all__ = [
    "localize_options",
    "localize_result",
    "localize_task",
    "request_language",
    "task_error",
]

# The task statuses' labels (the model's choices) as GET /analysis/options says them.
STATUS_LABELS = (
    gettext_noop("Pending"),
    gettext_noop("Processing"),
    gettext_noop("Completed"),
    gettext_noop("Failed"),
    gettext_noop("Cancelled"),
)


class _Gettext(Speaker):
    """The active language's catalogue; Chinese also names findings by their Chinese label."""

    def __init__(self) -> None:
        self.chinese = (translation.get_language() or "").startswith("zh")

    def gettext(self, message: str) -> str:
        return translation.gettext(message)

    def pgettext(self, context: str, message: str) -> str:
        return translation.pgettext(context, message)


def localize_result(result: Mapping[str, Any] | None, language: str | None) -> dict | None:
    """A copy of ``result`` with its texts in ``language`` and the stored parameters left out;
    the ``summary_code`` of a summary stored without codes is null."""
    if result is None:
        return None
    with translation.override(language or "en"):
        shown = _walk(result, _Gettext())
    parts = shown.get("summary_parts")
    if parts:
        joiner = "" if (language or "").startswith("zh") else " "
        shown["summary"] = joiner.join(p["message"] for p in parts)
    if "summary" in shown:
        shown.setdefault("summary_code", None)
    return shown


def task_error(task: Any, language: str | None) -> str:
    """A failed task's ``error_message`` in ``language`` (as stored when it has no code)."""
    if task.error_code not in TEXTS:
        return task.error_message
    with translation.override(language or "en"):
        return render(task.error_code, task.error_params or None, _Gettext())


def localize_task(task: Any, language: str | None) -> Any:
    """The task, to answer, with its result and error message in ``language`` (not saved)."""
    task.result = localize_result(task.result, language)
    task.error_message = task_error(task, language)
    return task


def localize_options(options: Mapping[str, Any], language: str | None) -> dict[str, Any]:
    """GET /analysis/options with its labels and descriptions in ``language``; values are codes."""
    with translation.override(language or "en"):
        return {
            key: [
                {k: v if k == "value" else translation.gettext(v) for k, v in item.items()}
                for item in items
            ]
            for key, items in options.items()
        }


def _walk(value: Any, speaker: Speaker) -> Any:
    if isinstance(value, list):
        return [_walk(v, speaker) for v in value]
    if not isinstance(value, Mapping):
        return value
    shown = {k: _walk(v, speaker) for k, v in value.items() if k != "message_params"}
    # A code this version does not know (a newer worker's) keeps its stored English.
    code = value.get("message_code")
    if code in TEXTS:
        shown["message"] = render(code, value.get("message_params"), speaker)
    code = value.get("text_code")
    if code in TEXTS:
        params = {k: v for k, v in value.items() if k not in ("text", "text_code")}
        shown["text"] = render(code, params, speaker)
    return shown
