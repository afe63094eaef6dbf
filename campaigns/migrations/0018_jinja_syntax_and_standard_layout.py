"""Campaign bodies move to Jinja2's syntax; a standard e-mail template is added.

The standard template's footer names the sender and carries the privacy links in the language of
the version being sent (English, Dutch or Romanian).

The fallback filter was written `|default:"text"`; Jinja2 writes `|default("text")`. Every saved
subject and body is rewritten, and the reverse rewrites them back.
"""

import re

from django.db import migrations

OLD = re.compile(r'\|\s*default\s*:\s*"([^"{}]*)"')
NEW = re.compile(r'\|\s*default\("([^"{}]*)"\)')
FIELDS = ("subject", "html_body", "text_body")

STANDARD_HTML = """<!DOCTYPE html>
<html lang="{{ language|default("en") }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
<div class="wrapper">
<p class="header">{{ sender_name }}</p>
<div class="content">
{{ content }}
</div>
<div class="footer">
<p>{{ sender_name }} · {{ sender_email }}</p>
{% if language == "nl" %}
<p><a href="{{ privacy_url }}">Privacyverklaring</a> ·
<a href="{{ preferences_url }}">Voorkeuren</a> ·
<a href="{{ unsubscribe_url }}">Afmelden</a></p>
{% elif language == "ro" %}
<p><a href="{{ privacy_url }}">Declarația de confidențialitate</a> ·
<a href="{{ preferences_url }}">Preferințe</a> ·
<a href="{{ unsubscribe_url }}">Dezabonare</a></p>
{% else %}
<p><a href="{{ privacy_url }}">Privacy statement</a> ·
<a href="{{ preferences_url }}">Preferences</a> ·
<a href="{{ unsubscribe_url }}">Unsubscribe</a></p>
{% endif %}
</div>
</div>
</body>
</html>
"""
STANDARD_CSS = """body { margin: 0; background: #f4f4f4; font-family: Arial, Helvetica, sans-serif; }
.wrapper { max-width: 600px; margin: 0 auto; background: #ffffff; }
.header { padding: 16px 24px; margin: 0; font-size: 18px; font-weight: bold; color: #1f3a5f; }
.content { padding: 8px 24px 16px; font-size: 15px; line-height: 1.5; color: #222222; }
.footer { padding: 16px 24px; font-size: 12px; color: #666666; border-top: 1px solid #dddddd; }
.footer a { color: #666666; }
"""
STANDARD_TEXT = """{{ sender_name }} <{{ sender_email }}>
{% if language == "nl" %}Privacyverklaring: {{ privacy_url }}
Voorkeuren: {{ preferences_url }}
Afmelden: {{ unsubscribe_url }}
{% elif language == "ro" %}Declarația de confidențialitate: {{ privacy_url }}
Preferințe: {{ preferences_url }}
Dezabonare: {{ unsubscribe_url }}
{% else %}Privacy statement: {{ privacy_url }}
Preferences: {{ preferences_url }}
Unsubscribe: {{ unsubscribe_url }}
{% endif %}"""


def rewrite(apps, pattern, replacement):
    Campaign = apps.get_model("campaigns", "Campaign")
    for campaign in Campaign.objects.only("pk", *FIELDS).iterator(chunk_size=500):
        changed = {name: pattern.sub(replacement, getattr(campaign, name)) for name in FIELDS}
        if any(changed[name] != getattr(campaign, name) for name in FIELDS):
            Campaign.objects.filter(pk=campaign.pk).update(**changed)


def forwards(apps, schema_editor):
    rewrite(apps, OLD, r'|default("\1")')
    apps.get_model("campaigns", "EmailLayout").objects.get_or_create(
        name="Standard",
        defaults={"html": STANDARD_HTML, "css": STANDARD_CSS, "text_footer": STANDARD_TEXT},
    )


def backwards(apps, schema_editor):
    rewrite(apps, NEW, r'|default:"\1"')
    Layout = apps.get_model("campaigns", "EmailLayout")
    Layout.objects.filter(name="Standard", campaigns__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0017_campaign_languages_and_layouts")]

    operations = [migrations.RunPython(forwards, backwards)]
