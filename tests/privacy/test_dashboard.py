"""The privacy dashboard on the admin index: the right numbers, for the right roles, cheaply."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import Contact
from privacy.accountability.dashboard import WEEKS, consent_weeks, week_starts
from privacy.models import Breach, RetentionRule, SubjectRequest
from privacy.staff.roles import ADMINISTRATOR, ROLES
from tests.crm.factories import ContactFactory
from tests.privacy.factories import grant, withdraw
from tests.privacy.request_steps import SubjectRequestFactory
from tests.privacy.test_roles import run_roles_migration

pytestmark = pytest.mark.django_db

INDEX_URL = reverse("admin:index")


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


def figure(page, label: str) -> int:
    """Return the number the dashboard shows next to a label."""
    found = re.search(
        rf">{re.escape(label)}</a></th>\s*<td class=\"figure[^\"]*\">(\d+)</td>", page.text
    )
    assert found, f"no figure for {label!r}"
    return int(found.group(1))


def consent_table(page) -> dict[str, tuple[int, int]]:
    """Return the visually-hidden table: week label -> (granted, withdrawn)."""
    table = page.text.split('id="consent-numbers"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td><td>(\d+)</td>', table)
    return {week: (int(granted), int(withdrawn)) for week, granted, withdrawn in rows}


def week_label(moment) -> str:
    """Return the label of the row of the week holding `moment` (its Monday, local time)."""
    day = timezone.localdate(moment)
    monday = day - timedelta(days=day.weekday())
    return f"{monday.day} {monday:%b %Y}"


def chart(page) -> str:
    return page.text.split('<svg class="consent-chart"', 1)[1].split("</svg>", 1)[0]


# Requests ----------------------------------------------------------------------------------------


@pytest.fixture
def queue() -> None:
    """Three open requests (overdue, due in 3 days, due in 20 days) and two that are not open."""
    now = timezone.now()
    SubjectRequestFactory(due_at=now - timedelta(days=1))
    SubjectRequestFactory(due_at=now + timedelta(days=3))
    # Extended: its extended date, not its first one, is what counts.
    SubjectRequestFactory(due_at=now - timedelta(days=2), extended_due_at=now + timedelta(days=20))
    SubjectRequestFactory(status=SubjectRequest.Status.COMPLETED, due_at=now - timedelta(days=9))
    SubjectRequestFactory(status=SubjectRequest.Status.UNVERIFIED, due_at=None)


def test_the_privacy_officer_sees_open_overdue_and_soon_due_requests(as_role, queue):
    page = as_role("Privacy officer").get(INDEX_URL)
    assert figure(page, "Open") == 3
    assert figure(page, "Overdue") == 1
    assert figure(page, "Due within 7 days") == 1
    queue_url = reverse("admin:privacy_subjectrequest_changelist")
    assert f'href="{queue_url}?deadline=overdue"' in page.text


def test_marketing_sees_consents_but_no_requests_retention_or_breaches(as_role, queue):
    Breach.objects.create(
        title="Laptop left on a train",
        detected_at=timezone.now(),
        description="A laptop with an export was lost.",
        data_categories="names, e-mail addresses",
    )
    page = as_role("Marketing").get(INDEX_URL)
    assert page.status_code == 200
    assert 'id="dashboard-consents"' in page.text
    for hidden in ("dashboard-requests", "dashboard-retention", "dashboard-breaches"):
        assert f'id="{hidden}"' not in page.text
    assert "Laptop left on a train" not in page.text
    assert "Overdue" not in page.text


def test_support_sees_the_request_figures_but_not_retention_or_breaches(as_role, queue):
    page = as_role("Support").get(INDEX_URL)
    assert figure(page, "Open") == 3
    assert 'id="dashboard-retention"' not in page.text
    assert 'id="dashboard-breaches"' not in page.text


def test_staff_without_any_of_the_permissions_see_no_dashboard(client, django_user_model):
    user = django_user_model.objects.create_user(
        username="intern", email="intern@example.org", is_staff=True
    )
    client.force_login(user)
    page = client.get(INDEX_URL)
    assert page.status_code == 200
    assert 'id="privacy-dashboard"' not in page.text


# Consents ------------------------------------------------------------------------------------


@pytest.fixture
def ledger(notice, newsletter) -> dict[str, object]:
    """Grants and withdrawals this week, three weeks ago and before the chart's 12 weeks."""
    now = timezone.now()
    # A few minutes ago, but never before this week began (a run just after midnight on Monday).
    this_week = max(now - timedelta(minutes=5), week_starts(now=now)[-1])
    three_weeks_ago = now - timedelta(weeks=3)
    long_ago = now - timedelta(weeks=WEEKS + 1)
    for contact in ContactFactory.create_batch(3):
        grant(contact, newsletter, occurred_at=this_week)
    for contact in ContactFactory.create_batch(2):
        grant(contact, newsletter, occurred_at=three_weeks_ago)
        withdraw(contact, newsletter, occurred_at=three_weeks_ago + timedelta(minutes=1))
    grant(ContactFactory(), newsletter, occurred_at=long_ago)
    return {"now": now, "three_weeks_ago": three_weeks_ago}


def test_consents_granted_and_withdrawn_are_counted_per_week(as_role, ledger):
    page = as_role("Marketing").get(INDEX_URL)
    numbers = consent_table(page)
    assert len(numbers) == WEEKS
    assert numbers[week_label(ledger["now"])] == (3, 0)
    assert numbers[week_label(ledger["three_weeks_ago"])] == (2, 2)
    assert sum(granted for granted, _ in numbers.values()) == 5  # the older grant is left out
    assert sum(withdrawn for _, withdrawn in numbers.values()) == 2


