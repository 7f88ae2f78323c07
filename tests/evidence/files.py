"""Real files for the evidence tests, made here from scratch, and the calls that upload and fetch them."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def image(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), mode: str = "RGB", color=(200, 30, 30),
          **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def jpeg(**kwargs) -> bytes:
    return image("JPEG", **kwargs)


def png(**kwargs) -> bytes:
    return image("PNG", **kwargs)


def gps_exif(orientation: int | None = None) -> Image.Exif:
    """What a phone writes: its make, and where the photo was taken."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    if orientation is not None:
        exif[ORIENTATION] = orientation
    return exif


def jpeg_with_gps(size: tuple[int, int] = (64, 48), orientation: int | None = None) -> bytes:
    return jpeg(size=size, exif=gps_exif(orientation))


def pdf() -> bytes:
    """A minimal valid one-page PDF, with a correct cross-reference table."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def mp4() -> bytes:
    ftyp = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    payload = b"\x00" * 32
    mdat = struct.pack(">I", 8 + len(payload)) + b"mdat" + payload
    return ftyp + mdat


def text() -> bytes:
    return "Tracking number: LX123456789CN\r\nShipped on 2 March.\t✓ 已发货\n".encode()


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims `width` × `height` pixels but carries almost no data (a pixel bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    idat_data = zlib.compress(b"\x00" * 64)
    idat = struct.pack(">I", len(idat_data)) + b"IDAT" + idat_data + struct.pack(">I", zlib.crc32(b"IDAT" + idat_data))
    return b"\x89PNG\r\n\x1a\n" + chunk + idat + b"\x00\x00\x00\x00IEND\xaeB`\x82"


ACCEPTED = {
    "image/jpeg": (jpeg, "photo.jpg"),
    "image/png": (png, "screenshot.png"),
    "image/webp": (lambda: image("WEBP"), "photo.webp"),
    "image/gif": (lambda: image("GIF", mode="P", color=3), "animation.gif"),
    "application/pdf": (pdf, "invoice.pdf"),
    "video/mp4": (mp4, "unboxing.mp4"),
    "text/plain": (text, "tracking.txt"),
}


def upload(client, info, role: str | None, data: bytes, name: str = "photo.jpg", headers: dict | None = None,
           **fields):
    """POST the file as multipart, as `role` with a party token (or with the given headers)."""
    form = {"file": (io.BytesIO(data), name), **{key: str(value) for key, value in fields.items()}}
    return client.post(f"/api/v1/cases/{info.id}/evidence", data=form, content_type="multipart/form-data",
                       headers=headers if headers is not None else info.headers(role))


def evidence_url(info, evidence_id: int, variant: str = "") -> str:
    return f"/api/v1/cases/{info.id}/evidence/{evidence_id}" + (f"/{variant}" if variant else "")


def stored_files(root: Path) -> list[Path]:
    """Every file in the store, temporary ones included."""
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []
