"""Data sets of studies written as tables: one row a study, the columns named once."""

from types import EllipsisType

from studies.models import Study
from tests.factories import StudyFactory


def make_studies(columns: str, *rows: tuple) -> list[Study]:
    """One StudyFactory study per row, the row's values going to the fields `columns` names.

    A value `...` leaves that field to the factory (its default or its sequence), so a table
    can say "whatever" where a fixture does not care, without inventing a value.
    """
    names = columns.split()
    studies = []
    for row in rows:
        values = dict(zip(names, row, strict=True))
        studies.append(
            StudyFactory(**{k: v for k, v in values.items() if not isinstance(v, EllipsisType)})
        )
    return studies
