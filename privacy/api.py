"""REST API for consent and suppression: record a decision, read the state, check an address.

Integrators push consents collected on their own sites with the wording shown and the notice
version, exactly as the public forms record them; the ledger and its derived state are written by
`privacy.consent.ledger.record_consent` only.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import CodeRelatedField, StaffModelPermissions
from core.normalisation import normalise_email
from core.ratelimit import client_address, retry_after
from crm.contacts import record_contact_view
from crm.models import Client, Contact, Suppression
from crm.suppression import may_contact
from privacy.accountability.recipients import record_disclosure
from privacy.consent.ledger import RequestMetadata, record_consent
from privacy.merging import MERGEABLE_FIELDS, merge_contacts
from privacy.models import (
    ConsentEvent,
    ConsentState,
    NoticeVersion,
    Processor,
    Purpose,
    RecipientBatch,
    SubjectRequest,
)
from privacy.requests.subject_requests import RateLimited, submit_request


class ConsentInput(serializers.Serializer):
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, help_text="The contact's id, or give email."
    )
    email = serializers.CharField(required=False, help_text="The contact's e-mail address.")
    purpose = CodeRelatedField(
        slug_field="code", queryset=Purpose.objects.all(), help_text="A purpose code."
    )
    action = serializers.ChoiceField(choices=ConsentEvent.Action.choices)
    wording = serializers.CharField(help_text="The exact text the person saw.")
    notice_version = CodeRelatedField(
        slug_field="version",
        queryset=NoticeVersion.objects.filter(published_at__isnull=False),
        required=False,
        allow_null=True,
        help_text="The privacy-statement version shown; default: the one in force.",
    )
    occurred_at = serializers.DateTimeField(
        required=False,
        help_text="When the person decided (default now); never in the future.",
    )
    backdate_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Why a decision dated earlier than now is recorded late.",
    )
    user_agent = serializers.CharField(required=False, allow_blank=True, default="", max_length=400)
    language = serializers.ChoiceField(
        # The contacts' own choice set: one enum in the schema for both.
        choices=Contact._meta.get_field("language").choices,
        required=False,
        default="en",
        help_text="The language the wording was shown in.",
    )
    idempotency_key = serializers.CharField(
        required=False, max_length=64, help_text="Send the same key again and nothing is added."
    )

    def validate(self, data):
        if "contact" in data:
            return data
        if not data.get("email"):
            raise serializers.ValidationError({"contact": "Give the contact's id or e-mail."})
        try:
            address = normalise_email(data["email"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"email": "Enter a valid e-mail address."}) from exc
        contact = Contact.objects.filter(email=address).first()
        if contact is None:
            raise serializers.ValidationError({"email": "No contact has this e-mail address."})
        data["contact"] = contact
        return data


class ConsentEventOutput(serializers.ModelSerializer):
    purpose = serializers.SlugRelatedField(slug_field="code", read_only=True)
    notice_version = serializers.SlugRelatedField(slug_field="version", read_only=True)

    class Meta:
        model = ConsentEvent
        fields = (
            "id",
            "contact",
            "purpose",
            "action",
            "wording",
            "notice_version",
            "channel",
            "occurred_at",
            "recorded_at",
            "backdate_reason",
            "language",
        )


class ConsentStateOutput(serializers.ModelSerializer):
    purpose = serializers.SlugRelatedField(slug_field="code", read_only=True)
    proof = ConsentEventOutput(source="last_event", read_only=True)

    class Meta:
        model = ConsentState
        fields = ("purpose", "status", "since", "proof")


class SuppressionCheckInput(serializers.Serializer):
    email = serializers.CharField()
    client = serializers.PrimaryKeyRelatedField(
        queryset=Client.objects.all(),
        required=False,
        allow_null=True,
        help_text="The sender; empty for us.",
    )


class SuppressionCheckOutput(serializers.Serializer):
    may_contact = serializers.BooleanField()


class ConsentCreateView(APIView):
    """Record a consent decision with its proof; a repeated idempotency key adds nothing."""

    queryset = ConsentEvent.objects.none()

    @extend_schema(
        request=ConsentInput, responses={201: ConsentEventOutput, 200: ConsentEventOutput}
    )
    def post(self, request):
        payload = ConsentInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        event, created = record_consent(
            contact=data["contact"],
            purpose=data["purpose"],
            action=data["action"],
            wording=data["wording"],
            channel=ConsentEvent.Channel.API,
            notice_version=data.get("notice_version"),
            metadata=RequestMetadata(user_agent=data["user_agent"]),
            recorded_by=request.user,
            occurred_at=data.get("occurred_at"),
            backdate_reason=data["backdate_reason"],
            language=data["language"],
            idempotency_key=data.get("idempotency_key"),
        )
        return Response(
            ConsentEventOutput(event).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ContactConsentsView(APIView):
    """A contact's current consent per purpose, each with the event that proves it."""

    queryset = ConsentState.objects.none()

    @extend_schema(responses=ConsentStateOutput(many=True))
    def get(self, request, pk: int):
        contact = get_object_or_404(Contact, pk=pk)
        record_contact_view(contact=contact, actor=request.user, channel="api")
        states = ConsentState.objects.filter(contact=contact).select_related(
            "purpose", "last_event__purpose", "last_event__notice_version"
        )
        return Response(ConsentStateOutput(states, many=True).data)


class ReadWithPostPermissions(StaffModelPermissions):
    """A POST that only reads (to keep an address out of URLs) needs the view permission."""

    perms_map = {**StaffModelPermissions.perms_map, "POST": ["%(app_label)s.view_%(model_name)s"]}


