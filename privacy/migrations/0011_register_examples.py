"""Seed the record of processing and the processor register with the seed policies' examples.

Every row stays editable in the admin; the companies are made up. Running it again adds nothing
and leaves edited rows alone.
"""

from django.db import migrations

ACTIVITIES = [
    {
        "name": "Contact form",
        "purposes": ["support"],
        "data_subjects": "People who write to us through the contact form",
        "data_categories": "Name, e-mail address, the message, and our answer.",
        "recipients": "Nobody outside our organisation.",
        "storage": "The CRM's database, on servers in the EU.",
        "retention": "90 days after we answer; a message never answered goes after a year.",
        "access": "Support staff, to answer the question; the privacy officer, for requests.",
    },
    {
        "name": "Customer account",
        "purposes": ["service", "support", "legal"],
        "data_subjects": "Customers",
        "data_categories": "Name, e-mail address, phone number, company, delivery address, "
        "orders and invoices; the account identifier of a social login, when used.",
        "recipients": "Social login provider (sign-in), parcel carrier (deliveries).",
        "storage": "The CRM's database, on servers in the EU.",
        "retention": "Two years after the customer's last activity; invoices three years after "
        "their due date.",
        "access": "Support staff and account managers, to run the service; the privacy officer.",
        "transfer_outside_eu": True,
        "transfer_country": "United States",
        "transfer_safeguard": "Standard contractual clauses with the social login provider "
        "(art. 46(2)(c)).",
    },
    {
        "name": "Newsletter",
        "purposes": ["newsletter", "marketing_email", "analytics"],
        "data_subjects": "Subscribers",
        "data_categories": "E-mail address, name, language, consents with their proof, and "
        "whether a message was opened or a link clicked (pseudonymous).",
        "recipients": "Web analytics provider (opens and clicks); advertising platform "
        "(a hashed e-mail address, only with consent to marketing e-mail).",
        "storage": "The CRM's database, on servers in the EU.",
        "retention": "Until the subscriber unsubscribes, or two years without any activity; "
        "after an opt-out only a keyed hash of the address stays.",
        "access": "Marketing staff, to write and send campaigns; the privacy officer.",
        "transfer_outside_eu": True,
        "transfer_country": "United States",
        "transfer_safeguard": "EU-US Data Privacy Framework (adequacy decision, art. 45).",
    },
]

PROCESSORS = [
    {
        "name": "Example Sign-In Inc.",
        "service": "Social login provider",
        "data_shared": "Name, e-mail address and account identifier of people who sign in with it.",
        "location": "United States",
        "outside_eu": True,
        "safeguard": "Standard contractual clauses (art. 46(2)(c)).",
    },
    {
        "name": "Example Analytics B.V.",
        "service": "Web analytics",
        "data_shared": "Pseudonymous visit, open and click events; no e-mail addresses.",
        "location": "Netherlands",
    },
    {
        "name": "Example Advertising LLC",
        "service": "Advertising platform",
        "data_shared": "Hashed e-mail addresses of people who consented to marketing e-mail.",
        "location": "United States",
        "outside_eu": True,
        "safeguard": "EU-US Data Privacy Framework (adequacy decision, art. 45).",
    },
    {
        "name": "Example Parcels B.V.",
        "service": "Parcel carrier",
        "data_shared": "Name, delivery address and phone number for each delivery.",
        "location": "Netherlands",
    },
]


def seed(apps, schema_editor):
    ProcessingActivity = apps.get_model("privacy", "ProcessingActivity")
    Processor = apps.get_model("privacy", "Processor")
    Purpose = apps.get_model("privacy", "Purpose")
    for entry in ACTIVITIES:
        defaults = {k: v for k, v in entry.items() if k not in ("name", "purposes")}
        activity, created = ProcessingActivity.objects.get_or_create(
            name=entry["name"], defaults=defaults
        )
        if created:
            activity.purposes.set(Purpose.objects.filter(code__in=entry["purposes"]))
    for entry in PROCESSORS:
        defaults = {k: v for k, v in entry.items() if k != "name"}
        Processor.objects.get_or_create(name=entry["name"], defaults=defaults)


def unseed(apps, schema_editor):
    apps.get_model("privacy", "ProcessingActivity").objects.filter(
        name__in=[entry["name"] for entry in ACTIVITIES]
    ).delete()
    apps.get_model("privacy", "Processor").objects.filter(
        name__in=[entry["name"] for entry in PROCESSORS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0010_update_roles")]

    operations = [migrations.RunPython(seed, unseed)]
