"""Public forms: subscribe, preferences and the contact form. Validation only; no rules here."""

import secrets

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.normalisation import normalise_email
from privacy.models import Purpose, SubjectRequest
from privacy.translations import translated


class EmailField(forms.CharField):
    """An e-mail address, normalised the way contacts store it."""

    def clean(self, value):
        value = super().clean(value)
        try:
            return normalise_email(value)
        except ValidationError as exc:
            if exc.code == "invisible":
                raise ValidationError(
                    _(
                        "The address holds an invisible character, often copied along with it: "
                        "type the address again."
                    )
                ) from exc
            raise ValidationError(
                _("Enter a valid e-mail address, like name@example.org.")
            ) from exc


class PurposeChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Purpose) -> str:
        # The sentence agreed to, in the reader's language (and recorded so in the ledger).
        return translated(obj, "consent_text")


class SubscribeForm(forms.Form):
    email = EmailField(label=_("E-mail address"), max_length=254)
    name = forms.CharField(label=_("Name (optional)"), max_length=200, required=False)
    purposes = PurposeChoiceField(
        label=_("What would you like to receive?"),
        queryset=Purpose.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick at least one box to subscribe.")},
        to_field_name="code",
    )

    def __init__(self, *args, purposes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purposes"].queryset = purposes


class PreferencesForm(forms.Form):
    purposes = PurposeChoiceField(
        label=_("I agree to:"),
        queryset=Purpose.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        to_field_name="code",
    )
    # One value per rendered form, so the same form posted twice records its events once.
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, purposes, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("nonce", secrets.token_hex(16))
        super().__init__(*args, **kwargs)
        self.fields["purposes"].queryset = purposes


class ContactMessageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    email = EmailField(label=_("E-mail address"), max_length=254)
    message = forms.CharField(label=_("Message"), widget=forms.Textarea, max_length=5000)


class SubjectRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What would you like us to do?"),
        choices=SubjectRequest.Kind.choices,
        widget=forms.RadioSelect,
    )
    email = EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_("We send a link to this address to check that it is yours."),
    )
    purposes = forms.ModelMultipleChoiceField(
        label=_("For an objection: which processing do you object to?"),
        queryset=Purpose.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    wants_recipients = forms.BooleanField(
        label=_("Also tell me who received my data from you"),
        help_text=_(
            "When we correct, erase or restrict your data we tell everyone we gave it to; tick "
            "this to have them named in our answer."
        ),
        required=False,
    )
    details = forms.CharField(
        label=_("Anything we should know (optional)"),
        help_text=_("For a correction: what is wrong and what it should say."),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=5000,
    )

    def __init__(self, *args, objectable, consent_purposes, **kwargs):
        super().__init__(*args, **kwargs)
        # Art. 21 applies to our legitimate interest; what rests on consent is withdrawn.
        self.fields["purposes"].queryset = objectable
        self.fields["purposes"].label_from_instance = lambda purpose: translated(purpose, "name")
        names = ", ".join(translated(purpose, "name") for purpose in consent_purposes)
        if names:
            self.fields["purposes"].help_text = _(
                "What you agreed to (%(names)s) is not objected to but withdrawn: choose "
                "“Withdraw every consent”, or switch it off in the preference centre."
            ) % {"names": names}
