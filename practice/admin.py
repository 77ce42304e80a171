"""Django's admin for the practice area.

Who sees what is decided by role in practice.permissions: instructors and admins manage these
models, and an instructor sees nothing else. Conversations, runs and assessments are records of
what happened: read-only here (an instructor's score override goes through its own route).
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from practice.casesheet import LANGUAGES, CaseSheetError, validate_case
from practice.models import (
    Activity,
    Assessment,
    Category,
    Conversation,
    Message,
    RubricQuestion,
    Run,
    Scenario,
    ScoreOverride,
    SubCategory,
    Tag,
)

AVATARS = (
    "Toddler",
    "Boy",
    "Girl",
    "Adult",
    "Adult Man",
    "Adult Woman",
    "Elderly Man",
    "Elderly Woman",
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by those the role allows; nobody adds, changes or deletes here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# ---------------------------------------------------------------- scenarios


class TagInline(admin.TabularInline):
    model = Tag
    extra = 0


class RubricQuestionInline(admin.TabularInline):
    model = RubricQuestion
    extra = 0


class ScenarioForm(forms.ModelForm):
    role = forms.ChoiceField(choices=[(a, a) for a in AVATARS], initial="Adult")
    language = forms.ChoiceField(choices=[(code, code) for code in LANGUAGES], initial="en")

    class Meta:
        model = Scenario
        fields = (
            "scenario_text",
            "additional_instructions",
            "communication_preferences",
            "role",
            "enable",
            "language",
            "case",
            "openid",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Flask's columns are nullable; the admin need not insist on the optional texts.
        for name in ("additional_instructions", "communication_preferences", "openid"):
            self.fields[name].required = False
        for name in ("additional_instructions", "openid"):
            self.fields[name].empty_value = ""
        # An adopted Flask scenario may carry an avatar outside the list: keep it choosable.
        current = getattr(self.instance, "role", None)
        if current and current not in AVATARS:
            self.fields["role"].choices = [(current, current), *self.fields["role"].choices]

    def clean_case(self) -> Any:
        case = self.cleaned_data.get("case")
        try:
            validate_case(case)
        except CaseSheetError as exc:
            raise forms.ValidationError(f"{exc.path}: {exc.message}") from exc
        return case


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    form = ScenarioForm
    list_display = ("id", "short_text", "role", "language", "enable", "has_case")
    list_filter = ("enable", "language", "role")
    search_fields = ("scenario_text", "tags__tag")
    readonly_fields = ("created_at", "updated_at")
    inlines = (TagInline, RubricQuestionInline)

    @admin.display(description="scenario")
    def short_text(self, obj: Scenario) -> str:
        return (obj.scenario_text or "")[:80]

    @admin.display(boolean=True, description="case sheet")
    def has_case(self, obj: Scenario) -> bool:
        return obj.case is not None

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        """A scenario an activity uses is kept, as on the contract's DELETE (409 there): the
        admin shows the activities as protected instead of deleting them along with it.
        (Conversations protect it in the database already.)"""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        in_use = Activity.objects.filter(character__in=list(objs)).order_by("id")
        protected = [*protected, *(f"Activity: {activity}" for activity in in_use)]
        return deleted, counts, perms_needed, protected

    def save_model(self, request: HttpRequest, obj: Scenario, form: Any, change: bool) -> None:
        now = timezone.now()
        obj.updated_at = now
        if not change:
            obj.created_at = now
        super().save_model(request, obj, form, change)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("id", "tag", "scenario")
    search_fields = ("tag",)
    list_select_related = ("scenario",)


@admin.register(RubricQuestion)
class RubricQuestionAdmin(admin.ModelAdmin):
    list_display = ("id", "question", "scenario")
    search_fields = ("question",)
    list_select_related = ("scenario",)


# ---------------------------------------------------------------- rubrics and activities


class SubCategoryInline(admin.StackedInline):
    model = SubCategory
    extra = 0
    fields = ("name", "marking_instructions", "evidence")


class EvidenceField(forms.JSONField):
    """A list of example phrasings (texts), or empty."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            raise forms.ValidationError('A list of texts, e.g. ["What brings you in today?"].')


class SubCategoryForm(forms.ModelForm):
    evidence = EvidenceField(required=False)

    class Meta:
        model = SubCategory
        fields = ("name", "category", "marking_instructions", "evidence")


SubCategoryInline.form = SubCategoryForm


class CategoryForm(forms.ModelForm):
    total_required_to_pass = forms.IntegerField(min_value=0, initial=0)

    class Meta:
        model = Category
        fields = ("name", "total_required_to_pass")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = ("id", "name", "total_required_to_pass")
    search_fields = ("name",)
    inlines = (SubCategoryInline,)


@admin.register(SubCategory)
class SubCategoryAdmin(admin.ModelAdmin):
    form = SubCategoryForm
    list_display = ("id", "name", "category")
    list_filter = ("category",)
    search_fields = ("name", "marking_instructions")
    list_select_related = ("category",)


class ActivityForm(forms.ModelForm):
    """The categories through Flask's composite-key link table, which the admin's inlines
    cannot edit: a field of its own, saved in ``ActivityAdmin.save_related``."""

    category_set = forms.ModelMultipleChoiceField(
        queryset=Category.objects.order_by("id"),
        required=False,
        label="Categories",
        widget=admin.widgets.FilteredSelectMultiple("categories", is_stacked=False),
    )

    class Meta:
        model = Activity
        fields = ("pre_brief", "character")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["category_set"].initial = list(
                self.instance.categories.order_by("id").values_list("id", flat=True)
            )


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    form = ActivityForm
    fields = ("pre_brief", "character", "category_set")
    list_display = ("id", "short_brief", "character", "category_names")
    list_select_related = ("character",)
    search_fields = ("pre_brief",)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("categories")

    @admin.display(description="pre-brief")
    def short_brief(self, obj: Activity) -> str:
        return (obj.pre_brief or "")[:80]

    @admin.display(description="categories")
    def category_names(self, obj: Activity) -> str:
        return ", ".join(c.name for c in sorted(obj.categories.all(), key=lambda c: c.id))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        form.instance.categories.set(form.cleaned_data["category_set"])


# ---------------------------------------------------------------- what happened (read-only)


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("index", "role", "content", "engine", "model", "prompt_version", "created_at")
    readonly_fields = fields
    ordering = ("index",)


class RunInline(ReadOnlyInline):
    model = Run
    fields = ("run_id", "status", "error", "engine", "model", "created_at", "finished_at")
    readonly_fields = fields


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ("thread_id", "user", "scenario", "activity", "created_at")
    list_select_related = ("user", "scenario", "activity")
    search_fields = ("thread_id", "user__username")
    inlines = (MessageInline, RunInline)


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ("run_id", "conversation", "status", "engine", "model", "created_at")
    list_filter = ("status", "engine")
    list_select_related = ("conversation",)


class ScoreOverrideInline(ReadOnlyInline):
    model = ScoreOverride
    fields = ("subcategory_id", "old_score", "new_score", "reason", "by_name", "created_at")
    readonly_fields = fields


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "activity_ref",
        "requested_by_name",
        "total_score",
        "passed",
        "engine",
        "created_at",
    )
    list_filter = ("kind", "passed", "engine")
    search_fields = ("requested_by_name",)
    inlines = (ScoreOverrideInline,)


@admin.register(ScoreOverride)
class ScoreOverrideAdmin(ReadOnlyAdmin):
    list_display = ("assessment", "subcategory_id", "old_score", "new_score", "by_name")


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("conversation", "index", "role", "engine", "created_at")
    list_filter = ("role",)
    list_select_related = ("conversation",)
