"""Previews and thumbnails of image evidence, made with Pillow when the file is uploaded.

They are what the room shows, so they carry no metadata at all: EXIF (above all the GPS location a phone
writes into every photo), XMP, comments and colour profiles are dropped, after the EXIF orientation has
been applied to the pixels. The original stays on the record byte for byte, for those allowed to download it.
"""
from __future__ import annotations

import io
import warnings
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

from mediation.services import filetypes

SIZES = {"preview": 1600, "thumbnail": 320}
KINDS = tuple(SIZES)


def render(file: BinaryIO) -> dict[str, bytes]:
    """{kind: encoded bytes} for every size; PNG where the image has transparency, else JPEG.

    `file` has passed filetypes.inspect; an image Pillow still cannot render is refused as damaged.
    """
    try:
        return _render(file)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise filetypes.refuse(_l("The image is damaged or incomplete and cannot be shown.")) from None


def _render(file: BinaryIO) -> dict[str, bytes]:
    largest = max(SIZES.values())
    file.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)  # already checked; never decode a bomb
        with Image.open(file) as image:
            image.seek(0)  # the first frame of an animation
            image.draft(None, (largest, largest))  # a JPEG decodes at a reduced scale: far less memory
            upright = ImageOps.exif_transpose(image)
            transparent = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
            pixels = upright.convert("RGBA" if transparent else "RGB")
    pixels.thumbnail((largest, largest), Image.Resampling.LANCZOS)
    clean = _without_metadata(pixels)
    return {kind: _encode(clean, size) for kind, size in SIZES.items()}


def _without_metadata(image: Image.Image) -> Image.Image:
    """Only the pixels: a new image owes nothing to the file's EXIF, XMP, ICC or comment blocks."""
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def _encode(image: Image.Image, size: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if copy.mode == "RGBA":
        copy.save(out, "PNG", optimize=True)
    else:
        copy.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def media_type(head: bytes) -> str:
    """The type of a stored preview, from its first bytes (PNG or JPEG, as `_encode` wrote it)."""
    return "image/png" if head.startswith(b"\x89PNG") else "image/jpeg"
