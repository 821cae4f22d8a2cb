"""`manifest.json`: what a backup holds, with the size and SHA-256 of every file.

Blobs are content-addressed (their name is their SHA-256), so they are listed compactly as
`[digest, size]` pairs instead of one object each: a store of millions of blobs would otherwise
make a manifest of hundreds of megabytes. Verification hashes every blob all the same.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "FORMAT",
    "MANIFEST_NAME",
    "Backend",
    "FileEntry",
    "Manifest",
    "ManifestError",
    "blob_path",
    "file_entry",
    "read_manifest",
    "sha256_file",
    "write_manifest",
]

# Bumped when the layout changes in a way an older `postwise restore` cannot read.
FORMAT = 1
MANIFEST_NAME = "manifest.json"
Backend = Literal["sqlite", "postgresql"]


class ManifestError(Exception):
    """The manifest is missing, unreadable, or of a format this version cannot read."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str  # relative to the backup folder, with "/" separators
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    version: str  # the Postwise version that made it
    schema_revision: str | None  # the Alembic revision of the database snapshot
    created_at: str  # ISO 8601, UTC
    backend: Backend
    database: str  # the dump's path, one of `files`
    files: list[FileEntry]
    # [digest, size]: the blob's path is blobs/<d[:2]>/<d[2:4]>/<d>, its SHA-256 the digest.
    blobs: list[tuple[str, int]]
    # Digests the database names that the blob store did not have when the backup was made
    # (a store damaged before, or a blob collected meanwhile): restored rows will miss them.
    missing_blobs: list[str] = field(default_factory=list)
    # A truncated SHA-256 of the secret in force: restore warns when the target's differs
    # (sessions and sealed mailbox passwords need the old one). Not enough to recover it.
    secret_fingerprint: str | None = None
    format: int = FORMAT

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["blobs"] = [list(pair) for pair in self.blobs]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        if data.get("format") != FORMAT:
            raise ManifestError(
                f"backup format {data.get('format')!r} is not one this version reads ({FORMAT})"
            )
        try:
            return cls(
                version=str(data["version"]),
                schema_revision=data["schema_revision"],
                created_at=str(data["created_at"]),
                backend=data["backend"],
                database=str(data["database"]),
                files=[FileEntry(**entry) for entry in data["files"]],
                blobs=[(str(digest), int(size)) for digest, size in data["blobs"]],
                missing_blobs=list(data.get("missing_blobs", [])),
                secret_fingerprint=data.get("secret_fingerprint"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ManifestError(f"manifest.json is malformed: {error!r}") from error


def blob_path(digest: str) -> str:
    return f"blobs/{digest[:2]}/{digest[2:4]}/{digest}"


def sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def file_entry(root: Path, relative: str) -> FileEntry:
    path = root / relative
    return FileEntry(path=relative, size=path.stat().st_size, sha256=sha256_file(path))


def write_manifest(root: Path, manifest: Manifest) -> None:
    fd = os.open(root / MANIFEST_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(manifest.to_json(), handle, indent=1)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_manifest(root: Path) -> Manifest:
    path = root / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ManifestError(f"{path} not found: is {root} a Postwise backup?") from error
    except (OSError, ValueError) as error:
        raise ManifestError(f"cannot read {path}: {error}") from error
    if not isinstance(data, dict):
        raise ManifestError(f"{path} is not a JSON object")
    return Manifest.from_json(data)