class SuppressionCheckView(APIView):
    """Whether an address may be contacted by a sender."""

    queryset = Suppression.objects.none()
    permission_classes = [ReadWithPostPermissions]

    @extend_schema(request=SuppressionCheckInput, responses=SuppressionCheckOutput)
    def post(self, request):
        payload = SuppressionCheckInput(data=request.data)
        payload.is_valid(raise_exception=True)
        allowed = may_contact(
            email=payload.validated_data["email"], client=payload.validated_data.get("client")
        )
        return Response({"may_contact": allowed})


class SubjectRequestInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SubjectRequest.Kind.choices)
    email = serializers.CharField(
        help_text="The requester's address; the link to verify goes there."
    )
    details = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    purposes = CodeRelatedField(
        slug_field="code",
        queryset=Purpose.objects.filter(is_active=True),
        many=True,
        required=False,
        default=list,
        help_text="For an objection: the purposes objected to.",
    )
    client_address = serializers.IPAddressField(
        required=False, help_text="The requester's IP on your site, for rate limiting only."
    )
    wants_recipients = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The requester asks to be told who received their data (art. 19).",
    )

    def validate_email(self, value: str) -> str:
        try:
            return normalise_email(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError("Enter a valid e-mail address.") from exc


class SubjectRequestOutput(serializers.ModelSerializer):
    deadline = serializers.DateTimeField(read_only=True)

    class Meta:
        model = SubjectRequest
        fields = (
            "id",
            "kind",
            "channel",
            "status",
            "received_at",
            "verified_at",
            "due_at",
            "extended_due_at",
            "deadline",
            "completed_at",
            "possibly_excessive",
        )


class SubjectRequestCreateView(APIView):
    """Take a request from another site; the requester verifies it by e-mail like on our form."""

    queryset = SubjectRequest.objects.none()

    @extend_schema(request=SubjectRequestInput, responses={202: SubjectRequestOutput})
    def post(self, request):
        payload = SubjectRequestInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            created = submit_request(
                kind=data["kind"],
                email=data["email"],
                details=data["details"],
                purposes=data["purposes"],
                wants_recipients=data["wants_recipients"],
                channel=SubjectRequest.Channel.API,
                client_address=data.get("client_address") or client_address(request),
            )
        except RateLimited as exc:
            raise Throttled(
                wait=retry_after(),
                detail="Too many requests for this address; try again when the hour is up.",
            ) from exc
        return Response(SubjectRequestOutput(created).data, status=status.HTTP_202_ACCEPTED)


class SubjectRequestDetailView(APIView):
    """Where a request stands (staff only; no personal data in the answer)."""

    queryset = SubjectRequest.objects.none()

    @extend_schema(responses=SubjectRequestOutput)
    def get(self, request, pk: int):
        return Response(SubjectRequestOutput(get_object_or_404(SubjectRequest, pk=pk)).data)


class MergeInput(serializers.Serializer):
    duplicate = serializers.IntegerField(help_text="The id of the record merged into this one.")
    take = serializers.ListField(
        child=serializers.ChoiceField(choices=MERGEABLE_FIELDS),
        required=False,
        default=list,
        help_text="Fields whose value comes from the duplicate; the others keep this record's.",
    )
    officer_decision = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="A privacy officer's written decision, needed for a restricted record or one "
        "under a legal hold.",
    )


class MergeOutput(serializers.Serializer):
    kept = serializers.IntegerField(source="kept.pk")
    merged = serializers.IntegerField(source="merged_id")
    moved = serializers.DictField(child=serializers.IntegerField())
    withdrawals_carried = serializers.IntegerField()


class MergePermissions(StaffModelPermissions):
    perms_map = {**StaffModelPermissions.perms_map, "POST": ["%(app_label)s.merge_contacts"]}


class ContactMergeView(APIView):
    """Merge a duplicate record into this contact; refused with the reason, changing nothing."""

    queryset = Contact.objects.none()
    permission_classes = [MergePermissions]

    @extend_schema(request=MergeInput, responses=MergeOutput)
    def post(self, request, pk: int):
        keep = get_object_or_404(Contact, pk=pk)
        payload = MergeInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        duplicate = get_object_or_404(Contact, pk=data["duplicate"])
        result = merge_contacts(
            keep=keep,
            duplicate=duplicate,
            take=data["take"],
            actor=request.user,
            channel="api",
            officer_decision=data["officer_decision"],
        )
        return Response(MergeOutput(result).data)


class PersonHandedOver(serializers.Serializer):
    contact = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The contact's id."
    )
    reference = serializers.CharField(
        max_length=200,
        required=False,
        default="",
        allow_blank=True,
        help_text="The recipient's own id for the person, quoted when a change is passed on.",
    )


class HandOverInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RecipientBatch.Kind.choices)
    description = serializers.CharField(
        max_length=300, help_text="What was given, in categories (like 'name, e-mail')."
    )
    people = PersonHandedOver(many=True, allow_empty=False, max_length=10000)


class HandOverOutput(serializers.ModelSerializer):
    class Meta:
        model = RecipientBatch
        fields = ("id", "recipient", "kind", "description", "people", "created_at")


class HandOverCreateView(APIView):
    """Record that people's data went to a recipient (a list, an export), for art. 19."""

    queryset = RecipientBatch.objects.none()

    @extend_schema(request=HandOverInput, responses={201: HandOverOutput})
    def post(self, request, pk: int):
        recipient = get_object_or_404(Processor, pk=pk)
        payload = HandOverInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        batch = record_disclosure(
            recipient=recipient,
            kind=data["kind"],
            description=data["description"],
            people={person["contact"]: person["reference"] for person in data["people"]},
            actor=request.user,
            channel="api",
        )
        return Response(HandOverOutput(batch).data, status=status.HTTP_201_CREATED)
