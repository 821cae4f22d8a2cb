"""How a stored attachment leaves the server: as a download, never rendered by the browser.

Shared by the mail API (attachments of stored messages) and compose (a draft's attachments).
"""

from __future__ import annotations

from starlette.responses import FileResponse

from postwise.kit.errors import ProblemError
from postwise.mail.blobs import BlobStore

# Content a browser would render or run if it ever displayed it inline: served as a download
# anyway, and sandboxed should anything open it.
ACTIVE_TYPES = (
    "text/html",
    "image/svg+xml",
    "application/xhtml+xml",
    "text/xml",
    "application/xml",
)


def attachment_response(
    blobs: BlobStore, *, sha256: str, content_type: str, filename: str
) -> FileResponse:
    """`Content-Disposition: attachment` with the declared type, no caching, and a sandbox
    CSP for active types; 404 `blob_missing` when the stored copy is gone."""
    path = blobs.path(sha256)
    if not path.is_file():
        raise ProblemError(404, "blob_missing", "The stored copy of this attachment is missing.")
    headers = {"Cache-Control": "private, no-store"}
    if content_type.lower().startswith(ACTIVE_TYPES):
        headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return FileResponse(
        path,
        media_type=content_type or "application/octet-stream",
        filename=filename,
        content_disposition_type="attachment",
        headers=headers,
    )
