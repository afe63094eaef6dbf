"""Private file storage for exports, letters and uploaded lists: never served by the web server."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """Files under PRIVATE_FILES_DIR, read when a file is used rather than when models load."""

    # The file fields build their storage at import time; a location fixed then would ignore a
    # later setting (STYLE rule 9) and put files where the download and erasure do not look.
    @property
    def base_location(self) -> str:
        return str(settings.PRIVATE_FILES_DIR)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)


def private_storage() -> FileSystemStorage:
    """Return the storage for exports and letters: outside the web root, never served directly."""
    return PrivateStorage(base_url=None)
