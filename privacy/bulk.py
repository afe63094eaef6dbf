"""Bulk actions on selected contacts: one service call, audited, resumable, by role.

Staff select contacts on the list and ask for one change to all of them: add or remove tags, add
to or remove from a static list, set the relationship or the owner, record a consent given offline
(the evidence once, a ledger event each), or, for privacy officers only, erase them with the
reason. `start_bulk_action` checks the role and the parameters before anything is written (a
refusal changes nothing), stores the selection as ids, and runs it at once when it is small, else
on the worker (`privacy.tasks.run_bulk_action`) with a progress page. Each contact is checked
again when its turn comes: the selection may have changed meanwhile (merged into another record,
erased, restricted by an officer, opted out), and those are skipped and counted by reason, never
acted on. The run goes in batches of `BATCH_SIZE`, one transaction and one audit event (count and
ids) each, so a killed worker resumes where the last batch committed, and running it twice does
nothing twice.
"""

from collections import Counter
from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.actors import Actor
from core.audit import record_many_audit
from core.models import AuditEvent
from core.outbox import enqueue_on_commit
from crm.models import BulkAction, Contact, ContactList, Tag
from privacy.consent.ledger import record_consent
from privacy.deletion.erasure import erase_subject
from privacy.models import ConsentEvent, Purpose

# Up to this many contacts the change is made while staff wait; more go to the worker.
RUN_NOW_LIMIT = 2000
BATCH_SIZE = 500
Kind = BulkAction.Kind
# The permission each kind needs, beyond seeing the contacts.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    Kind.ADD_TAGS: ("crm.bulk_change_contacts",),
    Kind.REMOVE_TAGS: ("crm.bulk_change_contacts",),
    Kind.SET_RELATIONSHIP: ("crm.bulk_change_contacts",),
    Kind.SET_OWNER: ("crm.bulk_change_contacts",),
    Kind.ADD_TO_LIST: ("crm.bulk_change_contacts",),
    Kind.REMOVE_FROM_LIST: ("crm.bulk_change_contacts",),
    Kind.RECORD_CONSENT: ("crm.bulk_change_contacts", "privacy.add_consentevent"),
    # Erasure is the privacy officer's decision.
    Kind.START_ERASURE: ("privacy.change_subjectrequest", "privacy.add_subjectrequest"),
}
OFFLINE_CHANNELS = (ConsentEvent.Channel.STAFF_PAPER, ConsentEvent.Channel.STAFF_PHONE)
# What the timeline says a bulk change changed.
FIELDS_CHANGED = {
    Kind.ADD_TAGS: ["tags"],
    Kind.REMOVE_TAGS: ["tags"],
    Kind.SET_RELATIONSHIP: ["relationship"],
    Kind.SET_OWNER: ["owner"],
    Kind.ADD_TO_LIST: ["lists"],
    Kind.REMOVE_FROM_LIST: ["lists"],
    Kind.RECORD_CONSENT: ["consent"],
}
SKIP_GONE = "no longer exists"
SKIP_MERGED = "merged into another record"
SKIP_ERASED = "erased"
SKIP_RESTRICTED = "processing restricted (art. 18)"
SKIP_OPTED_OUT = "opted out of all contact"


def may_run(user: Actor, kind: str) -> bool:
    """Say whether this member of staff may run this kind of bulk action."""
    return bool(user and user.is_authenticated and user.has_perms(PERMISSIONS[kind]))


