"""Retention: nothing personal is kept longer than its rule (GDPR art. 5(1)(e); DESIGN rule 6).

Rules are rows (`RetentionRule`): a kind, which says which rows it selects and which age counts,
a period and an action. The nightly beat task runs each active rule: it selects expired primary
keys in bounded batches, removes or anonymises each batch through the personal-data registry in
its own transaction, and records counts on a `RetentionRun` after every batch. Killing it anywhere
and running it again reaches the same end state, because each run selects by age alone. Only one
run acts at a time (a partial unique constraint on running runs). People whose processing is
restricted (art. 18) are skipped and counted; people with records under a legal hold are
anonymised instead of deleted and counted. Receipts hold counts per table, never names.
"""

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.audit import record_audit
from core.models import AuditEvent
from core.registry import Anonymise, Delete, registry
from crm.models import ContactSource
from privacy.deletion.removal import remove_subjects
from privacy.models import RetentionRule, RetentionRun, SubjectRequest
from privacy.translations import translated

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
# A running run that has not reported for this long was killed; its lock is taken over.
STALE_AFTER = timedelta(minutes=30)


class RetentionBusy(Exception):
    """Another run is acting right now."""


class RetentionSuperseded(Exception):
    """A later run took this stale run's lock over; this one stops before its next batch."""


class RetentionFailed(Exception):
    """One or more rules failed; the others ran, and each failed run records its error."""


@dataclass(frozen=True)
class RuleKind:
    """Which rows a kind of rule selects, and from which moment their age counts."""

    # Translated: the public privacy page lists the rules in the visitor's language.
    label: str
    model: str
    # Columns (or expressions) tried in turn: the first that is not empty is the row's age.
    age: tuple[str | Subquery, ...]
    filters: Q = field(default_factory=Q)
    # Rows are people: remove them with everything the registry holds about them.
    people: bool = False
    date_only: bool = False
    # For tables the registry exempts (they hold no one's data): the category to report.
    category: str = ""


# When we last obtained a person's data (a list supplied again, a directory read again).
LATEST_PROVENANCE = Subquery(
    ContactSource.objects.filter(contact=OuterRef("pk"))
    .order_by("-collected_at")
    .values("collected_at")[:1]
)
# Which rule's period applies to a contact, by relationship (the art. 14 notice states it).
RELATIONSHIP_RULES = {
    "customer": "inactive_customers_subscribers",
    "subscriber": "inactive_customers_subscribers",
    "prospect": "inactive_prospects",
    "client_employee": "inactive_business_contacts",
    "partner_employee": "inactive_business_contacts",
}

RULE_KINDS: dict[str, RuleKind] = {
    "inactive_prospects": RuleKind(
        label=_(
            "Prospects, since their last own activity, or since we obtained their details "
            "when there was none"
        ),
        model="crm.Contact",
        age=("last_activity_at", LATEST_PROVENANCE, "created_at"),
        filters=Q(relationship="prospect"),
        people=True,
    ),
    "inactive_business_contacts": RuleKind(
        label=_(
            "Employees of clients and partners, since their last own activity, or since we "
            "obtained their details when there was none"
        ),
        model="crm.Contact",
        age=("last_activity_at", LATEST_PROVENANCE, "created_at"),
        filters=Q(relationship__in=["client_employee", "partner_employee"]),
        people=True,
    ),
    "inactive_customers_subscribers": RuleKind(
        label=_("Customers and subscribers, since their last own activity (or creation)"),
        model="crm.Contact",
        age=("last_activity_at", "created_at"),
        filters=Q(relationship__in=["customer", "subscriber"]),
        people=True,
    ),
    "contact_form_answered": RuleKind(
        label=_("Contact-form messages, since they were answered"),
        model="crm.Interaction",
        age=("answered_at",),
        filters=Q(kind="contact_form", answered_at__isnull=False),
    ),
    "contact_form_unanswered": RuleKind(
        label=_("Contact-form messages never marked answered, since they arrived"),
        model="crm.Interaction",
        age=("occurred_at",),
        filters=Q(kind="contact_form", answered_at__isnull=True),
    ),
    "unverified_requests": RuleKind(
        label=_("Data-subject requests never verified, since they arrived"),
        model="privacy.SubjectRequest",
        age=("received_at",),
        filters=Q(status__in=[SubjectRequest.Status.UNVERIFIED, SubjectRequest.Status.EXPIRED]),
    ),
    "completed_requests": RuleKind(
        label=_("Answered data-subject requests, since they were closed"),
        model="privacy.SubjectRequest",
        age=("completed_at",),
        filters=Q(status__in=[SubjectRequest.Status.COMPLETED, SubjectRequest.Status.REJECTED]),
    ),
    "expired_exports": RuleKind(
        label=_("Access and portability exports, since their link expired"),
        model="privacy.SubjectExport",
        age=("expires_at",),
    ),
    "audit_events": RuleKind(
        label=_("Audit trail entries, since they were written"),
        model="core.AuditEvent",
        age=("at",),
        category="audit_trail",
    ),
    "import_reports": RuleKind(
        label=_("Rejected rows of imported lists (the import report), since they were refused"),
        model="crm.ImportRejection",
        age=("created_at",),
    ),
    "tracking_events": RuleKind(
        label=_("Campaign opens and clicks, since they happened"),
        model="campaigns.MessageEvent",
        age=("occurred_at",),
        filters=Q(kind__in=["opened", "clicked"]),
    ),
    "web_visits": RuleKind(
        label=_("Web pages viewed and files downloaded after a click, since the visit"),
        model="campaigns.WebVisit",
        age=("occurred_at",),
    ),
    "invoices": RuleKind(
        label=_("Invoices, since their due date"),
        model="crm.Invoice",
        age=("due_on",),
        date_only=True,
    ),
}


