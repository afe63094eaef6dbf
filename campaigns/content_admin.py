"""Staff screens of what campaigns say: language versions, e-mail templates, the preview's form.

Each form checks its templates with the template language (`campaigns.templating`) and the
e-mail template's required parts (`campaigns.content`), so a refusal names the field and line.
A campaign's versions are edited with it, and only while it is a draft.
"""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError

from campaigns.content import check_layout
from campaigns.models import Campaign, CampaignVersion, EmailLayout
from campaigns.sending import states
from campaigns.templating import VARIABLES
from crm.models import Contact

TEMPLATE_HELP = (
    "Jinja2 syntax with these variables only: "
    + ", ".join(f"{{{{ {name} }}}}" for name in VARIABLES)
    + '; {% if company_name %}…{% else %}…{% endif %} and the filters default("there"), upper, '
    "lower, title, capitalize, trim. Links are tracked and an open pixel is added, except for "
    "people who turned tracking off."
)


class ContentForm(forms.ModelForm):
    """A subject and two bodies, checked against the template language with each line refused."""

    def clean(self):
        data = super().clean()
        try:
            states.check_campaign_content(
                subject=data.get("subject", ""),
                subject_b=data.get("subject_b", ""),
                html_body=data.get("html_body", ""),
                text_body=data.get("text_body", ""),
            )
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                self.add_error(name, errors)
        return data


class VersionForm(ContentForm):
    class Meta:
        model = CampaignVersion
        fields = ("language", "subject", "subject_b", "html_body", "text_body")


class VersionFormSet(forms.BaseInlineFormSet):
    """The other languages' versions: none in the campaign's default language, each once."""

    def clean(self):
        super().clean()
        default = self.instance.language
        for form in self.forms:
            if form.cleaned_data.get("DELETE"):
                continue
            if form.cleaned_data.get("language") == default:
                form.add_error(
                    "language",
                    "This is the campaign's default language: its subject and bodies are above.",
                )


class VersionInline(admin.StackedInline):
    model = CampaignVersion
    form = VersionForm
    formset = VersionFormSet
    extra = 0
    max_num = len(settings.LANGUAGES) - 1
    verbose_name = "version in another language"
    verbose_name_plural = "versions in other languages"

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _is_draft(obj)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and _is_draft(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _is_draft(obj)


def _is_draft(campaign: Campaign | None) -> bool:
    return campaign is None or campaign.status == Campaign.Status.DRAFT


class LayoutForm(forms.ModelForm):
    class Meta:
        model = EmailLayout
        fields = ("name", "html", "css", "text_footer")

    def clean(self):
        data = super().clean()
        try:
            check_layout(html=data.get("html", ""), text_footer=data.get("text_footer", ""))
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                self.add_error(name, errors)
        return data


@admin.register(EmailLayout)
class EmailLayoutAdmin(admin.ModelAdmin):
    """Reusable e-mail templates: the header and footer every campaign using one is sent in."""

    form = LayoutForm
    list_display = ("name", "updated_at")
    search_fields = ("name",)


class PreviewForm(forms.Form):
    language = forms.ChoiceField(choices=settings.LANGUAGES)
    email = forms.EmailField(
        label="As seen by",
        required=False,
        help_text="A contact's e-mail address; empty for a made-up reader.",
    )

    def clean_email(self):
        address = self.cleaned_data.get("email")
        if not address:
            return None
        contact = Contact.objects.select_related("company").filter(email=address.lower()).first()
        if contact is None:
            raise ValidationError("No contact has this address.")
        return contact
