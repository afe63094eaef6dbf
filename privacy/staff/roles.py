"""Staff roles with least privilege: which Django permissions each group holds (GDPR art. 32).

The table here is the single source: the roles migrations create the groups from it (a change to
the table needs a migration that runs `create_roles` of 0009 again, like 0010), the tests check
every role against it, and docs/roles.md explains it. Marketing works with contacts but
never sees data-subject requests, never erases and never exports in bulk; Support logs requests
it receives but cannot decide them; the Privacy officer handles requests, erasure, registers,
retention, breaches and the audit trail; Administrators hold every permission.
"""

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
ALL = (VIEW, ADD, CHANGE, DELETE)

# role -> {"app_label.model": actions}, plus extra "app_label.codename" permissions.
ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    "Marketing": {
        "crm.contact": (VIEW, ADD, CHANGE),
        "crm.contactlist": ALL,
        "crm.company": ALL,
        "crm.client": (VIEW, ADD, CHANGE),
        "crm.source": (VIEW, ADD, CHANGE),
        "crm.contactsource": (VIEW, ADD, CHANGE),
        "crm.interaction": (VIEW, ADD, CHANGE),
        # Importing a list is adding a batch; its rejected rows are read, never edited.
        "crm.importbatch": (VIEW, ADD, CHANGE),
        "crm.importrejection": (VIEW,),
        # No invoices: billing records are kept for the law and the contract, not for marketing
        # (GDPR art. 5(1)(b)); whether someone is a customer shows in their relationship.
        "privacy.purpose": (VIEW,),
        "privacy.noticeversion": (VIEW,),
        "privacy.consentevent": (VIEW, ADD),
        "privacy.consentstate": (VIEW,),
        # Marketing builds and sends campaigns; messages and events are records, never edited.
        "campaigns.segment": ALL,
        "campaigns.campaign": ALL,
        "campaigns.campaignversion": ALL,
        "campaigns.emaillayout": ALL,
        "campaigns.trackedlink": (VIEW,),
        "campaigns.message": (VIEW,),
        "campaigns.messageevent": (VIEW,),
        "campaigns.webvisit": (VIEW,),
        "privacy.trackingbasis": (VIEW,),
    },
    "Support": {
        "crm.contact": (VIEW, CHANGE),
        "crm.contactlist": (VIEW,),
        "crm.company": (VIEW,),
        "crm.contactsource": (VIEW,),
        "crm.interaction": (VIEW, ADD, CHANGE),
        "privacy.purpose": (VIEW,),
        "privacy.consentevent": (VIEW,),
        "privacy.consentstate": (VIEW,),
        "privacy.subjectrequest": (VIEW, ADD),
        "campaigns.segment": (VIEW,),
        "campaigns.campaign": (VIEW,),
        "campaigns.campaignversion": (VIEW,),
        "campaigns.message": (VIEW,),
    },
    "Privacy officer": {
        "crm.contact": (VIEW, CHANGE),
        "crm.contactlist": (VIEW,),
        "crm.company": (VIEW,),
        "crm.client": (VIEW,),
        "crm.source": (VIEW,),
        "crm.contactsource": (VIEW,),
        "crm.interaction": ALL,
        "crm.invoice": (VIEW,),
        "crm.importbatch": (VIEW,),
        "crm.importrejection": (VIEW,),
        "core.auditevent": (VIEW,),
        "privacy.purpose": ALL,
        "privacy.noticeversion": ALL,
        "privacy.consentevent": (VIEW, ADD),
        "privacy.consentstate": (VIEW,),
        "crm.suppression": (VIEW,),
        "privacy.subjectrequest": (VIEW, ADD, CHANGE),
        "privacy.subjectexport": (VIEW,),
        "privacy.erasurecertificate": (VIEW,),
        "privacy.retentionrule": (VIEW, CHANGE),
        "privacy.retentionrun": (VIEW,),
        "privacy.processingactivity": ALL,
        "privacy.processor": ALL,
        "privacy.disclosure": (VIEW, ADD, CHANGE),
        "privacy.breach": (VIEW, ADD, CHANGE),
        "privacy.breachsubject": (VIEW, ADD, CHANGE),
        # Art. 19: who received whose data, and the notices passed on to them; endpoints and their
        # delivery log are read only (Administrators register endpoints).
        "privacy.recipientbatch": (VIEW, ADD),
        "privacy.recipientsubject": (VIEW,),
        "integrations.webhookendpoint": (VIEW,),
        "integrations.delivery": (VIEW,),
        "integrations.recipientnotice": (VIEW, CHANGE),
        # To answer "why did (or didn't) I get this e-mail?": audiences and messages, read only.
        "campaigns.segment": (VIEW,),
        "campaigns.campaign": (VIEW,),
        "campaigns.campaignversion": (VIEW,),
        "campaigns.trackedlink": (VIEW,),
        "campaigns.message": (VIEW,),
        "campaigns.messageevent": (VIEW,),
        "campaigns.webvisit": (VIEW,),
        # The legal basis of tracking per sender is the privacy officer's decision.
        "privacy.trackingbasis": (VIEW, ADD, CHANGE),
    },
}
EXTRA: dict[str, tuple[str, ...]] = {
    # Pseudonymised engagement for analysis: still personal data (GDPR recital 26), so the officer
    # hands it out; Administrators may grant it to an analyst.
    "Privacy officer": (
        "crm.export_contacts",
        "campaigns.export_engagement",
        "crm.merge_contacts",
        "crm.bulk_change_contacts",
    ),
    # Marketing keeps its lists tidy: merging duplicates, tags and relationships for many at once.
    "Marketing": ("crm.merge_contacts", "crm.bulk_change_contacts"),
}
ADMINISTRATOR = "Administrator"
# Roles that must log in with a second factor (TOTP); superusers count as Administrators.
TWO_FACTOR_ROLES = ("Privacy officer", ADMINISTRATOR)


def role_permissions(role: str) -> set[str]:
    """Return the role's permissions as "app_label.codename" strings."""
    granted = set(EXTRA.get(role, ()))
    for label, actions in ROLES.get(role, {}).items():
        app_label, model = label.split(".")
        granted.update(f"{app_label}.{action}_{model}" for action in actions)
    return granted


def is_administrator(user) -> bool:
    """Return whether the user is a superuser or holds the Administrator role (operations)."""
    return bool(
        user.is_active
        and user.is_staff
        and (user.is_superuser or user.groups.filter(name=ADMINISTRATOR).exists())
    )
