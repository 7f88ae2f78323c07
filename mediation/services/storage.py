"""Where evidence bytes live: content-addressed by SHA-256, outside the web root, never altered or deleted.

`put` streams into a temporary file inside the store while hashing and counting, lets the caller inspect
the complete file, then publishes it under `ab/cd/<sha256>` with a hard link, which fails rather than
replace a file already there: the same bytes are stored once, and nothing on the record is ever rewritten.
A failed upload (too large, refused by the inspection) leaves nothing behind.

The local filesystem is the default; another backend (object storage) only has to meet `Storage`.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app
from flask_babel import lazy_gettext as _l

from mediation.errors import DomainError, NotFound

CHUNK = 64 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_KIND = re.compile(r"^[a-z]{1,20}$")
_INCOMING = ".incoming-"


class TooLarge(DomainError):
    """The upload is over the size limit (HTTP 413); nothing was stored."""

    status = 413


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


class Storage(Protocol):
    def put(self, stream: BinaryIO, *, max_bytes: int | None = None,
            inspect: Callable[[BinaryIO], None] | None = None) -> StoredBlob:
        """Store the stream's bytes; raise TooLarge past `max_bytes`; `inspect` may refuse the file first."""

    def open(self, sha256: str) -> BinaryIO: ...

    def exists(self, sha256: str) -> bool: ...

    def put_derived(self, sha256: str, kind: str, data: bytes) -> None: ...

    def open_derived(self, sha256: str, kind: str) -> BinaryIO: ...

    def has_derived(self, sha256: str, kind: str) -> bool: ...


class LocalStorage:
    """Files under `root`: `ab/cd/<sha256>` for originals, `ab/cd/<sha256>.<kind>` for previews."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def put(self, stream: BinaryIO, *, max_bytes: int | None = None,
            inspect: Callable[[BinaryIO], None] | None = None) -> StoredBlob:
        self.root.mkdir(parents=True, exist_ok=True)
        # In the store's own directory, so publishing it is a link on the same filesystem, never a copy.
        handle = tempfile.NamedTemporaryFile(dir=self.root, prefix=_INCOMING, delete=False)  # noqa: SIM115
        temp = Path(handle.name)
        try:
            with handle:
                digest, size = _copy(stream, handle, max_bytes)
                handle.flush()
                os.fsync(handle.fileno())
                if inspect is not None:
                    handle.seek(0)
                    inspect(handle)
            blob = StoredBlob(digest, size)
            self._publish(temp, self._path(blob.sha256))
            return blob
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()

    def open(self, sha256: str) -> BinaryIO:
        return _open(self._path(sha256))

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def put_derived(self, sha256: str, kind: str, data: bytes) -> None:
        target = self._path(sha256, kind)
        if target.exists():
            return  # derived from the same bytes by the same code: what is there is as good
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=_INCOMING, delete=False) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temp = Path(handle.name)
        try:
            self._publish(temp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()

    def open_derived(self, sha256: str, kind: str) -> BinaryIO:
        return _open(self._path(sha256, kind))

    def has_derived(self, sha256: str, kind: str) -> bool:
        return self._path(sha256, kind).is_file()

    def _path(self, sha256: str, kind: str | None = None) -> Path:
        # Only hex digests and short lowercase kinds make paths: nothing from a client reaches here unchecked.
        if not _SHA256.match(sha256) or (kind is not None and not _KIND.match(kind)):
            raise ValueError("not a stored blob name")
        name = sha256 if kind is None else f"{sha256}.{kind}"
        return self.root / sha256[:2] / sha256[2:4] / name

    @staticmethod
    def _publish(temp: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(temp, 0o440)  # read-only: the record's bytes are not edited in place either
        # A hard link is atomic and refuses to replace an existing file; one already there holds the same
        # bytes (its name is their hash), so it stays as it is.
        with contextlib.suppress(FileExistsError):
            os.link(temp, target)


def _copy(stream: BinaryIO, handle: BinaryIO, max_bytes: int | None) -> tuple[str, int]:
    """Copy while hashing; stop as soon as the count passes `max_bytes`, whatever the client declared."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise TooLarge(_l("The file is larger than %(mb)s MB.", mb=_megabytes(max_bytes)),
                           {"file": [_l("At most %(mb)s MB.", mb=_megabytes(max_bytes))]})
        digest.update(chunk)
        handle.write(chunk)
    return digest.hexdigest(), size


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):.3g}"


def _open(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise NotFound(_l("This file is not in the store.")) from None


def get_storage() -> Storage:
    """The app's store: `EVIDENCE_STORAGE` if an installation configured one, else `EVIDENCE_DIR` on disk."""
    configured = current_app.config.get("EVIDENCE_STORAGE")
    return configured if configured is not None else LocalStorage(current_app.config["EVIDENCE_DIR"])
