"""The embedded Celery broker: Kombu's file-system transport, with messages written atomically.

Kombu creates a message file and then writes into it; a worker polling at that moment reads an
empty file, fails to decode it and loses the message. Here a message is written under a hidden
temporary name in the same folder and renamed into place, which is atomic, so a worker only ever
sees whole messages. Production uses Redis and never loads this module.
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Opening a channel is the health check's probe: fail it when messages cannot be stored.
        for folder in (self.data_folder_in, self.data_folder_out):
            if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
                raise ChannelError(f"The broker folder {folder!r} is missing or not writable.")

    def _put(self, queue, payload, **kwargs):
        """Put the message on the queue: write a hidden file, then rename it into the queue."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # A leading dot keeps the half-written file out of the queue's name pattern.
        temporary = os.path.join(self.data_folder_out, f".{name}.tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(temporary, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add a message to {self.data_folder_out!r}") from exc


class Transport(filesystem.Transport):
    Channel = Channel
