"""The practice area's data (SPEC-practice §3).

The first seven models are the Flask service's tables, under their Flask names and with the
Flask columns' types and nullability, so that `migrate --fake-initial` adopts a Flask database
and the Flask service's own INSERTs keep working during a parallel run. Every column the product
adds to them is nullable or has a database default. The rest are the product's own tables.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now


class Scenario(models.Model):
    """A virtual patient: the persona, the avatar and (new) the case sheet the engines use."""

    id = models.AutoField(primary_key=True)
    scenario_text = models.TextField()
    additional_instructions = models.TextField(null=True, default="")
    enable = models.BooleanField(null=True, default=True)
    role = models.TextField(null=True, default="Adult")
    openid = models.TextField(null=True, default="")
    communication_preferences = models.TextField(null=True)
    # The product's own columns: nullable or with a database default (Flask INSERTs omit them).
    case = models.JSONField(null=True, blank=True)
    language = models.CharField(max_length=10, default="en", db_default="en")
    created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "assistant_scenarios"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.id}: {(self.scenario_text or '')[:60]}"


class Tag(models.Model):
    """A free-text label of a scenario."""

    id = models.AutoField(primary_key=True)
    tag = models.TextField(null=True)
    scenario = models.ForeignKey(
        Scenario, null=True, on_delete=models.CASCADE, related_name="tags", db_column="scenario_id"
    )

    class Meta:
        db_table = "assistant_tags"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.tag or ""


class RubricQuestion(models.Model):
    """The simple per-scenario rubric: one question the learner's conversation is judged by."""

    id = models.AutoField(primary_key=True)
    question = models.TextField(null=True)
    scenario = models.ForeignKey(
        Scenario,
        null=True,
        on_delete=models.CASCADE,
        related_name="rubric_questions",
        db_column="scenario_id",
    )

    class Meta:
        db_table = "rubric_questions"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.question or ""


class Category(models.Model):
    """A group of criteria, passed when the sum of their scores reaches the requirement."""

    id = models.AutoField(primary_key=True)
    name = models.CharField(max_length=255)
    total_required_to_pass = models.IntegerField(null=True, default=0)

    class Meta:
        db_table = "categories"
        ordering = ["id"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class SubCategory(models.Model):
    """A criterion (the UI's "rubric"): scored 0, 1 or 2 from its marking instructions."""

    id = models.AutoField(primary_key=True)
    name = models.CharField(max_length=255)
    marking_instructions = models.TextField(null=True)
    category = models.ForeignKey(
        Category,
        null=True,
        on_delete=models.CASCADE,
        related_name="subcategories",
        db_column="category_id",
    )
    # New: example phrasings that count as evidence (a list of strings).
    evidence = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "subcategories"
        ordering = ["id"]
        verbose_name = "criterion"
        verbose_name_plural = "criteria"

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    """What a learner practises: a scenario (the "character") assessed by some categories."""

    id = models.AutoField(primary_key=True)
    pre_brief = models.TextField(null=True)
    character = models.ForeignKey(
        Scenario,
        null=True,
        on_delete=models.CASCADE,
        related_name="activities",
        db_column="character_id",
    )
    categories = models.ManyToManyField(
        Category, through="ActivityCategory", related_name="activities", blank=True
    )

    class Meta:
        db_table = "activities"
        ordering = ["id"]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"{self.id}: {(self.pre_brief or '')[:60]}"


class ActivityCategory(models.Model):
    """Flask's link table: two columns and a primary key over both, no ``id``."""

    pk = models.CompositePrimaryKey("activity_id", "category_id")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, db_column="activity_id")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, db_column="category_id")

    class Meta:
        db_table = "activity_categories"

    def __str__(self) -> str:
        return f"{self.activity_id}-{self.category_id}"