def test_the_chart_has_a_granted_and_a_withdrawn_bar_per_week_and_says_its_numbers(as_role, ledger):
    page = as_role("Privacy officer").get(INDEX_URL)
    svg = chart(page)
    assert 'role="img"' in svg
    assert "5 granted and 2 withdrawn in total" in svg  # aria-label and <title>
    assert svg.count('<g class="week">') == WEEKS
    assert svg.count('<rect class="bar granted"') == WEEKS
    assert svg.count('<rect class="bar withdrawn"') == WEEKS
    assert svg.count('class="week-label"') == WEEKS
    assert "<script" not in page.text.split('id="privacy-dashboard"', 1)[1].split("</svg>")[0]
    # The tallest bar is the week of three grants; an empty week's bar has no height.
    heights = [int(h) for h in re.findall(r'class="bar granted"[^>]*height="(\d+)"', svg)]
    assert heights[-1] == max(heights) > 0
    assert heights.count(0) == WEEKS - 2


def test_weeks_start_on_monday_local_time_and_end_with_this_week():
    now = timezone.now()
    starts = week_starts(now=now)
    assert len(starts) == WEEKS
    assert all(start.weekday() == 0 and start.hour == 0 for start in starts)
    assert starts[-1] <= now < starts[-1] + timedelta(weeks=1)
    assert [week.starts_on for week in consent_weeks(now=now)] == [s.date() for s in starts]


def test_the_index_runs_the_same_queries_for_3_or_30_consent_events(as_role, notice, newsletter):
    client = as_role("Privacy officer")
    now = timezone.now()
    for contact in ContactFactory.create_batch(3):
        grant(contact, newsletter, occurred_at=now - timedelta(days=1))
    client.get(INDEX_URL)  # fills the cached retention count
    with CaptureQueriesContext(connection) as few:
        client.get(INDEX_URL)
    for i, contact in enumerate(ContactFactory.create_batch(27)):
        # Within the last 11 weeks: inside the chart whatever the day and hour of the run.
        grant(contact, newsletter, occurred_at=now - timedelta(days=2 * i))
    with CaptureQueriesContext(connection) as many:
        page = client.get(INDEX_URL)
    assert sum(granted for granted, _ in consent_table(page).values()) == 30
    assert len(many) == len(few)


# Retention ----------------------------------------------------------------------------------


@pytest.fixture
def inactive_customers() -> RetentionRule:
    """Only the two-year rule for inactive customers is active; two customers are past it."""
    rule, _ = RetentionRule.objects.update_or_create(
        kind="inactive_customers_subscribers",
        defaults={"period_days": 730, "is_active": True, "action": RetentionRule.Action.DELETE},
    )
    RetentionRule.objects.exclude(pk=rule.pk).update(is_active=False)
    three_years_ago = timezone.now() - timedelta(days=3 * 365)
    ContactFactory.create_batch(
        2, relationship=Contact.Relationship.CUSTOMER, last_activity_at=three_years_ago
    )
    ContactFactory(relationship=Contact.Relationship.CUSTOMER, last_activity_at=timezone.now())
    return rule


def test_contacts_due_for_retention_are_counted_and_the_count_is_cached(
    as_role, inactive_customers
):
    client = as_role("Privacy officer")
    assert figure(client.get(INDEX_URL), "Due for removal now") == 2
    ContactFactory(
        relationship=Contact.Relationship.SUBSCRIBER,
        last_activity_at=timezone.now() - timedelta(days=800),
    )
    # Counting big tables on every visit would be too slow: the figure waits for the cache.
    assert figure(client.get(INDEX_URL), "Due for removal now") == 2
    cache.clear()  # ten minutes later
    assert figure(client.get(INDEX_URL), "Due for removal now") == 3


# Breaches ------------------------------------------------------------------------------------


def breach(title: str, detected_hours_ago: float, **fields) -> Breach:
    return Breach.objects.create(
        title=title,
        detected_at=timezone.now() - timedelta(hours=detected_hours_ago),
        description="Made up for a test.",
        data_categories="names, e-mail addresses",
        **fields,
    )


def test_recent_breaches_show_their_72_hour_deadline(as_role):
    for week in range(6, 2, -1):
        breach(f"Old incident {week}", detected_hours_ago=24 * 7 * week)
    breach("Misaddressed newsletter", detected_hours_ago=100)
    breach("Stolen laptop", detected_hours_ago=9.5)
    told = breach(
        "Open storage bucket",
        detected_hours_ago=30,
        authority_notified_at=timezone.now() - timedelta(hours=2),
    )
    page = as_role("Privacy officer").get(INDEX_URL)
    section = page.text.split('id="dashboard-breaches"', 1)[1].split("</section>", 1)[0]
    assert re.search(r"62 h \d+ min left", section)  # 72 - 9.5 hours, counting down
    assert "OVERDUE by 28 h" in section  # detected 100 hours ago, nobody told
    assert f"told on {timezone.localtime(told.authority_notified_at):%d %b %Y %H:%M}" in section
    deadline = timezone.localtime(told.authority_deadline)
    assert f"{deadline:%-d %b %Y %H:%M}" in section
    # The five latest only.
    assert section.count('<th scope="row">') == 5
    assert "Old incident 6" not in section
    assert "Old incident 5" not in section
