import pytest

from campaigns.models import Message
from campaigns.sending import batches, handover, starting
from tests.campaigns.factories import CampaignFactory
from tests.campaigns.smtp_sink import SinkHandler, SmtpSink
from tests.crm.factories import ContactFactory
from tests.privacy.factories import NoticeVersionFactory, PurposeFactory, grant

pytestmark = pytest.mark.django_db


class CountingHandler(SinkHandler):
    """Notes the connection each message came on; cuts the connection of one recipient."""

    def __init__(self, cut_for: str = "") -> None:
        super().__init__()
        self.cut_for = cut_for
        self.peers: set = set()

    async def handle_DATA(self, server, session, envelope):
        if self.cut_for in envelope.rcpt_tos:
            server.transport.close()
            return "421 Closing"
        self.peers.add(session.peer)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def audience():
    NoticeVersionFactory()
    purpose = PurposeFactory()
    people = ContactFactory.create_batch(12)
    for person in people:
        grant(person, purpose)
    return purpose, people


def _to_sink(settings, sink: SmtpSink, connections: int) -> None:
    for name, value in sink.settings().items():
        setattr(settings, name, value)
    settings.SENDING_RATE_PER_WORKER = 0
    settings.SENDING_CONNECTIONS = connections
    settings.SENDING_HANDOVER_GROUP = 6


def test_a_batch_goes_out_over_several_connections_each_message_once(audience, settings):
    purpose, people = audience
    campaign = CampaignFactory(purpose=purpose)
    starting.start_sending(campaign=campaign, on_workers=False)
    sink = SmtpSink()
    sink.handler = CountingHandler()
    sink.controller.handler = sink.handler
    with sink:
        _to_sink(settings, sink, 3)
        outcome = batches.send_batch(campaign_id=campaign.pk, size=50)
    assert outcome.sent == 12
    assert sorted(sink.handler.recipients()) == sorted(person.email for person in people)
    assert len(sink.handler.peers) == 3
    assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.SENT}


def test_a_connection_cut_off_loses_one_message_and_sends_none_twice(audience, settings):
    purpose, people = audience
    campaign = CampaignFactory(purpose=purpose)
    starting.start_sending(campaign=campaign, on_workers=False)
    cut = people[1]
    sink = SmtpSink()
    sink.handler = CountingHandler(cut_for=cut.email)
    sink.controller.handler = sink.handler
    with sink:
        _to_sink(settings, sink, 3)
        with pytest.raises(handover.SendingInterrupted):
            batches.send_batch(campaign_id=campaign.pk, size=50)
        sink.handler.cut_for = "nobody@example.org"
        while batches.has_queued(campaign.pk):
            batches.send_batch(campaign_id=campaign.pk, size=50)
    received = sink.handler.recipients()
    assert sorted(received) == sorted(p.email for p in people if p != cut)
    lost = Message.objects.get(contact=cut)
    assert (lost.status, lost.error) == (Message.Status.FAILED, handover.UNKNOWN_OUTCOME)
    others = Message.objects.exclude(contact=cut).values_list("status", flat=True)
    assert set(others) == {Message.Status.SENT}