def rule_kind(rule: RetentionRule) -> RuleKind:
    """Return the kind of a rule; an unknown kind is a configuration error."""
    try:
        return RULE_KINDS[rule.kind]
    except KeyError as exc:
        raise ValueError(
            f"Retention rule {rule.kind!r} has no kind in privacy.deletion.retention."
        ) from exc


def category(rule: RetentionRule) -> str:
    """Return the registry data category the rule's rows belong to."""
    kind = rule_kind(rule)
    return kind.category or registry.get(apps.get_model(kind.model)).category


def expired(rule: RetentionRule, *, now: datetime) -> tuple[QuerySet, QuerySet]:
    """Return (rows to act on, rows skipped because their person's processing is restricted)."""
    kind = rule_kind(rule)
    model = apps.get_model(kind.model)
    declaration = registry.get(model)
    cutoff: datetime | object = now - timedelta(days=rule.period_days)
    if kind.date_only:
        cutoff = timezone.localtime(cutoff).date()
    age = F(kind.age[0])
    if len(kind.age) > 1:
        # Every kind with several ages counts from moments; say so for the subquery too.
        age = Coalesce(*kind.age, output_field=models.DateTimeField())
    due = Q(kind.filters, aged_from__lt=cutoff)
    anonymise = rule.action == RetentionRule.Action.ANONYMISE
    if kind.people:
        if anonymise:
            done: Q | None = Q(anonymised_at__isnull=False)
        else:
            # Someone anonymised because a legal hold kept their records (by this rule or by an
            # erasure) goes at the first run after the hold ends, whatever their age or role.
            due |= Q(anonymised_at__isnull=False)
            done = _on_hold_already(timezone.localdate(now))
        restricted = Q(is_restricted=True)
    elif declaration is None:
        # An exempt table (the audit trail): ids only, nobody's processing to restrict.
        if anonymise:
            raise ValueError(f"Rows of {kind.model} hold no personal fields: use Delete.")
        done, restricted = None, Q(pk__in=[])
    else:
        done = _blank_already(model, declaration.fields) if anonymise else None
        subject = declaration.subject
        restricted = Q(**{f"{subject}__is_restricted": True}) if subject else Q(pk__in=[])
    rows = model._base_manager.annotate(aged_from=age).filter(due)
    if done is not None:
        rows = rows.exclude(done)
    return rows.exclude(restricted), rows.filter(restricted)


def _on_hold_already(today: date) -> Q:
    """People already anonymised whose held records are still held: nothing more to do yet."""
    invoice = apps.get_model("crm", "Invoice")
    held = invoice.objects.filter(contact=OuterRef("pk"), hold_until__gte=today)
    return Q(anonymised_at__isnull=False) & Q(Exists(held))


def _blank_already(model: type[models.Model], fields: tuple[str, ...]) -> Q | None:
    """Rows whose personal fields are all blank: anonymising them again would change nothing."""
    if not fields:
        return None
    opts = model._meta
    return Q(**{name: None if opts.get_field(name).null else "" for name in fields})