class FlaskUser(models.Model):
    """The Flask service's ``user`` table, read where it exists (never created or written)."""

    id = models.AutoField(primary_key=True)
    username = models.CharField(max_length=80)
    email = models.CharField(max_length=120, unique=True)
    password = models.CharField(max_length=255)
    role = models.CharField(max_length=20, null=True)

    class Meta:
        managed = False
        db_table = "user"

    def __str__(self) -> str:
        return self.email


# ---------------------------------------------------------------- the product's own tables
class Conversation(models.Model):
    """A learner's conversation with a virtual patient (the contract's "thread")."""

    thread_id = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="practice_conversations"
    )
    # A scenario with conversations cannot be deleted (transcripts are never lost): PROTECT.
    scenario = models.ForeignKey(
        Scenario, null=True, blank=True, on_delete=models.PROTECT, related_name="conversations"
    )
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["user", "activity"])]

    def __str__(self) -> str:
        return self.thread_id


class Message(models.Model):
    """One turn of a conversation, numbered from 0 in the order it was said."""

    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    index = models.PositiveIntegerField()
    role = models.CharField(max_length=10, choices=Role.choices)
    content = models.TextField()
    created_at = models.DateTimeField(db_default=Now())
    # Who wrote an assistant message: the engine, its model and the instructions' version.
    engine = models.CharField(max_length=20, blank=True, default="")
    model = models.CharField(max_length=200, blank=True, default="")
    prompt_version = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        ordering = ["conversation", "index"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "index"], name="practice_message_order")
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.index} {self.role}"


class Run(models.Model):
    """A requested reply of the patient, produced by the task worker."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        IN_PROGRESS = "in_progress"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"
        EXPIRED = "expired"

    run_id = models.CharField(max_length=64, unique=True)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True, default="")
    engine = models.CharField(max_length=20, blank=True, default="")
    model = models.CharField(max_length=200, blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The message index the reply answers (the learner's last message when the run was made).
    after_index = models.IntegerField(null=True)
    created_at = models.DateTimeField(db_default=Now())
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The django-tasks queue row that carries it, closed when the run expires (a dead worker
    # would leave it RUNNING for ever).
    queue_result_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["conversation", "status"])]
        constraints = [
            # At most one reply in the making per conversation, whatever two requests race.
            models.UniqueConstraint(
                fields=["conversation"],
                condition=models.Q(status__in=["queued", "in_progress"]),
                name="practice_one_active_run",
            )
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.status}"


class Assessment(models.Model):
    """One assessment attempt, kept whole: what was graded, against what, by which engine."""

    class Kind(models.TextChoices):
        RUBRIC = "rubric_assessment"  # categories and criteria of an activity
        QUESTIONS = "rubric_responses"  # the scenario's simple rubric questions

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.RUBRIC)
    conversation = models.ForeignKey(
        Conversation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assessments",
    )
    # The activity is kept by id and copy too: deleting it never deletes an assessment.
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="assessments"
    )
    activity_ref = models.IntegerField(null=True)
    rubric = models.JSONField(default=list)  # what it was graded against, as it was then
    transcript = models.JSONField(default=list)  # [{role, content}] as given
    engine = models.CharField(max_length=20)
    model = models.CharField(max_length=200, blank=True, default="")
    prompt_version = models.CharField(max_length=40, blank=True, default="")
    raw_result = models.TextField(blank=True, default="")
    result = models.JSONField(default=dict)
    total_score = models.IntegerField(default=0)
    passed = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_name = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["activity_ref", "created_at"])]

    def __str__(self) -> str:
        return f"assessment {self.id} ({self.kind})"


class ScoreOverride(models.Model):
    """An instructor's change of one criterion's score, with the reason (audited)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="overrides")
    subcategory_id = models.IntegerField()
    old_score = models.SmallIntegerField()
    new_score = models.SmallIntegerField()
    reason = models.TextField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_name = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.assessment_id}/{self.subcategory_id}: {self.old_score}->{self.new_score}"
