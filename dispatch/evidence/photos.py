"""Evidence photos on disk: content-addressed, written atomically, checked by their magic bytes.

Layout: `<state_dir>/evidence/photos/<first 2 hex>/<sha256 hex>`. A file is first staged (copied
while hashing, with the size limit and the type checked) under `.staging/`, then published with
`os.replace` onto its address: readers see a whole file or none. Publishing a sha256 that is
already there keeps the existing file when it still hashes right (deduplication) and replaces it
when it does not. Blocking I/O: callers run these functions in a thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CHUNK = 1 << 20
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")

# ISO-BMFF brands of HEIF stills (HEIC is HEIF with HEVC inside).
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis"}
_HEIF_BRANDS = {b"mif1", b"msf1"}


class PhotoTooLarge(Exception):
    pass


class UnsupportedPhoto(Exception):
    pass


def sniff(head: bytes) -> str | None:
    """The image type the first bytes announce (JPEG, PNG, WebP, HEIC/HEIF), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        if head[8:12] in _HEIC_BRANDS:
            return "image/heic"
        if head[8:12] in _HEIF_BRANDS:
            return "image/heif"
    return None


def photos_root(state_path: Path) -> Path:
    return state_path / "evidence" / "photos"


def photo_path(state_path: Path, sha256: str) -> Path:
    if not SHA256_HEX.match(sha256):
        raise ValueError("not a sha256 hex digest")
    return photos_root(state_path) / sha256[:2] / sha256


@dataclass(frozen=True, slots=True)
class Staged:
    sha256: str
    size_bytes: int
    content_type: str
    path: Path


def stage(src: IO[bytes], state_path: Path, max_bytes: int) -> Staged:
    """Copy an upload into the staging area while hashing it; refuse it past `max_bytes` or when its
    first bytes are not a supported image. Nothing is left behind on refusal."""
    src.seek(0)
    head = src.read(16)
    content_type = sniff(head)
    if content_type is None:
        raise UnsupportedPhoto
    staging = photos_root(state_path) / ".staging"
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / f"{secrets.token_hex(16)}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "xb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > max_bytes:
                    raise PhotoTooLarge
                digest.update(chunk)
                out.write(chunk)
                chunk = src.read(CHUNK)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Staged(digest.hexdigest(), size, content_type, path)


def discard(staged: Staged) -> None:
    staged.path.unlink(missing_ok=True)


def publish(staged: Staged, state_path: Path) -> None:
    """Move a staged file onto its address (atomic), unless an intact copy is already there."""
    target = photo_path(state_path, staged.sha256)
    if file_sha256(target) == staged.sha256:
        discard(staged)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged.path, target)
    _fsync_dir(target.parent)


def file_sha256(path: Path) -> str | None:
    """The file's SHA-256 in hex, or None when there is no such file."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def read_verified(state_path: Path, sha256: str) -> bytes | None:
    """The photo's bytes if its file exists and still hashes to its name; None if missing.

    Raises `ValueError` when the file no longer matches its sha256."""
    try:
        data = photo_path(state_path, sha256).read_bytes()
    except FileNotFoundError:
        return None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError("photo file altered")
    return data


def _fsync_dir(path: Path) -> None:
    # The rename is durable once the directory entry is: best effort where directories can't be opened.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
