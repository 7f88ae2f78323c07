"""The PDF of a settlement or ruling document: English and Simplified Chinese side by side, the machine-readable
JSON printed at the end and attached as `document.json` (what /verify and `flask mediation verify-document`
read back).

The font is WenQuanYi Micro Hei (TrueType, Latin and CJK), installed from PyPI with the other requirements
(`paperang-p2-fonts-cjk`, the same file Debian ships as fonts-wqy-microhei); `DOCUMENT_FONT` may point at
another TrueType font or collection. TrueType rather than a CFF-based Noto OTF: text extraction (pypdf)
reads fpdf2's CFF fonts back with stray NUL characters.
"""
from __future__ import annotations

from datetime import UTC
from importlib.resources import files

from flask import current_app
from fpdf import FPDF
from fpdf.fonts import FontFace

from mediation.models.event_log import canonical_json
from mediation.services.document_verify import ATTACHMENT
from mediation.services.documents import Document
from mediation.web.document_text import Column, columns

FONT = "docfont"


def font_path() -> str:
    configured = current_app.config.get("DOCUMENT_FONT")
    if configured:
        return str(configured)
    return str(files("paperang_p2_fonts_cjk").joinpath("fonts/wqy-microhei.ttc"))


def render(document: Document, heading: str) -> bytes:
    """The PDF's bytes. `heading` is the bilingual line on top (rendered by the caller)."""
    sides = columns(document)
    data = canonical_json(document.as_json()).encode()
    pdf = FPDF(format="A4")
    pdf.set_title(f"{sides[0].title} / {sides[1].title}")
    pdf.set_creation_date(document.recorded_at.astimezone(UTC))
    pdf.add_font(FONT, fname=font_path(), collection_font_number=0)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font(FONT, size=9)
    pdf.multi_cell(0, 5, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _table(pdf, sides)
    pdf.ln(4)
    pdf.set_font(FONT, size=7)
    pdf.multi_cell(0, 3.5, data.decode(), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.embed_file(bytes=data, basename=ATTACHMENT, mime_type="application/json",
                   modification_date=document.recorded_at, desc="Mediation document (machine-readable)")
    return bytes(pdf.output())


def _table(pdf: FPDF, sides: list[Column]) -> None:
    """One row per fact, the same fact in both languages on one line, so a reader compares them at a glance."""
    with pdf.table(col_widths=(1, 1), first_row_as_headings=False, borders_layout="HORIZONTAL_LINES",
                   line_height=4.5, padding=1.5, text_align="LEFT") as table:
        title = table.row()
        for side in sides:
            title.cell(f"{side.title}\n{side.subtitle}", style=FontFace(size_pt=12))
        for pair in zip(*(side.rows for side in sides), strict=True):
            row = table.row()
            for item in pair:
                text = f"{item.value}\n{item.url}" if item.url else item.value
                row.cell(f"{item.label}\n{text}" if item.label else text, link=item.url)
