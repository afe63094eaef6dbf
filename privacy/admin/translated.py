"""Admin forms that edit a model's wording in every language of the site, one box per language."""

from django import forms
from django.conf import settings

from privacy.translations import other_languages

LANGUAGE_NAMES = dict(settings.LANGUAGES)


def translated_form(model, fields: tuple[str, ...], required: tuple[str, ...] = ()):
    """Return a ModelForm for `model` with a `<field>_<language>` box per translated field.

    The boxes read and write `translations`; those of `required` fields must be filled whenever
    the English text is (the public must be able to read what it agrees to).
    """
    extra = {}
    for field in fields:
        english = model._meta.get_field(field)
        for code in other_languages():
            extra[f"{field}_{code}"] = forms.CharField(
                label=f"{english.verbose_name} ({LANGUAGE_NAMES[code]})",
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def __init__(self, *args, **kwargs):
        forms.ModelForm.__init__(self, *args, **kwargs)
        texts = self.instance.translations or {}
        for field in fields:
            for code in other_languages():
                self.fields[f"{field}_{code}"].initial = texts.get(code, {}).get(field, "")

    def clean(self):
        data = forms.ModelForm.clean(self)
        for field in required:
            if not (data.get(field) or "").strip():
                continue
            for code in other_languages():
                if not (data.get(f"{field}_{code}") or "").strip():
                    self.add_error(
                        f"{field}_{code}",
                        f"Give the {LANGUAGE_NAMES[code]} text: the public page in that "
                        "language shows it.",
                    )
        return data

    def save(self, commit=True):
        texts = dict(self.instance.translations or {})
        for code in other_languages():
            texts[code] = {
                **texts.get(code, {}),
                **{f: self.cleaned_data.get(f"{f}_{code}", "").strip() for f in fields},
            }
        self.instance.translations = texts
        return forms.ModelForm.save(self, commit)

    meta = type("Meta", (), {"model": model, "exclude": ("translations",)})
    return type(
        f"{model.__name__}TranslatedForm",
        (forms.ModelForm,),
        {**extra, "Meta": meta, "__init__": __init__, "clean": clean, "save": save},
    )
