"""The tracking basis per sender, the cookie banner as a consent channel, and the purpose of web
activity after a click, apart from the e-mail tracking (`analytics`) it follows."""

import django.db.models.deletion
import django.db.models.functions.comparison
from django.db import migrations, models

WEB_ACTIVITY = {
    "name": "Web activity after a click",
    "legal_basis": "consent",
    "description": "Recording, with a cookie on our website, which pages a person views and which "
    "files they download after clicking a link in our e-mails.",
    "consent_text": "Yes, after I click a link in your e-mails you may record which pages of your "
    "website I view and which files I download (with a cookie, once I accept it there).",
}


def seed(apps, schema_editor):
    apps.get_model("privacy", "Purpose").objects.get_or_create(
        code="web_activity", defaults=WEB_ACTIVITY
    )


def unseed(apps, schema_editor):
    Purpose = apps.get_model("privacy", "Purpose")
    ConsentEvent = apps.get_model("privacy", "ConsentEvent")
    # A purpose with ledger entries is proof of what people chose: it stays.
    Purpose.objects.filter(code="web_activity").exclude(
        pk__in=ConsentEvent.objects.values("purpose_id")
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0011_suppression"),
        ("privacy", "0017_merge_and_bulk_roles"),
    ]

    operations = [
        migrations.AlterField(
            model_name="consentevent",
            name="channel",
            field=models.CharField(
                choices=[
                    ("web_form", "Web form"),
                    ("double_opt_in", "Double opt-in confirmation"),
                    ("import", "Import with the client's attestation"),
                    ("staff_phone", "Staff, on the phone"),
                    ("staff_paper", "Staff, on paper"),
                    ("preference_centre", "Preference centre"),
                    ("unsubscribe_link", "Unsubscribe link"),
                    ("subject_request", "Data-subject request"),
                    ("api", "API"),
                    ("cookie_banner", "Cookie banner on the website"),
                ],
                max_length=20,
            ),
        ),
        migrations.CreateModel(
            name="TrackingBasis",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "email_tracking",
                    models.CharField(
                        choices=[
                            ("consent", "Consent: only people who agreed"),
                            (
                                "legitimate_interest",
                                "Legitimate interest: everyone who has not objected",
                            ),
                            ("off", "Not tracked at all"),
                        ],
                        default="consent",
                        max_length=24,
                        verbose_name="opens and clicks",
                    ),
                ),
                (
                    "web_activity",
                    models.CharField(
                        choices=[
                            ("consent", "Consent: only people who agreed"),
                            (
                                "legitimate_interest",
                                "Legitimate interest: everyone who has not objected",
                            ),
                            ("off", "Not tracked at all"),
                        ],
                        default="consent",
                        max_length=24,
                        verbose_name="web visits after a click",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "client",
                    models.OneToOneField(
                        blank=True,
                        help_text="The sender; empty for the e-mails we send for ourselves.",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tracking_basis",
                        to="crm.client",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "tracking bases",
                "constraints": [
                    models.UniqueConstraint(
                        django.db.models.functions.comparison.Coalesce("client", models.Value(0)),
                        name="privacy_trackingbasis_one_per_sender",
                    )
                ],
            },
        ),
        migrations.RunPython(seed, unseed),
    ]
