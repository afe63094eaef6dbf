"""Outbound webhooks: recording events, handing them out, and delivering them signed.

A receiver on loopback (Python's threading HTTP server, answering 200 at once) takes the
deliveries. Events are `contact.changed` of seeded contacts, one per change as staff edits would
make them: a twentieth of BENCH_SCALE, at least 200 and at most 5,000. Measured:

1. recording: one event per transaction, as `crm.contacts.save_contact` writes it;
2. handing out: the beat task's dispatch, one delivery (and its outbox row) per event; the
   hand-over of the outbox rows to the broker is left out (their commit hooks are caught);
3. delivering: each delivery's signed attempt as the worker's task runs it, the outcome written
   back;
4. the floor: the same number of signed posts made straight to the receiver with the same HTTP
   client (one per process, connections kept alive), with no database at all.

Everything the benchmark writes (the recipient, the endpoint, its deliveries, their outbox rows)
is deleted at the end, so the shared bench database keeps only its seeded data.
"""

import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.db import transaction
from django.test import TestCase
from django.test.utils import override_settings

from bench.measuring import Figure
from core.events import EventKind, emit_event
from core.models import OutboxTask
from crm.models import Contact
from integrations.delivery import attempt_delivery, dispatch_pending_events, http_client
from integrations.endpoints import create_endpoint
from integrations.models import Delivery
from integrations.payloads import encode, signed_headers
from privacy.models import Processor, RecipientBatch, RecipientSubject


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _per_second(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds else 0.0


def run(*, scale: int) -> list[Figure]:
    """Measure recording, handing out and delivering events; return the figures."""
    events = max(200, min(scale // 20, 5000))
    contact_ids = list(Contact.objects.values_list("pk", flat=True)[:events])
    if not contact_ids:
        raise RuntimeError("The bench database holds no contacts.")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hooks"
    recipient = Processor.objects.create(
        name="Bench shop", service="bench", data_shared="ids", location="NL"
    )
    try:
        with override_settings(WEBHOOK_ALLOW_LOOPBACK=True):
            endpoint, secret = create_endpoint(
                name="Bench",
                url=url,
                event_kinds=[EventKind.CONTACT_CHANGED],
                recipient=recipient,
                actor=None,
                channel="command",
            )
            started = time.perf_counter()
            for position in range(events):
                with transaction.atomic():
                    emit_event(
                        EventKind.CONTACT_CHANGED,
                        contact_id=contact_ids[position % len(contact_ids)],
                        fields=["phone"],
                    )
            recorded = time.perf_counter() - started
            started = time.perf_counter()
            with TestCase.captureOnCommitCallbacks():
                dispatch_pending_events(limit=events)
            dispatched = time.perf_counter() - started
            ids = list(Delivery.objects.filter(endpoint=endpoint).values_list("pk", flat=True))
            started = time.perf_counter()
            for pk in ids:
                attempt_delivery(delivery_id=pk)
            delivered_seconds = time.perf_counter() - started
            delivered = Delivery.objects.filter(endpoint=endpoint, status="delivered").count()
            body = encode({"id": "bench", "type": "contact.changed", "data": {"contact": 1}})
            started = time.perf_counter()
            for position in range(events):
                headers = signed_headers(
                    secret=secret, event_id=f"bench-{position}", body=body, at=datetime.now(UTC)
                )
                http_client().post(url, content=body.encode(), headers=headers, timeout=10)
            floor = time.perf_counter() - started
    finally:
        server.shutdown()
        server.server_close()
        RecipientSubject.objects.filter(recipient=recipient).delete()
        RecipientBatch.objects.filter(recipient=recipient).delete()
        Delivery.objects.filter(endpoint__recipient=recipient).delete()
        recipient.webhook_endpoints.all().delete()
        recipient.delete()
        OutboxTask.objects.filter(task="integrations.tasks.deliver").delete()
    print(f"\nWebhooks: {events} events, {delivered} delivered")
    print(f"  recorded   {_per_second(events, recorded):>9} events/s")
    print(f"  handed out {_per_second(events, dispatched):>9} events/s")
    print(f"  delivered  {_per_second(delivered, delivered_seconds):>9} deliveries/s")
    print(f"  floor      {_per_second(events, floor):>9} bare signed posts/s")
    return [
        Figure("events_recorded_per_s", _per_second(events, recorded), "1/s"),
        Figure("events_handed_out_per_s", _per_second(events, dispatched), "1/s"),
        Figure(
            "deliveries_per_s",
            _per_second(delivered, delivered_seconds),
            "1/s",
            floor=_per_second(events, floor),
        ),
        Figure("delivered", delivered, "deliveries"),
    ]
