"""An SMTP server on loopback that accepts and counts every message, run in its own process.

Kept apart from Django: the process is spawned fresh and imports only this module and aiosmtpd.
"""

import time

from aiosmtpd.controller import Controller


class _Counting:
    """Accept every message and add one to the shared counter."""

    def __init__(self, counter) -> None:
        self.counter = counter

    async def handle_DATA(self, server, session, envelope):
        with self.counter.get_lock():
            self.counter.value += 1
        return "250 OK"


def run_sink(port: int, counter) -> None:
    """Serve until the process is terminated."""
    controller = Controller(_Counting(counter), hostname="127.0.0.1", port=port)
    controller.start()
    while True:
        time.sleep(3600)
