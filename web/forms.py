"""Forms of the pages that post: login and import. Searches parse their query string with the
API's own parameter schemas (see web.views.parse_query)."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from ingest.services import ON_DUPLICATE
from web import labels


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=())
    file = forms.FileField(label=_("File"))
    on_duplicate = forms.ChoiceField(
        label=_("Records that already exist"), choices=(), initial="update"
    )
    on_invalid = forms.ChoiceField(
        label=_("Invalid rows"), choices=(), initial="reject", required=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = labels.choices("import_kind")
        self.fields["on_duplicate"].choices = [
            (code, labels.label("on_duplicate", code)) for code in ON_DUPLICATE
        ]
        self.fields["on_invalid"].choices = labels.choices("on_invalid")
        self.fields["file"].widget.attrs["accept"] = ".xlsx,.xls,.csv,.json"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.MAX_UPLOAD_MB * 1024 * 1024
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is larger than the %(limit)s MB upload limit."),
                params={"limit": f"{settings.MAX_UPLOAD_MB:g}"},
            )
        return upload
