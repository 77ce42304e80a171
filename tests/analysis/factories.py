"""A factory for analysis tasks (kept beside the analysis tests)."""

import factory

from analysis.models import AnalysisTask
from tests.factories import StudyFactory


class AnalysisTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnalysisTask

    task_id = factory.Sequence(lambda n: f"task{n:06d}")
    study = factory.SubFactory(StudyFactory)
    analysis_type = "general"
    status = "pending"
    progress = 0
    created_by_username = "analyst1"
