"""Small real PDFs for tests, made with fpdf2 (core Helvetica covers Latin-1: ä ö ü ß § work, – does not).

>>> make_pdf(tmp_path / "a.pdf", ["Seite eins", "Seite zwei"])  # doctest: +SKIP
PosixPath('.../a.pdf')
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF

FONT = "Helvetica"

# A guideline as the BSI writes them: a table of contents, numbered chapters whose sections run on across
# pages, a running chapter header atop each page, a numbered list of steps that is no chapter, a footnote.
GUIDELINE = [
    "Technische Richtlinie Musterportal",
    "Inhalt\n1 Einleitung ........................ 3\n1.1 Zielsetzung ........................ 3\n"
    "1.2 Ablauf einer Antragstellung ........................ 3\n2 Anforderungen ........................ 4\n"
    "2.1 Sitzungen ........................ 5\n2.2 Protokolle ........................ 6",
    "1 Einleitung\nDieses Dokument richtet sich an Betreiber von Onlinediensten.\n1.1 Zielsetzung\n"
    "Ziel ist die sichere Entwicklung nach dem Prinzip Security-by-Design.\n1.2 Ablauf einer Antragstellung\n"
    "Ein Antrag durchläuft mehrere Schritte.\n1 Ansteuerung\n2 Authentifizierung\n3 Antragsbefüllung\n"
    "Jeder Schritt wird protokolliert.\n1 Vgl. Glossar",
    "1 Einleitung\nDer Ablauf endet mit der Übermittlung des Antrags an das Fachverfahren.\n"
    "Die Übermittlung erfolgt verschlüsselt.\nDer Empfang wird bestätigt.\n2 Anforderungen\n"
    "Die Anforderungen gelten für alle Onlinedienste.\nSie sind verbindlich.\nAusnahmen sind zu begründen.",
    "2 Anforderungen\n2.1 Sitzungen\nEine Sitzung MUSS nach 30 Minuten ohne Aktivität beendet werden.",
    "2 Anforderungen\nDie Sitzungsdauer ist dem Nutzer anzuzeigen.\n2.2 Protokolle\n"
    "Protokolle MÜSSEN zwei Jahre aufbewahrt werden.",
]


def _new_pdf(title: str | None = None) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_font(FONT, size=11)
    if title:
        pdf.set_title(title)
    return pdf


def make_pdf(
    path: Path,
    pages: Sequence[str],
    *,
    header: str | None = None,
    footer: str | None = None,
    title: str | None = None,
) -> Path:
    """One PDF page per entry of `pages` (explicit line breaks kept); optional header and footer on each page.

    `footer` may use {n} and {total}, e.g. "Seite {n} von {total}".
    >>> make_pdf(Path("/tmp/x.pdf"), ["Größe"], footer="Seite {n} von {total}").exists()  # doctest: +SKIP
    True
    """
    pdf = _new_pdf(title)
    for number, body in enumerate(pages, start=1):
        pdf.add_page()
        if header:
            pdf.set_xy(15, 10)
            pdf.cell(0, 6, header)
        pdf.set_xy(15, 30)
        for line in body.split("\n"):
            pdf.set_x(15)
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        if footer:
            pdf.set_xy(15, 280)
            pdf.cell(0, 6, footer.format(n=number, total=len(pages)))
    _save(pdf, path)
    return path


def make_encrypted_pdf(
    path: Path, text: str, *, user_password: str = "", owner_password: str = "owner"
) -> Path:
    """A one-page PDF encrypted with fpdf2 (RC4); with a user password it cannot be opened without it.

    >>> make_encrypted_pdf(Path("/tmp/e.pdf"), "Geheim", user_password="pw").exists()  # doctest: +SKIP
    True
    """
    pdf = _new_pdf()
    pdf.set_encryption(owner_password=owner_password, user_password=user_password)
    pdf.add_page()
    pdf.set_xy(15, 30)
    pdf.cell(0, 6, text)
    _save(pdf, path)
    return path


def make_image_only_pdf(path: Path, pages: int = 2) -> Path:
    """A scanned-looking PDF: each page holds only a raster image and drawn shapes, no text layer.

    >>> make_image_only_pdf(Path("/tmp/scan.pdf")).exists()  # doctest: +SKIP
    True
    """
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(image).rectangle((20, 20, 380, 180), outline="black", width=4)
    pdf = _new_pdf()
    for _ in range(pages):
        pdf.add_page()
        pdf.image(image, x=20, y=20, w=160)
        pdf.set_fill_color(80, 80, 80)
        pdf.rect(20, 120, 160, 40, style="F")
    _save(pdf, path)
    return path


def _save(pdf: FPDF, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(pdf.output()))


def truncate(path: Path, fraction: float = 0.5) -> Path:
    """Cut a file down to its first `fraction` of bytes, in place (a broken download).

    >>> truncate(Path("/tmp/x.pdf")).stat().st_size  # doctest: +SKIP
    1074
    """
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path
