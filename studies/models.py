"""Examinations ("studies") as the RIS exports them."""

from django.db import models

from studies.pinyin import name_pinyin
from studies.ris import RIS_HEADERS


class Gender(models.TextChoices):
    MALE = "M", "Male"
    FEMALE = "F", "Female"
    UNKNOWN = "U", "Unknown"


class Study(models.Model):
    """One examination. ``exam_status`` and ``exam_source`` are stored as the RIS gives them."""

    exam_id = models.CharField(max_length=50, primary_key=True)
    medical_record_no = models.CharField(max_length=100, null=True, blank=True)
    application_order_no = models.CharField(max_length=100, null=True, blank=True)
    patient_name = models.CharField(max_length=200)
    patient_gender = models.CharField(max_length=1, choices=Gender.choices, null=True, blank=True)
    patient_age = models.IntegerField(null=True, blank=True)
    exam_status = models.CharField(max_length=20)
    exam_source = models.CharField(max_length=50)
    exam_item = models.CharField(max_length=100)
    equipment_type = models.CharField(max_length=50, null=True, blank=True)
    exam_description = models.TextField(null=True, blank=True)
    order_datetime = models.DateTimeField()
    check_in_datetime = models.DateTimeField(null=True, blank=True)
    report_certification_datetime = models.DateTimeField(null=True, blank=True)
    certified_physician = models.CharField(max_length=200, null=True, blank=True)
    # Computed from patient_name by every writer (studies.pinyin.name_pinyin), for the search.
    patient_name_pinyin = models.TextField(default="", db_default="", blank=True, editable=False)
    patient_name_initials = models.TextField(default="", db_default="", blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "studies"
        indexes = [
            # The default listing is newest first with the primary key as tie-breaker.
            models.Index(fields=["-order_datetime", "exam_id"], name="study_order_dt_idx"),
            models.Index(fields=["exam_status", "-order_datetime"], name="study_status_idx"),
            models.Index(fields=["exam_source", "-order_datetime"], name="study_source_idx"),
            models.Index(fields=["exam_item", "-order_datetime"], name="study_item_idx"),
            models.Index(fields=["equipment_type", "-order_datetime"], name="study_equipment_idx"),
            models.Index(fields=["medical_record_no", "order_datetime"], name="study_mrn_idx"),
            models.Index(fields=["application_order_no"], name="study_order_no_idx"),
            # Initials are matched whole (``zw``); the pinyin has a trigram index (0007).
            models.Index(fields=["patient_name_initials"], name="study_initials_idx"),
        ]

    def __str__(self) -> str:
        return self.exam_id

    def save(self, *args, **kwargs) -> None:
        self.patient_name_pinyin, self.patient_name_initials = name_pinyin(self.patient_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "patient_name" in update_fields:
            kwargs["update_fields"] = {*update_fields, *PINYIN_FIELDS}
        super().save(*args, **kwargs)


# The columns computed from patient_name (studies.pinyin).
PINYIN_FIELDS = ("patient_name_pinyin", "patient_name_initials")


# Every field a detail view and an export show, in the SPEC's order: the RIS export's column
# order (studies.ris, where the locked order is written out).
DETAIL_FIELDS = tuple(RIS_HEADERS)

# The fields a search result shows, in the locked contract's order (which is the detail's):
# the detail's but the numbers, the modality and the free text.
_DETAIL_ONLY = frozenset(
    {
        "medical_record_no",
        "application_order_no",
        "equipment_type",
        "exam_description",
        "certified_physician",
    }
)
SEARCH_FIELDS = tuple(field for field in DETAIL_FIELDS if field not in _DETAIL_ONLY)


class NameReading(models.Model):
    """How many studies hold each reading of a patient's name (pinyin and initials, as the
    studies' computed columns hold them): the total of a pinyin search that matches many
    patients (``zhang``) is a sum over these few rows instead of a recheck of every matching
    study. Brought up to date by the warm-up after an import (``studies.services``); read
    only for the data version it was brought up to date for (``studies.selectors``)."""

    pinyin = models.TextField()
    initials = models.TextField()
    studies = models.PositiveIntegerField()

    class Meta:
        # The pinyin has a trigram index on PostgreSQL (migration 0008), as the studies' has.
        indexes = [models.Index(fields=["initials"], name="reading_initials_idx")]
        constraints = [
            models.UniqueConstraint(fields=["pinyin", "initials"], name="reading_unique")
        ]

    def __str__(self) -> str:
        return f"{self.pinyin} ({self.initials}): {self.studies}"


class LetteredName(models.Model):
    """How many studies hold each patient name that has a letter (a Latin name, 张Anna), with
    its reading: the matches of a frequent pinyin term that its readings do not hold (``Zhang
    Wei`` for ``zhang``) are a sum over these few rows instead of a recheck of every study
    whose name holds the term. A name of Chinese characters alone holds no Latin term, so it
    is not kept. Brought up to date with the readings (``NameReading``)."""

    name = models.TextField()
    pinyin = models.TextField()
    initials = models.TextField()
    studies = models.PositiveIntegerField()

    class Meta:
        # UPPER(name) has a trigram index on PostgreSQL (migration 0009), as the studies' has.
        constraints = [
            models.UniqueConstraint(
                fields=["name", "pinyin", "initials"], name="lettered_name_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.studies}"
