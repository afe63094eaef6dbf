"""Campaign reports: counts only, never people (DESIGN rule 5; GDPR art. 5(1)(c), 25).

A report holds aggregates of one campaign: messages sent, deliveries, bounces, opens and clicks
by origin (the person, a machine such as a privacy proxy or a link scanner, or unknown; see
`campaigns.tracking.machines`), clicks per link, unsubscribes and complaints (unique messages and
totals), recipients by country and opens and clicks over time (machines left out of both), and
the web visits after a click (page views, downloads, visitors). A country with fewer recipients
than `REPORT_MIN_COUNTRY_BUCKET` is folded into "Other", so a small country cannot single anyone
out. No e-mail address, name, token or per-person row is ever read into a report. The admin page,
its CSV and the API's statistics are all built from `campaign_report`.
"""

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min, Q
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone
from django_countries import countries

from campaigns.models import Campaign, Message, MessageEvent, TrackedLink, WebVisit
from crm.exports_csv import neutralise_formula

OTHER = "Other"
# Opens and clicks spread over at most this long are shown per hour, longer ones per day.
HOURLY_SPAN = timedelta(hours=72)
MAX_BUCKETS = 400
Kind = MessageEvent.Kind
Origin = MessageEvent.Origin
ORIGIN_LABELS = {Origin.HUMAN: "human", Origin.MACHINE: "machine", Origin.UNKNOWN: "unknown"}


@dataclass(frozen=True)
class Tally:
    """How many messages something happened to, and how often it happened."""

    unique: int
    total: int


@dataclass(frozen=True)
class LinkTally:
    """Clicks on one of the campaign's links."""

    url: str
    unique: int
    total: int


@dataclass(frozen=True)
class CountryTally:
    """Recipients who opened or clicked from one country (or from small ones, folded)."""

    code: str
    name: str
    recipients: int


@dataclass(frozen=True)
class TimeBucket:
    """Opens and clicks in one hour or day."""

    start: datetime
    opened: int
    clicked: int


@dataclass(frozen=True)
class VisitTally:
    """Web activity after the campaign's clicks: counts only, visitors never named."""

    page_views: int
    downloads: int
    visitors: int


@dataclass(frozen=True)
class CampaignReport:
    """Everything a campaign report shows: aggregates only."""

    campaign_id: int
    name: str
    status: str
    sent: int
    delivered: Tally
    bounced: Tally
    hard_bounced: int
    policy_refused: int
    opened: Tally
    clicked: Tally
    # Opens and clicks by origin: the person (human), a privacy proxy or scanner, or unknown.
    opened_by: dict[str, Tally]
    clicked_by: dict[str, Tally]
    visits: VisitTally
    unsubscribed: Tally
    complained: Tally
    links: list[LinkTally]
    countries: list[CountryTally]
    min_country_bucket: int
    bucket: str
    timeline: list[TimeBucket]


def campaign_report(*, campaign: Campaign, min_bucket: int | None = None) -> CampaignReport:
    """Count what happened to a campaign's messages, folding small countries into "Other"."""
    minimum = settings.REPORT_MIN_COUNTRY_BUCKET if min_bucket is None else min_bucket
    events = MessageEvent.objects.filter(campaign=campaign)
    tallies = {
        row["kind"]: Tally(unique=row["unique"], total=row["total"])
        for row in events.values("kind").annotate(
            unique=Count("message", distinct=True), total=Count("id")
        )
    }
    none = Tally(0, 0)
    by_origin = {
        (row["kind"], row["origin"]): Tally(unique=row["unique"], total=row["total"])
        for row in events.filter(kind__in=[Kind.OPENED, Kind.CLICKED])
        .values("kind", "origin")
        .annotate(unique=Count("message", distinct=True), total=Count("id"))
    }
    links = [
        LinkTally(url=link.url, unique=link.unique, total=link.total)
        for link in TrackedLink.objects.filter(campaign=campaign)
        .annotate(unique=Count("clicks__message", distinct=True), total=Count("clicks"))
        .order_by("pk")
    ]
    bucket, timeline = _timeline(events)
    return CampaignReport(
        campaign_id=campaign.pk,
        name=campaign.name,
        status=campaign.get_status_display(),
        sent=Message.objects.filter(campaign=campaign, status=Message.Status.SENT).count(),
        delivered=tallies.get(Kind.DELIVERED, none),
        bounced=tallies.get(Kind.BOUNCED, none),
        hard_bounced=_bounced_messages(events, "hard"),
        policy_refused=_bounced_messages(events, "policy"),
        opened=tallies.get(Kind.OPENED, none),
        clicked=tallies.get(Kind.CLICKED, none),
        opened_by={o: by_origin.get((Kind.OPENED, o), none) for o in Origin.values},
        clicked_by={o: by_origin.get((Kind.CLICKED, o), none) for o in Origin.values},
        visits=_visits(campaign),
        unsubscribed=tallies.get(Kind.UNSUBSCRIBED, none),
        complained=tallies.get(Kind.COMPLAINED, none),
        links=links,
        countries=_countries(events, minimum),
        min_country_bucket=minimum,
        bucket=bucket,
        timeline=timeline,
    )


