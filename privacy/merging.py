"""Merge two records of the same person into one, without losing proof (GDPR art. 5(1)(d), 7(1)).

One record per person keeps the data accurate; the merge must not cost the proof behind it. So it
moves and never rewrites: every row of every model declared in the personal-data registry that
points at the duplicate is re-pointed at the kept record (a model declared later moves without new
code here). Where the kept record already holds the same fact (a unique constraint: the same
campaign's message, the same notice, the same provenance), the duplicate's dependent rows join the
kept one and the duplicate's copy goes the way its declaration's erasure says.

The consent ledger stays append-only: the duplicate's events keep their proof (wording, notice,
channel, time, metadata) and change only whose they are. A withdrawal on either record wins over a
grant on the other, even a later one: it is carried into the ledger as a new event on the kept
record that quotes the original and names it, so rebuilding the states from the ledger gives the
same answer. The suppressions of both addresses stay in force and are extended to the address
kept. The duplicate keeps its id and `merged_into`, nothing else, so old links and the audit trail
still lead to the person; an erasure of the kept record removes it too.

A record restricted by an officer (art. 18) or holding invoices under their legal hold is merged
only by a privacy officer who writes the decision down; it is kept in the audit trail.
`merge_contacts` is the one way in (admin, API), and the place to hook what should follow a merge.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from core.actors import Actor
from core.audit import record_audit
from core.events import EventKind, emit_event
from core.hashing import stored_email_hash
from core.models import AuditEvent
from core.registry import Anonymise, Delete, registry
from crm.models import Contact, Suppression
from crm.suppression import suppress
from privacy.consent.ledger import rebuild_states_of
from privacy.models import ConsentEvent, ConsentState

# The fields staff pick from either record on the merge screen.
MERGEABLE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "job_title",
    "company",
    "country",
    "language",
    "birth_date",
    "relationship",
    "owner",
)
# Who may decide to merge a restricted record or one under a legal hold.
OFFICER_PERMISSION = "privacy.change_subjectrequest"
# The worse e-mail status wins: a bounce or complaint of either address is kept.
EMAIL_STATUS_RANK = {
    Contact.EmailStatus.VALID: 0,
    Contact.EmailStatus.BOUNCED: 1,
    Contact.EmailStatus.COMPLAINED: 2,
}


@dataclass(frozen=True)
class MergeResult:
    """What a merge did: the record kept, the one merged into it, rows moved per model."""

    kept: Contact
    merged_id: int
    moved: dict[str, int]
    withdrawals_carried: int


def merge_refusals(
    *, keep: Contact, duplicate: Contact, actor: Actor, officer_decision: str = ""
) -> list[str]:
    """List why these two records may not be merged by this actor now; empty when they may."""
    if keep.pk == duplicate.pk:
        return ["A contact cannot be merged with itself."]
    reasons = []
    for contact in (keep, duplicate):
        if contact.merged_into_id is not None:
            reasons.append(
                f"Contact #{contact.pk} was already merged into contact #{contact.merged_into_id}."
            )
        elif contact.anonymised_at is not None:
            reasons.append(f"Contact #{contact.pk} was erased; only its legal hold keeps the row.")
    if reasons:
        return reasons
    officer = actor is not None and actor.has_perm(OFFICER_PERMISSION)
    for contact in (keep, duplicate):
        frozen = _frozen_because(contact)
        if frozen and not (officer and officer_decision.strip()):
            reasons.append(
                f"Contact #{contact.pk} is {frozen}: only a privacy officer may merge it, "
                "with the decision written down."
            )
    return reasons


def _frozen_because(contact: Contact) -> str:
    """Say why an officer must decide on merging this record, or '' when no one need."""
    held = contact.invoices.filter(hold_until__gte=timezone.localdate()).order_by("-hold_until")
    last = held.first()
    reasons = []
    if contact.is_restricted:
        reasons.append("restricted (art. 18)")
    if last is not None:
        reasons.append(f"under a legal hold (invoices kept until {last.hold_until:%Y-%m-%d})")
    return " and ".join(reasons)


def merge_contacts(
    *,
    keep: Contact,
    duplicate: Contact,
    take: Iterable[str] = (),
    actor: Actor,
    channel: str,
    officer_decision: str = "",
) -> MergeResult:
    """Merge `duplicate` into `keep`, taking the fields in `take` from the duplicate; audited.

    Raise ValidationError with the reason, changing nothing, when the merge is refused.
    """
    take = tuple(take)
    unknown = sorted(set(take) - set(MERGEABLE_FIELDS))
    if unknown:
        raise ValidationError({"take": f"These fields cannot be taken: {', '.join(unknown)}."})
    with transaction.atomic():
        locked = Contact.objects.select_for_update().in_bulk([keep.pk, duplicate.pk])
        keep, duplicate = locked.get(keep.pk, keep), locked.get(duplicate.pk, duplicate)
        refusals = merge_refusals(
            keep=keep, duplicate=duplicate, actor=actor, officer_decision=officer_decision
        )
        if refusals:
            raise ValidationError(refusals)
        addresses = {a for a in (keep.email, duplicate.email) if a}
        withdrawn = _withdrawals(keep, duplicate)
        _combine_fields(keep, duplicate, take)
        moved = move_related_rows(keep=keep, duplicate=duplicate)
        _retire(duplicate, keep=keep)
        keep.save()
        _join_many_to_many(keep, duplicate)
        carried = _carry_withdrawals(keep, duplicate, withdrawn, actor=actor)
        _extend_suppressions(addresses, keep.email)
        details = {"merged": duplicate.pk, "into": keep.pk, "moved": moved}
        details["withdrawals_carried"] = carried
        for obj in (keep, duplicate):
            record_audit(
                actor=actor,
                action=AuditEvent.Action.CHANGED,
                obj=obj,
                channel=channel,
                reason=officer_decision.strip(),
                fields=take if obj is keep else (),
                details=details,
            )
        emit_event(EventKind.CONTACT_MERGED, contact_id=duplicate.pk, into=keep.pk, fields=take)
    return MergeResult(kept=keep, merged_id=duplicate.pk, moved=moved, withdrawals_carried=carried)


def _join_many_to_many(keep: Contact, duplicate: Contact) -> None:
    """Give the kept record the duplicate's plain many-to-many links (tags, static lists)."""
    links = [getattr(keep, m2m.name) for m2m in Contact._meta.many_to_many]
    theirs = [getattr(duplicate, m2m.name) for m2m in Contact._meta.many_to_many]
    for relation in Contact._meta.related_objects:
        if relation.many_to_many:
            links.append(getattr(keep, relation.get_accessor_name()))
            theirs.append(getattr(duplicate, relation.get_accessor_name()))
    for mine, other in zip(links, theirs, strict=True):
        mine.add(*other.all())
        other.clear()


