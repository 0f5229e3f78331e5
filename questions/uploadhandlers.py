"""Stops reading an upload of question files as soon as it passes the limits, so the page
can say what was too much instead of Django answering 400 (too many files) or streaming a
huge body to temporary files first."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from questions.bankfile import MAX_FILE_BYTES

MSG_TOO_MANY_FILES = "At most {limit} files per upload: choose fewer files."
MSG_FILE_TOO_BIG = "{name} is larger than {limit} bytes, the limit per file."
MSG_TOTAL_TOO_BIG = "The files add up to more than {limit} bytes, the limit per upload."


class LimitedUploadHandler(FileUploadHandler):
    """First in the handler chain: counts files and bytes and passes each chunk on to
    Django's own handlers. On passing a limit it stops the upload (Django then reads and
    drops the rest of the body) and keeps the reason in `refusal` and the names that
    arrived in `names`."""

    def __init__(self, request=None):
        super().__init__(request)
        self.count = 0
        self.total = 0
        self.file_bytes = 0
        self.names: list[str] = []
        self.refusal: str | None = None

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        self.count += 1
        self.file_bytes = 0
        self.names.append(str(file_name))
        if self.count > settings.UPLOAD_MAX_FILES:
            self._stop(MSG_TOO_MANY_FILES.format(limit=settings.UPLOAD_MAX_FILES))

    def receive_data_chunk(self, raw_data, start):
        self.total += len(raw_data)
        self.file_bytes += len(raw_data)
        if self.file_bytes > MAX_FILE_BYTES:
            self._stop(MSG_FILE_TOO_BIG.format(name=self.file_name, limit=MAX_FILE_BYTES))
        if self.total > settings.UPLOAD_MAX_TOTAL_BYTES:
            self._stop(MSG_TOTAL_TOO_BIG.format(limit=settings.UPLOAD_MAX_TOTAL_BYTES))
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler builds the file

    def _stop(self, message: str) -> None:
        self.refusal = message
        raise StopUpload(connection_reset=False)
