"""What a file is, decided from its bytes (signature and structure), never from its name or declared type.

Accepted: JPEG, PNG, WebP, GIF, PDF, MP4 and plain UTF-8 text. Refused: anything else, bytes that
contradict the name's extension, polyglots that a browser or PDF reader could take for something else
(HTML inside an image, a PDF header inside a non-PDF), images that do not fully decode, and images
with more pixels than allowed (checked from the header, before any decoding).
"""
from __future__ import annotations

import codecs
import re
import struct
import warnings
from dataclasses import dataclass
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

from mediation.errors import Invalid

HEAD = 1024  # what browsers and PDF readers look at when they guess a type
EXTENSIONS = {
    "image/jpeg": ("jpg", "jpeg", "jpe", "jfif"),
    "image/png": ("png",),
    "image/webp": ("webp",),
    "image/gif": ("gif",),
    "application/pdf": ("pdf",),
    "video/mp4": ("mp4", "m4v"),
    "text/plain": ("txt", "text", "log", "csv", "tsv", "md"),
}
IMAGES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}
_MP4_BRANDS = {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"mp71", b"avc1",
               b"dash", b"M4V ", b"M4VH", b"M4VP", b"mmp4", b"MSNV", b"f4v "}
_MP4_MAX_BOXES = 100_000
# Markup a browser's sniffer would take for a page; `<?xpacket`/`<x:xmpmeta` (XMP in images) are harmless.
_MARKUP = re.compile(rb"<(?:!doctype\s+html|html|head|body|script|iframe|svg)[\s/>]", re.IGNORECASE)
_MARKUP_START = re.compile(r"^<[a-zA-Z!?/]")
_EXTENSION = re.compile(r"^(?=.*[a-z])[a-z0-9]{1,5}$")
# Unicode's control characters (category Cc) but tab, line feed and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Detected:
    media_type: str
    width: int | None = None
    height: int | None = None

    @property
    def is_image(self) -> bool:
        return self.media_type in IMAGES


def refuse(message, detail=None) -> Invalid:
    return Invalid(message, {"file": [detail or message]})


def extension(filename: str) -> str | None:
    """The name's extension, if it looks like one ("report.pdf"), not a sentence ("Mr. Smith", "v1.2024")."""
    stem, dot, suffix = filename.rpartition(".")
    suffix = suffix.lower()
    return suffix if dot and stem.strip(". ") and _EXTENSION.match(suffix) else None


def inspect(file: BinaryIO, filename: str, max_pixels: int) -> Detected:
    """Decide what `file` (seekable, complete) holds; raise Invalid (field `file`) if it is refused."""
    file.seek(0)
    head = file.read(HEAD)
    if not head:
        raise refuse(_l("The file is empty."))
    detected = _detect(file, head, max_pixels)
    ext = extension(filename)
    if ext is not None and ext not in EXTENSIONS[detected.media_type]:
        raise refuse(_l("The file's contents do not match its name: it is not a .%(ext)s file.", ext=ext),
                     _l("Its contents are %(kind)s; rename it or choose the right file.",
                        kind=detected.media_type))
    file.seek(0)
    return detected


def _detect(file: BinaryIO, head: bytes, max_pixels: int) -> Detected:
    media_type = _signature(head)
    if media_type is None:
        return _text(file, head)
    if media_type != "application/pdf" and b"%PDF" in head:
        raise refuse(_l("The file looks like two formats at once (it carries a PDF header)."))
    if _MARKUP.search(head):
        raise refuse(_l("The file carries web page markup, which is not accepted in evidence."))
    if media_type == "application/pdf":
        _check_pdf(file)
        return Detected(media_type)
    if media_type == "video/mp4":
        _check_mp4(file)
        return Detected(media_type)
    width, height = _check_image(file, IMAGES[media_type], max_pixels)
    return Detected(media_type, width, height)


def _signature(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    return None


def _check_pdf(file: BinaryIO) -> None:
    file.seek(0, 2)
    size = file.tell()
    file.seek(max(0, size - HEAD))
    if b"%%EOF" not in file.read(HEAD):
        raise refuse(_l("The PDF is incomplete or damaged (it has no end-of-file marker)."))


def _check_mp4(file: BinaryIO) -> None:
    """The file must be a sequence of boxes that tiles it exactly, starting with `ftyp` of an MP4 brand."""
    file.seek(0, 2)
    size = file.tell()
    position, boxes = 0, 0
    while position < size:
        file.seek(position)
        header = file.read(16)
        if len(header) < 8 or boxes >= _MP4_MAX_BOXES:
            raise _bad_mp4()
        length, kind = struct.unpack(">I4s", header[:8])
        if length == 1 and len(header) == 16:
            length = struct.unpack(">Q", header[8:16])[0]
        elif length == 0:
            length = size - position  # the last box runs to the end of the file
        if length < 8 or position + length > size or not all(32 <= b < 127 for b in kind):
            raise _bad_mp4()
        if boxes == 0 and (kind != b"ftyp" or header[8:12] not in _MP4_BRANDS):
            raise _bad_mp4()
        position, boxes = position + length, boxes + 1


def _bad_mp4() -> Invalid:
    return refuse(_l("The video is not a complete MP4 file."))


def _check_image(file: BinaryIO, expected: str, max_pixels: int) -> tuple[int, int]:
    """Header first (size, before decoding a single pixel), then a full verify and decode."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            file.seek(0)
            with Image.open(file, formats=[expected]) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise _too_many_pixels(max_pixels)
                image.verify()
            file.seek(0)
            with Image.open(file, formats=[expected]) as image:
                image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(max_pixels) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error, EOFError):
            # Pillow reports broken image data with any of these.
            raise refuse(_l("The image is damaged or incomplete and cannot be shown.")) from None
    return width, height


def _too_many_pixels(max_pixels: int) -> Invalid:
    return refuse(_l("The image is too large: at most %(mp)s megapixels.", mp=max_pixels // 1_000_000))


def _text(file: BinaryIO, head: bytes) -> Detected:
    """Plain text: valid UTF-8 throughout, no control characters but tab and line breaks, not markup."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    file.seek(0)
    started = False
    while chunk := file.read(64 * 1024):
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError:
            raise _unknown() from None
        if _CONTROL.search(text):
            raise _unknown()
        if not started and (start := text.lstrip("\ufeff \t\r\n")):
            started = True
            if _MARKUP_START.match(start):
                raise refuse(_l("Web pages, SVG and XML documents are not accepted as evidence."))
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _unknown() from None
    if b"%PDF" in head:
        raise refuse(_l("The file looks like two formats at once (it carries a PDF header)."))
    return Detected("text/plain")


def _unknown() -> Invalid:
    return refuse(_l("This type of file is not accepted."),
                  _l("Send a photo (JPEG, PNG, WebP, GIF), a PDF, an MP4 video or a plain text file."))