def _withdrawals(*contacts: Contact) -> dict[int, ConsentEvent]:
    """Map each purpose either record has withdrawn to the withdrawal event in force."""
    states = ConsentState.objects.filter(
        contact__in=contacts, status=ConsentEvent.Action.WITHDRAW
    ).select_related("last_event")
    return {state.purpose_id: state.last_event for state in states}


def _combine_fields(keep: Contact, duplicate: Contact, take: tuple[str, ...]) -> None:
    """Set the kept record's fields: the picked ones, and the stricter of each status flag."""
    for name in take:
        setattr(keep, name, getattr(duplicate, name))
    keep.is_restricted = keep.is_restricted or duplicate.is_restricted
    keep.email_status = max(
        (keep.email_status, duplicate.email_status), key=lambda s: EMAIL_STATUS_RANK[s]
    )
    activity = [a for a in (keep.last_activity_at, duplicate.last_activity_at) if a]
    keep.last_activity_at = max(activity) if activity else None
    keep.created_at = min(keep.created_at, duplicate.created_at)


def _retire(duplicate: Contact, *, keep: Contact) -> None:
    """Blank the duplicate's personal fields and point it at the kept record (frees its address)."""
    declaration = registry.get(Contact)
    blanked = declaration.on_hold.fields if isinstance(declaration.on_hold, Anonymise) else ()
    opts = Contact._meta
    for name in blanked:
        field = opts.get_field(name)
        setattr(duplicate, field.attname, None if field.null else "")
    duplicate.merged_into, duplicate.merged_at = keep, timezone.now()
    duplicate.save()


def move_related_rows(*, keep: Contact, duplicate: Contact) -> dict[str, int]:
    """Re-point every declared model's rows of the duplicate at the kept record; count per model."""
    moved = {}
    for declaration in registry:
        model = declaration.model
        if model is Contact:
            continue
        for link in _contact_links(model):
            count = _move(model, link, keep=keep, duplicate=duplicate)
            if count:
                moved[declaration.label] = moved.get(declaration.label, 0) + count
    return moved