def _bounced_messages(events, detail: str) -> int:
    return events.filter(kind=Kind.BOUNCED, detail=detail).values("message").distinct().count()


def _visits(campaign: Campaign) -> VisitTally:
    """Count the page views, downloads and distinct visitors after the campaign's clicks."""
    counts = WebVisit.objects.filter(campaign=campaign).aggregate(
        page_views=Count("id", filter=Q(kind=WebVisit.Kind.PAGE_VIEW)),
        downloads=Count("id", filter=Q(kind=WebVisit.Kind.DOWNLOAD)),
        visitors=Count("contact", distinct=True),
    )
    return VisitTally(**counts)


def _countries(events, minimum: int) -> list[CountryTally]:
    """Recipients per country of their own opens and clicks; small countries and unknown as Other.

    A machine's fetch says where the proxy or scanner is, not the person: left out.
    """
    rows = (
        events.filter(kind__in=[Kind.OPENED, Kind.CLICKED])
        .exclude(origin=Origin.MACHINE)
        .values("country")
        .annotate(recipients=Count("message", distinct=True))
    )
    shown, other = [], 0
    for row in rows:
        code, recipients = row["country"], row["recipients"]
        if code and recipients >= minimum:
            shown.append(
                CountryTally(code=code, name=countries.name(code) or code, recipients=recipients)
            )
        else:
            other += recipients
    shown.sort(key=lambda c: (-c.recipients, c.code))
    if other:
        shown.append(CountryTally(code="", name=OTHER, recipients=other))
    return shown


def _timeline(events) -> tuple[str, list[TimeBucket]]:
    """Opens and clicks, not a machine's, per hour (short campaigns) or per day, gaps filled."""
    engaged = events.filter(kind__in=[Kind.OPENED, Kind.CLICKED]).exclude(origin=Origin.MACHINE)
    span = engaged.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    if span["first"] is None:
        return "hour", []
    hourly = span["last"] - span["first"] <= HOURLY_SPAN
    trunc, step, name = (
        (TruncHour, timedelta(hours=1), "hour") if hourly else (TruncDay, timedelta(days=1), "day")
    )
    zone = timezone.get_current_timezone()
    counts = {
        row["start"]: row
        for row in engaged.annotate(start=trunc("occurred_at", tzinfo=zone))
        .values("start")
        .annotate(
            opened=Count("id", filter=Q(kind=Kind.OPENED)),
            clicked=Count("id", filter=Q(kind=Kind.CLICKED)),
        )
    }
    starts = sorted(counts)
    buckets, moment = [], starts[0]
    while moment <= starts[-1] and len(buckets) < MAX_BUCKETS:
        row = counts.get(moment)
        buckets.append(
            TimeBucket(
                start=moment,
                opened=row["opened"] if row else 0,
                clicked=row["clicked"] if row else 0,
            )
        )
        # Step in local time, so a daylight-saving change keeps days on midnight.
        moment = timezone.localtime(moment + step, zone).replace(
            minute=0, second=0, microsecond=0, **({} if hourly else {"hour": 0})
        )
    return name, buckets


def summary_rows(report: CampaignReport) -> list[tuple[str, Tally]]:
    """Return the headline counts in the order reports show them."""
    return [
        ("Sent", Tally(report.sent, report.sent)),
        ("Delivered", report.delivered),
        ("Bounced", report.bounced),
        *((f"Opened ({ORIGIN_LABELS[o]})", report.opened_by[o]) for o in Origin.values),
        *((f"Clicked ({ORIGIN_LABELS[o]})", report.clicked_by[o]) for o in Origin.values),
        ("Unsubscribed", report.unsubscribed),
        ("Marked as spam", report.complained),
    ]


