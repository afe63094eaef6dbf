"""Bulk export of contacts: only with the export permission, with a reason, always audited."""

import csv
import io
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import AuditEvent
from crm.exports_csv import COLUMNS, export_contacts_csv, neutralise_formula
from crm.models import Contact
from privacy.staff.roles import ADMINISTRATOR, ROLES
from tests.crm.factories import ContactFactory
from tests.privacy.test_roles import run_roles_migration

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:crm_contact_changelist")
ACTION = "Export selected contacts to CSV"
REASON = "Guest list for the Utrecht fair, asked by the sales manager."


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def as_role(db, client, django_user_model):
    """Return a factory of test clients logged in as a staff user of a role."""
    if Group.objects.filter(name__in=[*ROLES, ADMINISTRATOR]).count() < len(ROLES) + 1:
        run_roles_migration()

    def login(role: str):
        slug = role.lower().replace(" ", "-")
        user = django_user_model.objects.create_user(
            username=slug, email=f"{slug}@example.org", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return client

    return login


@pytest.fixture
def contacts() -> list[Contact]:
    return [
        ContactFactory(
            first_name="Femke",
            last_name="Bakker",
            email="femke.bakker@example.org",
            phone="+31612345678",
            company__name="Polder Logistics",
            relationship=Contact.Relationship.CUSTOMER,
        ),
        ContactFactory(first_name="Luc", last_name="Peeters", country="BE", company=None),
        ContactFactory(first_name="Not", last_name="Selected"),
    ]


class HiddenInputs(HTMLParser):
    """Collect the hidden inputs of a page, as the browser would post them back."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.fields.append((values["name"], values.get("value") or ""))


def hidden_fields(page) -> dict[str, list[str]]:
    parser = HiddenInputs()
    parser.feed(page.text)
    fields: dict[str, list[str]] = {}
    for name, value in parser.fields:
        fields.setdefault(name, []).append(value)
    return fields


def choose_action(client, chosen: list[Contact], url: str = LIST_URL, select_across: bool = False):
    """Tick the contacts on the list, pick the export action and press Go."""
    return client.post(
        url,
        {
            "action": "export_csv",
            "select_across": "1" if select_across else "0",
            "index": "0",
            "_selected_action": [str(c.pk) for c in chosen],
        },
    )


def confirm(client, page, reason: str, url: str = LIST_URL):
    """Fill in the reason on the intermediate page and submit it."""
    fields = {**hidden_fields(page), "reason": reason}
    fields.pop("csrfmiddlewaretoken", None)
    return client.post(url, fields)


def exports() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED))


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


# Who is offered the export -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "offered"),
    [("Marketing", False), ("Support", False), ("Privacy officer", True), (ADMINISTRATOR, True)],
)
def test_only_roles_with_the_export_permission_are_offered_the_action(
    as_role, contacts, role, offered
):
    page = as_role(role).get(LIST_URL)
    assert page.status_code == 200
    assert (ACTION in page.text) == offered


def test_marketing_posting_the_action_anyway_gets_no_file_and_leaves_no_export(as_role, contacts):
    client = as_role("Marketing")
    assert not choose_action(client, contacts[:2])["Content-Type"].startswith("text/csv")
    page = client.post(
        LIST_URL,
        {
            "action": "export_csv",
            "select_across": "0",
            "_selected_action": [str(c.pk) for c in contacts[:2]],
            "export_confirmed": "yes",
            "reason": REASON,
        },
        follow=True,
    )
    assert not page["Content-Type"].startswith("text/csv")
    assert exports() == []


# The reason ------------------------------------------------------------------------------------


def test_the_action_first_asks_why_and_exports_nothing_yet(as_role, contacts):
    page = choose_action(as_role("Privacy officer"), contacts[:2])
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert "2 contacts" in page.text
    assert 'name="reason"' in page.text
    assert exports() == []


@pytest.mark.parametrize("reason", ["", "   "])
def test_without_a_reason_the_page_comes_back_with_an_error_and_no_file(as_role, contacts, reason):
    client = as_role("Privacy officer")
    page = confirm(client, choose_action(client, contacts[:2]), reason)
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert "This field is required." in page.text
    assert "femke.bakker@example.org" not in page.text
    assert exports() == []


def test_with_a_reason_the_selected_contacts_come_as_csv_and_one_audit_event(as_role, contacts):
    client = as_role("Privacy officer")
    chosen = contacts[:2]
    answer = confirm(client, choose_action(client, chosen), f"  {REASON} ")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer["Content-Disposition"].startswith('attachment; filename="contacts-')
    assert "no-store" in answer["Cache-Control"]
    header, *lines = rows(answer)
    assert header == list(COLUMNS)
    femke, luc = sorted(lines, key=lambda line: int(line[0]))
    assert femke[:8] == [
        str(chosen[0].pk),
        "Femke",
        "Bakker",
        "femke.bakker@example.org",
        "'+31612345678",  # a phone number starts with "+": kept as text, never a formula
        "Polder Logistics",
        "NL",
        "customer",
    ]
    assert luc[1:3] == ["Luc", "Peeters"]
    assert luc[5:7] == ["", "BE"]
    assert "Selected" not in answer.content.decode()

    (event,) = exports()
    assert event.actor.username == "privacy-officer"
    assert event.reason == REASON
    assert event.channel == "admin"
    assert event.object_type.model_class() is Contact
    assert event.details == {"format": "csv", "count": 2, "ids": sorted(c.pk for c in chosen)}
    stored = str(event.details) + event.object_id + event.reason
    for value in ("Femke", "Bakker", "femke.bakker", "31612345678", "Polder"):
        assert value not in stored


def test_selecting_all_exports_every_contact_of_the_filtered_list(as_role, contacts):
    client = as_role(ADMINISTRATOR)
    belgian = ContactFactory(first_name="Wout", last_name="Maes", country="BE")
    url = f"{LIST_URL}?country=BE"
    page = choose_action(client, [belgian], url=url, select_across=True)
    assert "2 contacts" in page.text
    answer = confirm(client, page, REASON, url=url)
    names = sorted(line[1] for line in rows(answer)[1:])
    assert names == ["Luc", "Wout"]
    (event,) = exports()
    assert event.details["ids"] == sorted([contacts[1].pk, belgian.pk])


# The file itself -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (
            '=HYPERLINK("https://evil.example.net","click")',
            '\'=HYPERLINK("https://evil.example.net","click")',
        ),
        ("+31 20 123 4567", "'+31 20 123 4567"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Jansen", "Jansen"),
        ("Anne-Marie", "Anne-Marie"),
        ("", ""),
    ],
)
def test_a_value_a_spreadsheet_would_run_gets_a_leading_apostrophe(value, written):
    assert neutralise_formula(value) == written


def test_formulas_in_names_and_companies_reach_the_file_as_text(admin_user):
    ContactFactory(
        first_name="=cmd|' /C calc'!A0",
        last_name="@Vries",
        company__name="-Minus Trading",
        phone="",
    )
    out = io.StringIO()
    export_contacts_csv(contacts=Contact.objects.all(), actor=admin_user, reason=REASON, out=out)
    (line,) = list(csv.reader(io.StringIO(out.getvalue())))[1:]
    assert line[1:3] == ["'=cmd|' /C calc'!A0", "'@Vries"]
    assert line[5] == "'-Minus Trading"


def test_the_function_refuses_a_blank_reason_and_writes_nothing(admin_user):
    ContactFactory()
    out = io.StringIO()
    with pytest.raises(ValidationError):
        export_contacts_csv(contacts=Contact.objects.all(), actor=admin_user, reason=" ", out=out)
    assert out.getvalue() == ""
    assert exports() == []