def _contact_links(model: type[models.Model]) -> list[models.ForeignKey]:
    """Return the model's foreign keys to Contact."""
    return _links_to(model, Contact)


def _move(
    model: type[models.Model], link: models.ForeignKey, *, keep: Contact, duplicate: Contact
) -> int:
    """Move the duplicate's rows of one model to the kept record, settling unique clashes first."""
    rows = model._base_manager.filter(**{link.name: duplicate})
    for together in _unique_with(model, link):
        same = model._base_manager.filter(
            **{link.name: keep}, **{name: OuterRef(name) for name in together}
        )
        clashing = rows.filter(models.Exists(same))
        if clashing.exists():
            _settle_clashes(model, link, clashing, keep, together)
    return rows.update(**{link.name: keep})


def _unique_with(model: type[models.Model], link: models.ForeignKey) -> list[tuple[str, ...]]:
    """Return the other fields of each unique constraint that includes the link."""
    groups = [
        tuple(c.fields) for c in model._meta.constraints if isinstance(c, models.UniqueConstraint)
    ]
    groups += [tuple(t) for t in model._meta.unique_together]
    return [tuple(f for f in g if f != link.name) for g in groups if link.name in g and len(g) > 1]


def _settle_clashes(
    model: type[models.Model],
    link: models.ForeignKey,
    clashing: models.QuerySet,
    keep: Contact,
    together: tuple[str, ...],
) -> None:
    """Hand the clashing rows' dependents to the kept record's twin row, then retire the copies."""
    ids = list(clashing.values_list("pk", flat=True))
    for declaration in registry:
        for dependent in _links_to(declaration.model, model):
            # The twin: the kept record's row with the same values as the row depended on.
            original = model._base_manager.filter(pk=OuterRef(OuterRef(dependent.attname)))
            twin = model._base_manager.filter(
                **{link.name: keep},
                **{name: Subquery(original.values(name)[:1]) for name in together},
            )
            declaration.model._base_manager.filter(**{f"{dependent.name}__in": ids}).update(
                **{dependent.name: Subquery(twin.values("pk")[:1])}
            )
    declared = registry.get(model)
    copies = model._base_manager.filter(pk__in=ids)
    if declared is not None and isinstance(declared.erasure, Anonymise):
        # Kept unlinked for true counts (a campaign's sent messages), as erasure would keep it.
        declared.erasure.apply(copies)
    else:
        Delete().apply(copies)


def _links_to(model: type[models.Model], target: type[models.Model]) -> list[models.ForeignKey]:
    """Return the model's foreign keys to `target`."""
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.ForeignKey) and f.related_model is target
    ]


def _carry_withdrawals(
    keep: Contact, duplicate: Contact, withdrawn: dict[int, ConsentEvent], *, actor: Actor
) -> int:
    """Rebuild the kept record's consent; where a withdrawal lost to a later grant, carry it."""
    rebuild_states_of([keep.pk])
    granted = set(
        ConsentState.objects.filter(
            contact=keep, purpose_id__in=withdrawn, status=ConsentEvent.Action.GRANT
        ).values_list("purpose_id", flat=True)
    )
    staff = actor if actor is not None and actor.is_authenticated else None
    now = timezone.now()
    for purpose_id in sorted(granted):
        original = withdrawn[purpose_id]
        ConsentEvent.objects.create(
            contact=keep,
            purpose_id=purpose_id,
            action=ConsentEvent.Action.WITHDRAW,
            wording=original.wording,
            notice_version=original.notice_version,
            channel=ConsentEvent.Channel.MERGE,
            occurred_at=now,
            evidence=f"Withdrawal #{original.pk} of {original.occurred_at:%Y-%m-%d %H:%M} "
            f"(record #{duplicate.pk} merged into #{keep.pk}): a withdrawal on either record wins.",
            recorded_by=staff,
        )
    if granted:
        rebuild_states_of([keep.pk])
    return len(granted)


def _extend_suppressions(addresses: set[str], kept_address: str | None) -> None:
    """Keep every suppression of either address, and put each on the address kept too."""
    if not kept_address:
        return
    for address in addresses - {kept_address}:
        in_force = Suppression.objects.filter(
            email_hash=stored_email_hash(address), lifted_at__isnull=True
        )
        for suppression in in_force:
            suppress(email=kept_address, reason=suppression.reason, client=suppression.client)