def preview(rule: RetentionRule, *, now: datetime | None = None) -> dict[str, int]:
    """Count the rows the rule would take now and within the next 30 days, and those skipped."""
    now = now or timezone.now()
    due_now, restricted = expired(rule, now=now)
    soon, _ = expired(rule, now=now + timedelta(days=30))
    return {"now": due_now.count(), "next_30_days": soon.count(), "restricted": restricted.count()}


def run_rule(
    rule: RetentionRule,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[RetentionRun], None] | None = None,
) -> RetentionRun:
    """Run one rule in bounded batches and return its run; raise RetentionBusy if one acts.

    `progress` is called with the run after each committed batch (a command's progress bar).
    """
    now = now or timezone.now()
    run = _start(rule, dry_run=dry_run, now=now)
    try:
        rows, restricted = expired(rule, now=now)
        run.skipped_restricted = restricted.count()
        if dry_run:
            run.selected = rows.count()
        else:
            _act_in_batches(rule, run, rows, batch_size=batch_size, now=now, progress=progress)
        run.status = RetentionRun.Status.COMPLETED
    except RetentionSuperseded:
        run.status = RetentionRun.Status.INTERRUPTED
        logger.warning("retention rule %s: a later run took over; this one stopped", rule.kind)
        raise
    except Exception as exc:
        run.status = RetentionRun.Status.FAILED
        run.error = f"{type(exc).__name__}"[:300]
        logger.exception("retention rule %s failed after %d batches", rule.kind, run.batches)
        raise
    finally:
        run.finished_at = timezone.now()
        run.lock = None
        run.save()
    logger.info(
        "retention rule %s: %d acted, %d restricted skipped, %d held, dry_run=%s",
        rule.kind,
        run.acted,
        run.skipped_restricted,
        run.held,
        dry_run,
    )
    return run


def _start(rule: RetentionRule, *, dry_run: bool, now: datetime) -> RetentionRun:
    """Record a new run, taking the lock unless it is a dry run."""
    RetentionRun.objects.filter(
        status=RetentionRun.Status.RUNNING, heartbeat_at__lt=timezone.now() - STALE_AFTER
    ).update(status=RetentionRun.Status.INTERRUPTED, lock=None)
    try:
        with transaction.atomic():
            return RetentionRun.objects.create(
                rule=rule,
                dry_run=dry_run,
                cutoff=now - timedelta(days=rule.period_days),
                lock=None if dry_run else True,
            )
    except IntegrityError as exc:
        raise RetentionBusy("Another retention run is acting; try again when it ends.") from exc


