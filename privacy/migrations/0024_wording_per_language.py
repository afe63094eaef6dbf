from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0023_contact_retention_rules"),
    ]

    operations = [
        migrations.AddField(
            model_name="consentevent",
            name="language",
            field=models.CharField(
                blank=True, help_text="The language the wording was shown in.", max_length=8
            ),
        ),
        migrations.AddField(
            model_name="noticeversion",
            name="translations",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="The Dutch and Romanian wording the public sees: {language: {field: text}}.",
            ),
        ),
        migrations.AddField(
            model_name="processingactivity",
            name="translations",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="The Dutch and Romanian wording the public sees: {language: {field: text}}.",
            ),
        ),
        migrations.AddField(
            model_name="purpose",
            name="translations",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="The Dutch and Romanian wording the public sees: {language: {field: text}}.",
            ),
        ),
        migrations.AddField(
            model_name="retentionrule",
            name="translations",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="The Dutch and Romanian wording the public sees: {language: {field: text}}.",
            ),
        ),
    ]