def start_bulk_action(
    *, kind: str, contacts: QuerySet[Contact] | Iterable[int], params: dict, actor: Actor
) -> BulkAction:
    """Check the role and the parameters, store the selection, and run it now or on the worker.

    Raise PermissionDenied for a role that may not, ValidationError (nothing written) for bad
    parameters or an empty selection.
    """
    if kind not in PERMISSIONS:
        raise ValidationError({"kind": f"Unknown bulk action {kind!r}."})
    if not may_run(actor, kind):
        raise PermissionDenied(f"Your role may not {Kind(kind).label.lower()} in bulk.")
    params = _clean_params(kind, params)
    if isinstance(contacts, QuerySet):
        ids = list(contacts.order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted(set(contacts))
    if not ids:
        raise ValidationError("Select at least one contact.")
    with transaction.atomic():
        action = BulkAction.objects.create(
            kind=kind, params=params, contact_ids=ids, total=len(ids), created_by=actor
        )
        if len(ids) > RUN_NOW_LIMIT:
            enqueue_on_commit("privacy.tasks.run_bulk_action", action_id=action.pk)
    if len(ids) <= RUN_NOW_LIMIT:
        run_bulk_action(action_id=action.pk)
        action.refresh_from_db()
    return action


def _clean_params(kind: str, params: dict) -> dict:
    """Return the parameters the kind needs, normalised; raise ValidationError per field."""
    if kind in (Kind.ADD_TAGS, Kind.REMOVE_TAGS):
        names = sorted({n.strip() for n in params.get("tags", []) if n and n.strip()})
        if not names:
            raise ValidationError({"tags": "Name at least one tag."})
        too_long = [n for n in names if len(n) > Tag._meta.get_field("name").max_length]
        if too_long:
            raise ValidationError({"tags": f"A tag is at most 50 characters: {too_long[0]!r}."})
        return {"tags": names}
    if kind == Kind.SET_RELATIONSHIP:
        if params.get("relationship") not in Contact.Relationship.values:
            raise ValidationError({"relationship": "Choose one of the relationships offered."})
        return {"relationship": params["relationship"]}
    if kind in (Kind.ADD_TO_LIST, Kind.REMOVE_FROM_LIST):
        chosen = params.get("list")
        if not isinstance(chosen, int) or not ContactList.objects.filter(pk=chosen).exists():
            raise ValidationError({"list": "Choose one of the static lists."})
        return {"list": chosen}
    if kind == Kind.SET_OWNER:
        owner = params.get("owner")
        staff = get_user_model().objects.filter(is_staff=True, is_active=True)
        if not isinstance(owner, int) or not staff.filter(pk=owner).exists():
            raise ValidationError({"owner": "Choose an active member of staff."})
        return {"owner": owner}
    if kind == Kind.RECORD_CONSENT:
        return _clean_consent(params)
    reason = (params.get("reason") or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why these people are erased: it is kept on record."})
    return {"reason": reason}


def _clean_consent(params: dict) -> dict:
    """Check a consent given offline: an active purpose, the words, the channel, the evidence."""
    errors = {}
    purpose = Purpose.objects.filter(code=params.get("purpose"), is_active=True).first()
    if purpose is None:
        errors["purpose"] = "Choose a purpose still in use."
    if params.get("action") not in ConsentEvent.Action.values:
        errors["action"] = "Choose granted, refused or withdrawn."
    if params.get("channel") not in OFFLINE_CHANNELS:
        errors["channel"] = "Choose on paper or on the phone."
    for name, why in (
        ("wording", "The exact sentence read or printed is the proof."),
        ("evidence", "Say who gave it, when, and where the signed forms or call notes are filed."),
    ):
        if not (params.get(name) or "").strip():
            errors[name] = why
    if errors:
        raise ValidationError(errors)
    return {
        "purpose": purpose.code,
        "action": params["action"],
        "channel": params["channel"],
        "wording": params["wording"].strip(),
        "evidence": params["evidence"].strip(),
    }


def run_bulk_action(*, action_id: int) -> BulkAction:
    """Carry on with the action from the last committed batch until every id is handled."""
    while True:
        with transaction.atomic():
            action = BulkAction.objects.select_for_update().get(pk=action_id)
            if action.done >= action.total:
                if action.finished_at is None:
                    action.finished_at = timezone.now()
                    action.save(update_fields=["finished_at"])
                return action
            batch = action.contact_ids[action.done : action.done + BATCH_SIZE]
            acted, skipped = _apply(action, batch)
            action.done += len(batch)
            action.acted += len(acted)
            action.skipped = dict(Counter(action.skipped) + skipped)
            action.save(update_fields=["done", "acted", "skipped"])
            record_many_audit(
                actor=action.created_by,
                action=_audit_action(action.kind),
                model=Contact,
                ids=acted,
                channel="admin",
                reason=action.params.get("reason", ""),
                details={
                    "bulk_action": action.pk,
                    "kind": action.kind,
                    "fields": FIELDS_CHANGED.get(action.kind, []),
                    "skipped": dict(skipped),
                },
            )


def _audit_action(kind: str) -> str:
    return AuditEvent.Action.ERASED if kind == Kind.START_ERASURE else AuditEvent.Action.CHANGED


def _apply(action: BulkAction, ids: list[int]) -> tuple[list[int], Counter]:
    """Apply the action to the contacts of one batch still allowed; count the rest by reason."""
    found = Contact.objects.in_bulk(ids)
    skipped: Counter = Counter()
    allowed = []
    for pk in ids:
        reason = _skip_reason(found.get(pk), action.kind)
        if reason:
            skipped[reason] += 1
        else:
            allowed.append(found[pk])
    acted = APPLY[action.kind](action, allowed, skipped)
    return acted, skipped


def _skip_reason(contact: Contact | None, kind: str) -> str:
    """Say why this contact must be left out now, or ''."""
    if contact is None:
        return SKIP_GONE
    if contact.merged_into_id is not None:
        return SKIP_MERGED
    if contact.anonymised_at is not None:
        return SKIP_ERASED
    if contact.is_restricted and kind != Kind.START_ERASURE:
        return SKIP_RESTRICTED
    return ""


def _add_tags(action: BulkAction, contacts: list[Contact], skipped: Counter) -> list[int]:
    tags = [Tag.objects.get_or_create(name=name)[0] for name in action.params["tags"]]
    through = Contact.tags.through
    through.objects.bulk_create(
        [through(contact_id=c.pk, tag_id=t.pk) for c in contacts for t in tags],
        ignore_conflicts=True,
    )
    return [c.pk for c in contacts]


def _remove_tags(action: BulkAction, contacts: list[Contact], skipped: Counter) -> list[int]:
    Contact.tags.through.objects.filter(
        contact_id__in=[c.pk for c in contacts], tag__name__in=action.params["tags"]
    ).delete()
    return [c.pk for c in contacts]


def _set_relationship(action: BulkAction, contacts: list[Contact], skipped: Counter) -> list[int]:
    ids = [c.pk for c in contacts]
    Contact.objects.filter(pk__in=ids).update(
        relationship=action.params["relationship"], updated_at=timezone.now()
    )
    return ids


def _set_owner(action: BulkAction, contacts: list[Contact], skipped: Counter) -> list[int]:
    ids = [c.pk for c in contacts]
    Contact.objects.filter(pk__in=ids).update(
        owner_id=action.params["owner"], updated_at=timezone.now()
    )
    return ids


def _add_to_list(action: BulkAction, contacts: list[Contact], skipped: Counter) -> list[int]:
    through = ContactList.contacts.through
    through.objects.bulk_create(
        [through(contactlist_id=action.params["list"], contact_id=c.pk) for c in contacts],
        ignore_conflicts=True,
    )
    return [c.pk for c in contacts]


def _remove_from_list(action: BulkAction, contacts: list[Contact], skipped: Counter) -> list[int]:
    ContactList.contacts.through.objects.filter(
        contactlist_id=action.params["list"], contact_id__in=[c.pk for c in contacts]
    ).delete()
    return [c.pk for c in contacts]


def _record_consent(action: BulkAction, contacts: list[Contact], skipped: Counter) -> list[int]:
    params = action.params
    purpose = Purpose.objects.get(code=params["purpose"])
    acted = []
    for contact in contacts:
        try:
            record_consent(
                contact=contact,
                purpose=purpose,
                action=params["action"],
                wording=params["wording"],
                channel=params["channel"],
                evidence=params["evidence"],
                recorded_by=action.created_by,
                # Once per contact, however often the batch runs.
                idempotency_key=f"bulk-{action.pk}-{contact.pk}",
            )
        except ValidationError:
            skipped[SKIP_OPTED_OUT] += 1
        else:
            acted.append(contact.pk)
    return acted


def _erase(action: BulkAction, contacts: list[Contact], skipped: Counter) -> list[int]:
    for contact in contacts:
        erase_subject(contact=contact, requested_by=action.created_by, channel="admin")
    return [c.pk for c in contacts]


APPLY: dict[str, Callable[[BulkAction, list[Contact], Counter], list[int]]] = {
    Kind.ADD_TAGS: _add_tags,
    Kind.REMOVE_TAGS: _remove_tags,
    Kind.SET_RELATIONSHIP: _set_relationship,
    Kind.SET_OWNER: _set_owner,
    Kind.ADD_TO_LIST: _add_to_list,
    Kind.REMOVE_FROM_LIST: _remove_from_list,
    Kind.RECORD_CONSENT: _record_consent,
    Kind.START_ERASURE: _erase,
}