def _act_in_batches(
    rule: RetentionRule,
    run: RetentionRun,
    rows: QuerySet,
    *,
    batch_size: int,
    now: datetime,
    progress: Callable[[RetentionRun], None] | None = None,
):
    kind = rule_kind(rule)
    model = rows.model
    declaration = registry.get(model)
    label = model._meta.label_lower
    anonymise = rule.action == RetentionRule.Action.ANONYMISE
    receipt = Counter(run.receipt)
    last_pk = None
    while True:
        # Keyset batches: rows anonymised or held stay in the table, and are never read twice.
        page = rows if last_pk is None else rows.filter(pk__gt=last_pk)
        batch = list(page.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not batch:
            return
        last_pk = batch[-1]
        with transaction.atomic():
            # The fence: a run presumed dead and taken over must not act beside its successor.
            # Locking our own row makes a takeover wait for this batch, or this batch see it.
            if not RetentionRun.objects.select_for_update().filter(pk=run.pk, lock=True).exists():
                raise RetentionSuperseded(f"Run {run.pk} was taken over by a later run.")
            if kind.people and not anonymise:
                outcome = remove_subjects(batch, now=now)
                receipt.update(outcome.removed)
                run.held += len(outcome.held_contacts)
            elif anonymise:
                chosen = model._base_manager.filter(pk__any_of=batch)
                receipt[label] += Anonymise(fields=declaration.fields).apply(chosen)
                if kind.people:
                    chosen.update(anonymised_at=now)
            else:
                receipt[label] += _delete(model, batch)
            run.acted += len(batch)
            run.selected += len(batch)
            run.batches += 1
            run.receipt = dict(receipt)
            run.heartbeat_at = timezone.now()
            run.save(
                update_fields=["acted", "selected", "batches", "receipt", "held", "heartbeat_at"]
            )
        if progress is not None:
            progress(run)


def _delete(model: type[models.Model], pks: list) -> int:
    """Delete the rows in one statement, first letting go of what merely refers to them.

    References declared SET_NULL are cleared and plain many-to-many links removed, as Django's own
    delete would do (a closed request's certificate and exports stay, unlinked); any other row
    still pointing here fails the batch, so a dependent the registry misses never leaves orphans.
    """
    for relation in model._meta.related_objects:
        if relation.many_to_many and relation.through._meta.auto_created:
            column = relation.field.m2m_reverse_field_name()
            relation.through._base_manager.filter(**{f"{column}__any_of": pks}).delete()
        elif relation.on_delete is models.SET_NULL:
            name = relation.field.name
            relation.related_model._base_manager.filter(**{f"{name}__any_of": pks}).update(
                **{name: None}
            )
    for m2m in model._meta.many_to_many:
        through = m2m.remote_field.through
        if through._meta.auto_created:
            through._base_manager.filter(**{f"{m2m.m2m_field_name()}__any_of": pks}).delete()
    return Delete().apply(model._base_manager.filter(pk__any_of=pks))


def run_rule_on_demand(*, rule: RetentionRule, actor, dry_run: bool) -> RetentionRun:
    """Run one rule now at a member of staff's request, a dry run or for real, audited (counts)."""
    run = run_rule(rule, dry_run=dry_run)
    record_audit(
        actor=actor,
        action=AuditEvent.Action.VIEWED if dry_run else AuditEvent.Action.DELETED,
        obj=rule,
        channel=AuditEvent.Channel.ADMIN,
        details={
            "retention_run": run.pk,
            "dry_run": dry_run,
            "selected" if dry_run else "acted": run.selected if dry_run else run.acted,
        },
    )
    return run


def run_all(
    *,
    dry_run: bool = False,
    only: str | None = None,
    progress: Callable[[RetentionRun], None] | None = None,
) -> list[RetentionRun]:
    """Run every active rule (or the one named); a failing rule does not hold back the others."""
    rules = RetentionRule.objects.filter(is_active=True)
    if only:
        rules = RetentionRule.objects.filter(kind=only)
        if not rules.exists():
            raise ValueError(f"No retention rule {only!r}; see `manage.py purge_expired --list`.")
    runs, failed = [], []
    for rule in rules:
        try:
            runs.append(run_rule(rule, dry_run=dry_run, progress=progress))
        except (RetentionBusy, RetentionSuperseded):
            raise
        except Exception:  # run_rule recorded and logged it; the next rule still runs tonight
            failed.append(rule.kind)
    if failed:
        raise RetentionFailed(
            f"Retention rules failed: {', '.join(failed)}; the other rules ran. "
            "Each failed run is listed with its error under Retention runs."
        )
    return runs


@dataclass(frozen=True)
class ScheduleEntry:
    """One line of the retention schedule, as the privacy statement and docs show it."""

    what: str
    category: str
    period: str
    action: str
    why: str


def schedule() -> list[ScheduleEntry]:
    """Return the active rules as the public retention schedule (privacy_check flags the rest)."""
    entries = []
    for rule in RetentionRule.objects.filter(is_active=True, kind__in=RULE_KINDS).order_by("kind"):
        days = rule.period_days
        # Read on the public privacy page, so in the visitor's language (English in docs/).
        period = (
            gettext("not at all after that")
            if days == 0
            else ngettext("%(n)s year", "%(n)s years", days // 365) % {"n": days // 365}
            if days % 365 == 0
            else ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
        )
        entries.append(
            ScheduleEntry(
                what=str(rule_kind(rule).label),
                category=category(rule),
                period=period,
                action=rule.get_action_display().lower(),
                why=translated(rule, "note"),
            )
        )
    return entries


def schedule_markdown() -> str:
    """Return the retention schedule as a Markdown table, in English like the rest of docs/."""
    lines = ["| data | category | kept for | then | why |", "|---|---|---|---|---|"]
    with translation.override("en"):
        lines += [
            f"| {e.what} | {e.category} | {e.period} | {e.action} | {e.why} |" for e in schedule()
        ]
    return "\n".join(lines)


def contact_retention_days(relationship: str) -> int | None:
    """Return the days an inactive contact of this relationship is kept, if an active rule says."""
    kind = RELATIONSHIP_RULES.get(relationship)
    rule = RetentionRule.objects.filter(kind=kind, is_active=True).first() if kind else None
    return rule.period_days if rule else None