def report_csv(report: CampaignReport) -> str:
    """Return the report as CSV: one section per table, formulas neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "item", "unique messages", "total"])
    rows: list[list[object]] = [["campaign", report.name, "", ""]]
    rows += [["summary", label, t.unique, t.total] for label, t in summary_rows(report)]
    rows.append(["summary", "Hard bounces", report.hard_bounced, ""])
    rows.append(["summary", "Refused for policy or content", report.policy_refused, ""])
    visits = report.visits
    rows.append(["visits after a click", "Visitors", visits.visitors, ""])
    rows.append(["visits after a click", "Page views", "", visits.page_views])
    rows.append(["visits after a click", "Downloads", "", visits.downloads])
    rows += [["link", link.url, link.unique, link.total] for link in report.links]
    rows += [
        [f"country (at least {report.min_country_bucket})", c.name, c.recipients, ""]
        for c in report.countries
    ]
    for b in report.timeline:
        start = timezone.localtime(b.start).isoformat(timespec="minutes")
        rows.append([f"opened per {report.bucket}", start, "", b.opened])
        rows.append([f"clicked per {report.bucket}", start, "", b.clicked])
    for row in rows:
        writer.writerow([neutralise_formula(str(cell)) for cell in row])
    return out.getvalue()


# Charts -----------------------------------------------------------------------------------------

CHART_WIDTH = 900
BAR_CHART_HEIGHT = 220
LABEL_WIDTH = 180
ROW_HEIGHT = 26


@dataclass(frozen=True)
class HBar:
    """One horizontal bar with its label and value."""

    label: str
    value: int
    y: int
    width: int
    text_y: int


@dataclass(frozen=True)
class HBarChart:
    """Horizontal bars, laid out for an inline SVG."""

    bars: list[HBar]
    width: int
    height: int
    label_width: int
    row_height: int
    summary: str


@dataclass(frozen=True)
class TimeColumn:
    """One bucket of the timeline: an opened and a clicked bar."""

    label: str
    label_x: int
    show_label: bool
    opened_x: int
    opened_y: int
    opened_height: int
    clicked_x: int
    clicked_y: int
    clicked_height: int


@dataclass(frozen=True)
class TimelineChart:
    """Opens and clicks per bucket, laid out for an inline SVG."""

    columns: list[TimeColumn]
    width: int
    height: int
    baseline: int
    bar_width: int
    label_y: int
    summary: str


def bar_chart(items: list[tuple[str, int]], *, what: str) -> HBarChart:
    """Lay out labelled values as horizontal bars."""
    tallest = max((value for _, value in items), default=0) or 1
    room = CHART_WIDTH - LABEL_WIDTH - 60
    bars = [
        HBar(
            label=label,
            value=value,
            y=i * ROW_HEIGHT + 4,
            width=max(round(room * value / tallest), 1 if value else 0),
            text_y=i * ROW_HEIGHT + 18,
        )
        for i, (label, value) in enumerate(items)
    ]
    summary = f"{what}: " + "; ".join(f"{label} {value}" for label, value in items) + "."
    return HBarChart(
        bars=bars,
        width=CHART_WIDTH,
        height=max(len(items), 1) * ROW_HEIGHT + 8,
        label_width=LABEL_WIDTH,
        row_height=ROW_HEIGHT,
        summary=summary,
    )


def timeline_chart(report: CampaignReport) -> TimelineChart:
    """Lay the timeline out as paired bars: opens and clicks per hour or day."""
    buckets = report.timeline
    tallest = max((max(b.opened, b.clicked) for b in buckets), default=0) or 1
    baseline = BAR_CHART_HEIGHT - 24
    room = baseline - 10
    slot = CHART_WIDTH / max(len(buckets), 1)
    bar = max(int(slot / 2) - 1, 1)
    # Label about every 80 pixels.
    every = max(round(80 / slot), 1)
    columns = []
    for i, b in enumerate(buckets):
        left = round(i * slot + (slot - 2 * bar) / 2)
        local = timezone.localtime(b.start)
        opened_h = round(room * b.opened / tallest)
        clicked_h = round(room * b.clicked / tallest)
        columns.append(
            TimeColumn(
                label=f"{local:%d %b %H:%M}" if report.bucket == "hour" else f"{local:%d %b}",
                label_x=round(i * slot + slot / 2),
                show_label=i % every == 0,
                opened_x=left,
                opened_y=baseline - opened_h,
                opened_height=opened_h,
                clicked_x=left + bar,
                clicked_y=baseline - clicked_h,
                clicked_height=clicked_h,
            )
        )
    opened = sum(b.opened for b in buckets)
    clicked = sum(b.clicked for b in buckets)
    return TimelineChart(
        columns=columns,
        width=CHART_WIDTH,
        height=BAR_CHART_HEIGHT,
        baseline=baseline,
        bar_width=bar,
        label_y=BAR_CHART_HEIGHT - 6,
        summary=f"Opens and clicks per {report.bucket} over {len(buckets)} {report.bucket}s: "
        f"{opened} opens and {clicked} clicks in total.",
    )
