"""A real HTTP receiver on loopback, and the signature check a receiver writes (docs/webhooks.md).

The receiver answers each POST with the next status of its script (then 200), optionally after a
delay, and keeps what it was sent. `verify` is the receiver's ten lines from the guide, written
with the standard library only, so the tests check the documented scheme rather than the library
that signs.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    script: list[int] = field(default_factory=list)
    delay: float = 0.0
    answer: dict | None = None
    received: list[Received] = field(default_factory=list)

    def events(self, kind: str | None = None) -> list[dict]:
        return [r.event for r in self.received if kind is None or r.event["type"] == kind]


def serve() -> tuple[Receiver, ThreadingHTTPServer]:
    """Start a receiver on a free loopback port; the caller shuts the server down."""
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.received.append(
                Received(headers={k.lower(): v for k, v in self.headers.items()}, body=body)
            )
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.script.pop(0) if receiver.script else 200
            answer = json.dumps(receiver.answer or {}).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks/crm"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server


def verify(secret: str, headers: dict, body: bytes, tolerance: int = 300) -> dict:
    """Return the event if the signature and timestamp are genuine; raise ValueError if not."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(stamp)) > tolerance:
        raise ValueError("stale or replayed delivery")
    signed = f"{msg_id}.{stamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.split(",", 1)[1] for s in headers["webhook-signature"].split() if "," in s]
    if not any(hmac.compare_digest(expected, sig) for sig in offered):
        raise ValueError("bad signature")
    return json.loads(body)
