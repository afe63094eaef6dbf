"""A real SMTP server on loopback that keeps what it receives (aiosmtpd), for the sending tests."""

import email
import socket
import threading
from dataclasses import dataclass, field
from email.message import Message as ParsedEmail

from aiosmtpd.controller import Controller


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SinkHandler:
    """Accepts every message, except recipients told to answer a given SMTP code.

    `refusals_left` limits how many times a recipient is refused; without it, always.
    """

    refusals: dict[str, str] = field(default_factory=dict)
    refusals_left: dict[str, int] = field(default_factory=dict)
    received: list[ParsedEmail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        left = self.refusals_left.get(address)
        if address in self.refusals and (left is None or left > 0):
            if left is not None:
                self.refusals_left[address] = left - 1
            return self.refusals[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        with self.lock:
            return [message["To"] for message in self.received]


class SmtpSink:
    """Start and stop the sink; `handler` holds what arrived."""

    def __init__(self) -> None:
        self.handler = SinkHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "SmtpSink":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def settings(self) -> dict:
        """Return the e-mail settings that send to this sink."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
        }
