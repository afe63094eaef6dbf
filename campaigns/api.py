"""Campaigns in the API: read-only, with their aggregate statistics (never people)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.models import Campaign
from campaigns.reports import campaign_report


class CampaignOutput(serializers.ModelSerializer):
    client = serializers.CharField(source="client.name", allow_null=True, default=None)
    purpose = serializers.CharField(source="purpose.code")
    segment = serializers.CharField(source="segment.name")
    languages = serializers.SerializerMethodField(
        help_text="Every language the campaign is written in, its default language first."
    )
    ab_winner = serializers.CharField(
        help_text='The winning subject of its A/B test: "a", "b", or empty while undecided or '
        "when it tests none."
    )

    class Meta:
        model = Campaign
        fields = (
            "id",
            "name",
            "client",
            "purpose",
            "segment",
            "language",
            "languages",
            "subject",
            "subject_b",
            "ab_winner",
            "status",
            "scheduled_at",
            "started_at",
            "finished_at",
            "created_at",
        )

    def get_languages(self, campaign: Campaign) -> list[str]:
        others = [version.language for version in campaign.versions.all()]
        return [campaign.language, *sorted(set(others) - {campaign.language})]


class TallyOutput(serializers.Serializer):
    unique = serializers.IntegerField(help_text="Messages it happened to at least once.")
    total = serializers.IntegerField(help_text="Times it happened.")


class LinkOutput(serializers.Serializer):
    url = serializers.URLField()
    unique = serializers.IntegerField()
    total = serializers.IntegerField()


class CountryOutput(serializers.Serializer):
    code = serializers.CharField(help_text='ISO 3166 code; empty for "Other".')
    name = serializers.CharField()
    recipients = serializers.IntegerField()


class TimeBucketOutput(serializers.Serializer):
    start = serializers.DateTimeField()
    opened = serializers.IntegerField()
    clicked = serializers.IntegerField()


class VisitsOutput(serializers.Serializer):
    page_views = serializers.IntegerField()
    downloads = serializers.IntegerField()
    visitors = serializers.IntegerField()


class CampaignStatsOutput(serializers.Serializer):
    campaign_id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    sent = serializers.IntegerField()
    delivered = TallyOutput()
    bounced = TallyOutput()
    hard_bounced = serializers.IntegerField()
    policy_refused = serializers.IntegerField(
        help_text="Messages refused for the sender's policy, authentication or content (DMARC, "
        "spam filters, blocked sender, size); the addresses are left untouched."
    )
    opened = TallyOutput(help_text="Every open, whatever its origin.")
    clicked = TallyOutput(help_text="Every click, whatever its origin.")
    opened_by = serializers.DictField(
        child=TallyOutput(), help_text="Opens by origin: human, machine, unknown."
    )
    clicked_by = serializers.DictField(
        child=TallyOutput(), help_text="Clicks by origin: human, machine, unknown."
    )
    visits = VisitsOutput(help_text="Web activity after the campaign's clicks.")
    unsubscribed = TallyOutput()
    complained = TallyOutput()
    links = LinkOutput(many=True)
    countries = CountryOutput(
        many=True,
        help_text="Recipients who opened or clicked, by country; countries with fewer than "
        "`min_country_bucket` recipients are counted under Other.",
    )
    min_country_bucket = serializers.IntegerField()
    bucket = serializers.ChoiceField(choices=["hour", "day"])
    timeline = TimeBucketOutput(many=True)


class CampaignViewSet(viewsets.ReadOnlyModelViewSet):
    """Campaigns, newest first, and their aggregate statistics."""

    serializer_class = CampaignOutput
    queryset = Campaign.objects.select_related("client", "purpose", "segment").prefetch_related(
        "versions"
    )

    @extend_schema(responses=CampaignStatsOutput)
    @action(detail=True, methods=["get"])
    def stats(self, request: Request, pk: str | None = None) -> Response:
        """Return the campaign's counts, per link, per country and over time; no person."""
        report = campaign_report(campaign=self.get_object())
        return Response(CampaignStatsOutput(report).data)
