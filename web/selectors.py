"""Reads only the web UI needs: the task list with its studies.

Searches, details and exports use the selectors of studies/, reports/, analysis/ and ingest/
directly, exactly as the API does; this module adds only what no API endpoint answers.
"""

from typing import Any

from django.db.models import QuerySet

from analysis.models import AnalysisTask
from analysis.selectors import analysis_task_list
from core.pagination import paginate


def analysis_task_page(
    *, page: int, page_size: int, **filters: Any
) -> tuple[list[AnalysisTask], int]:
    """One page of ``analysis_task_list(**filters)`` with each task's study (one query)."""
    queryset: QuerySet[AnalysisTask] = analysis_task_list(**filters).select_related("study")
    return paginate(queryset, page=page, page_size=page_size)
