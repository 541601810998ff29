"""Generate the project's own sample PDFs into corpus/pdf/ (deterministic: same bytes on every run).

The PDFs are summaries written by the Beschlusslage project, not official texts. Each page carries a
running header (document title) and a footer ("Seite N von M") that the loader is expected to strip.
Every page's content is fixed: if a page overflows, generation fails instead of silently shifting text
to the next page (the eval set cites exact pages).

Usage::

    python corpus/make_pdfs.py              # writes corpus/pdf/*.pdf
    python corpus/make_pdfs.py --out /tmp/x # writes elsewhere

Needs the DejaVu fonts (Debian package ``fonts-dejavu-core``) for full German typography („“ – §).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF

log = logging.getLogger("corpus.make_pdfs")

FIXED_DATE = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
AUTHOR = "Projekt Beschlusslage"
LABEL = "Zusammenfassung durch das Projekt Beschlusslage, kein amtlicher Text."
DEFAULT_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
DEFAULT_OUT_DIR = Path(__file__).resolve().parent / "pdf"

FONT = "DejaVu"
BODY_SIZE = 10.5
LINE_H = 5.4


@dataclass(frozen=True)
class Block:
    """One layout element: heading ("h"), paragraph ("p"), numbered ("ol") or bulleted ("ul") list."""

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()


def h(text: str) -> Block:
    return Block("h", text)


def p(text: str) -> Block:
    return Block("p", text)


def ol(*items: str) -> Block:
    return Block("ol", items=items)


def ul(*items: str) -> Block:
    return Block("ul", items=items)


@dataclass(frozen=True)
class PdfDoc:
    filename: str
    title: str
    source_url: str
    keywords: str
    pages: tuple[tuple[Block, ...], ...]


class _Pdf(FPDF):
    def __init__(self, doc_title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.doc_title = doc_title

    def header(self) -> None:
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.doc_title, align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(160, 160, 160)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(6)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, f"Seite {self.page_no()} von {{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def _render_block(pdf: _Pdf, block: Block) -> None:
    width = pdf.w - pdf.l_margin - pdf.r_margin
    if block.kind == "h":
        pdf.ln(1.5)
        pdf.set_font(FONT, "B", 12)
        pdf.multi_cell(width, 6.2, block.text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    elif block.kind == "p":
        pdf.set_font(FONT, "", BODY_SIZE)
        pdf.multi_cell(width, LINE_H, block.text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    elif block.kind in ("ol", "ul"):
        pdf.set_font(FONT, "", BODY_SIZE)
        for number, item in enumerate(block.items, start=1):
            marker = f"{number}." if block.kind == "ol" else "•"
            pdf.set_x(pdf.l_margin + 2)
            pdf.cell(7, LINE_H, marker)
            pdf.multi_cell(width - 9, LINE_H, item, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(0.8)
        pdf.ln(1.5)
    else:
        raise ValueError(f"unknown block kind {block.kind!r}")


def render(doc: PdfDoc, out_dir: Path, font_dir: Path = DEFAULT_FONT_DIR) -> Path:
    """Write one PDF and return its path; raises ValueError if a page's content overflows."""
    regular, bold = font_dir / "DejaVuSans.ttf", font_dir / "DejaVuSans-Bold.ttf"
    for font in (regular, bold):
        if not font.is_file():
            raise FileNotFoundError(f"{font} fehlt – bitte das Paket fonts-dejavu-core installieren")
    pdf = _Pdf(doc.title)
    pdf.add_font(FONT, "", str(regular))
    pdf.add_font(FONT, "B", str(bold))
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title(doc.title)
    pdf.set_author(AUTHOR)
    pdf.set_subject(f"{LABEL} Amtliche Quelle: {doc.source_url}")
    pdf.set_keywords(doc.keywords)
    pdf.set_creator("Beschlusslage corpus/make_pdfs.py")
    pdf.set_lang("de-DE")
    pdf.set_margins(20, 14, 20)
    pdf.set_auto_page_break(True, margin=20)

    width = pdf.w - pdf.l_margin - pdf.r_margin
    for page_no, blocks in enumerate(doc.pages, start=1):
        pdf.add_page()
        if page_no == 1:
            pdf.set_font(FONT, "B", 16)
            pdf.multi_cell(width, 8, doc.title, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
            pdf.set_font(FONT, "", 9)
            pdf.set_fill_color(238, 238, 238)
            pdf.multi_cell(
                width,
                5,
                f"{LABEL} Amtliche Quelle: {doc.source_url}",
                border=1,
                fill=True,
                align="L",
                new_x="LMARGIN",
                new_y="NEXT",
            )
            pdf.ln(3)
        for block in blocks:
            _render_block(pdf, block)
        if pdf.page != page_no:
            raise ValueError(f"{doc.filename}: Inhalt von Seite {page_no} passt nicht auf eine Seite")

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / doc.filename
    path.write_bytes(bytes(pdf.output()))
    log.info("%s: %d Seiten geschrieben", path, len(doc.pages))
    return path


# --------------------------------------------------------------------------------------------------
# Content. Written by the project in its own words; facts restated from the official sources named
# on page 1 of each PDF (see also corpus/sources.toml).
# --------------------------------------------------------------------------------------------------

SITZUNG_40 = PdfDoc(
    filename="sitzungsbericht-40-sitzung-it-planungsrat.pdf",
    title="Sitzungsbericht: 40. Sitzung des IT-Planungsrats am 29. März 2023",
    source_url="https://it-planungsrat.de/beschluss/beschluss-2023-02",
    keywords="IT-Planungsrat, 40. Sitzung, Kommunalpakt, Beschluss 2023/02, Hessen, FITKO, 115",
    pages=(
        (
            h("Auf einen Blick"),
            ul(
                "Datum und Ort: 29. März 2023 in Halle (Saale).",
                "Vorsitz: Hessen, vertreten durch Staatssekretär Patrick Burghardt, CIO der hessischen "
                "Landesregierung. Es war die erste Sitzung unter hessischem Vorsitz.",
                "Schwerpunkte: ein neues Selbstverständnis des Gremiums, eine stärkere Einbindung der Kommunen "
                "in die Nachnutzung von EfA-Leistungen (Kommunalpakt) und neue Finanzierungsmodalitäten.",
                "Wichtigster Beschluss für Kommunen: Beschluss 2023/02 „Kommunalpakt“.",
            ),
            h("Warum dieser Bericht?"),
            p(
                "Die Beschlussvorlagen des IT-Planungsrats sind umfangreich und für kleine Verwaltungen schwer "
                "auszuwerten. Dieser Bericht fasst die 40. Sitzung aus kommunaler Sicht zusammen. Er stützt sich "
                "auf den veröffentlichten Beschlusstext, die Bekanntmachung im Bundesanzeiger und Berichte der "
                "Fachpresse und der kommunalen Spitzenverbände. Zitate sind sinngemäß wiedergegeben."
            ),
            h("Ein neues Selbstverständnis"),
            p(
                "Der IT-Planungsrat hat sich ein neues Leitbild gegeben. Bund, Länder und Kommunen verstehen "
                "sich darin als Gemeinschaft, die im föderalen Konsens Strategien, Strukturen und Standards für "
                "die digitale Verwaltung entwickelt. Als tragende Werte werden Vielfalt, Konsens und Mut genannt. "
                "Das Leitbild ist in dem Satz „Der deutsche IT-Planungsrat – Gemeinsam wirksam“ zusammengefasst."
            ),
            p(
                "Das Selbstverständnis knüpft an die Neuausrichtung an, die 2022 auf der ersten Klausurtagung "
                "des Gremiums beschlossen worden war. In der Sitzung berichteten die Themenpaten über ihre "
                "Schwerpunktthemen. Außerdem wurden fachpolitische Sprecher als Bindeglied zu den "
                "Fachministerkonferenzen vorgestellt und eine Bereinigung der Gremienlandschaft angekündigt."
            ),
        ),
        (
            h("Kommunalpakt: die Eckpunkte"),
            p(
                "Mit dem Kommunalpakt bekennen sich Bund, Länder und Kommunen dazu, die Umsetzung des "
                "Onlinezugangsgesetzes gemeinsam und verstärkt fortzusetzen. Im Blick stehen die Nachnutzung "
                "nach dem EfA-Prinzip und eine durchgängige Digitalisierung. Das EfA-Konzept hat die "
                "OZG-Umsetzung vorangebracht, die Nachnutzung in der Fläche bringt aber eigene Probleme mit "
                "sich. Zu den skizzierten Eckpunkten gehören:"
            ),
            ol(
                "eine langfristig gesicherte Finanzierung der Nachnutzung von EfA-Diensten,",
                "kommunale OZG-Koordinatoren für EfA-Dienste in jedem Land,",
                "Nachnutzungs-Kernteams, Umsetzungsbegleitteams und regionale OZG-Taskforces in jedem Land, "
                "die die Pilotierung vorantreiben,",
                "gezielte Unterstützung bei der Anbindung von Fachverfahren,",
                "laienverständlich aufbereitete Informations- und Anbindungsdokumente für Kommunen.",
            ),
            h("Beschluss 2023/02 in eigenen Worten"),
            ol(
                "Der IT-Planungsrat stimmt den skizzierten Eckpunkten des Kommunalpakts zu.",
                "Der IT-Planungsrat bittet das Land Hessen, den Pakt gemeinsam mit dem BMI, den kommunalen "
                "Spitzenverbänden und den Federführern weiter auszuarbeiten und zu operationalisieren.",
                "Der IT-Planungsrat bittet Hessen, zur 41. Sitzung einen mit Ländern, Bund und kommunalen "
                "Spitzenverbänden abgestimmten, unterschriftsreifen Kommunalpakt vorzulegen.",
            ),
            h("Was der Bund beisteuert"),
            p(
                "Bundes-CIO Markus Richter betonte, dass Verwaltungsdigitalisierung nur gelingt, wenn die "
                "Kommunen als Verwaltungsträger vor Ort immer mitgedacht werden. Der Bund kündigte ein "
                "„Digitales Forum Kommunalpakt“ an und einen Nationalen Trilog mit Ländern und Kommunen. Dieser "
                "sollte bis Anfang 2024 die verfassungsrechtlichen Rahmenbedingungen der föderalen "
                "Zusammenarbeit bei der Digitalisierung bewerten und Verbesserungsvorschläge erarbeiten."
            ),
        ),
        (
            h("Finanzierung und FITKO"),
            p(
                "Ein zweiter Schwerpunkt war die Handlungsfähigkeit des IT-Planungsrats. Die Genehmigung des "
                "Wirtschaftsplans der FITKO (Föderale IT-Kooperation) war bis dahin an langwierige "
                "Beschlussverfahren gebunden. Dadurch konnten FITKO und IT-Planungsrat nur langsam auf neue "
                "Anforderungen reagieren. In der Sitzung wurden Änderungen beschlossen, die eine flexiblere "
                "Bewirtschaftung der jährlichen Restmittel ermöglichen."
            ),
            p(
                "Vorbereitet worden war das durch den Beschluss 2022/40 zur Finanzgovernance aus der "
                "39. Sitzung. Darin hatte der IT-Planungsrat prüfen lassen, ob zweckgebundene Restmittel künftig "
                "auch ohne Einwilligung von Finanzministerkonferenz und Bund in das nächste Jahr mitgenommen "
                "werden dürfen, und um einen Vorschlag zur 40. Sitzung gebeten."
            ),
            p(
                "Beraten wurde außerdem über eine Nachfolge für das gemeinsame Digitalisierungsbudget, das in "
                "den Jahren 2020 bis 2022 zur Verfügung stand. Der Vorsitzende Burghardt warb für eine flexible "
                "Nachfolgeregelung, weil sich die Digitalisierung des Jahres 2025 nicht schon heute planen "
                "lasse; dafür müsse der IT-Staatsvertrag geändert werden."
            ),
            h("Behördennummer 115 als First-Level-Support"),
            p(
                "Auf der Tagesordnung stand zudem ein Konzept, wie die Behördenrufnummer 115 bundesweit den ersten "
                "Support für Online-Dienste (First-Level-Support) übernehmen kann. Der 115-Verbund hatte die "
                "Behördennummer in den Vorjahren weiterentwickelt. Ziel ist, dass Menschen, die mit einem "
                "Online-Antrag nicht weiterkommen, über die 115 eine erste Hilfe erhalten; fachliche Fragen "
                "werden an die zuständige Stelle weitergegeben."
            ),
            p(
                "Für Kommunen heißt das: Die eigenen Leistungsbeschreibungen sollten aktuell sein, und es sollte "
                "eine Ansprechperson geben, an die das Servicecenter Fragen zu kommunalen Online-Diensten "
                "weiterleiten kann."
            ),
        ),
        (
            h("Reaktionen der kommunalen Spitzenverbände"),
            p(
                "Der Deutsche Städtetag, der Deutsche Landkreistag und der Deutsche Städte- und Gemeindebund "
                "begrüßten den angekündigten Kommunalpakt, forderten aber, dass dem Signal Taten folgen. Bund "
                "und Länder sollten für jeden Online-Service ein umfassendes und dauerhaftes "
                "Nachnutzungskonzept vorlegen. Darin müsse geregelt sein, wer Integration, Betrieb, Schnittstellen "
                "und Support für die Kommunen bezahlt. Nur dann könne eine Kommune "
                "entscheiden, ob sich die Nutzung eines Online-Services wirtschaftlich und technisch lohnt."
            ),
            h("Wie es weiterging"),
            ol(
                "In der 41. Sitzung am 4. Juli 2023 wurde der Kommunalpakt als Kooperationsvereinbarung "
                "zwischen dem IT-Planungsrat und den kommunalen Spitzenverbänden verabschiedet und vom "
                "Vorsitzenden unterzeichnet.",
                "In derselben Sitzung wurde ein Entwurf zur Änderung des IT-Staatsvertrags beschlossen, der ein "
                "dauerhaftes Digitalisierungsbudget in der Finanzplanung der FITKO vorsieht.",
                "Im Herbst 2023 legte der IT-Planungsrat im Umlaufverfahren (Beschluss 2023/35) einen festen "
                "Schlüssel für die gemeinsame EfA-Finanzierung ab 2024 fest.",
                "Zum 1. Januar 2024 übernahm der Bund turnusgemäß den Vorsitz von Hessen. Der Bund würdigte "
                "dabei besonders die Einbeziehung der Kommunen im hessischen Vorsitzjahr.",
            ),
            h("Checkliste für die eigene Verwaltung"),
            ul(
                "Wer ist im eigenen Land kommunale OZG-Koordination für EfA-Dienste?",
                "Gibt es im Land ein Nachnutzungs-Kernteam oder eine regionale OZG-Taskforce?",
                "Liegen für die geplanten Online-Dienste Kosteninformationen und Anbindungsunterlagen vor?",
                "Ist geklärt, wer bei Fragen zu Online-Diensten den First-Level-Support leistet?",
            ),
        ),
    ),
)

EFA_HANDREICHUNG = PdfDoc(
    filename="handreichung-efa-nachnutzung-kleine-kommunen.pdf",
    title="Handreichung: Nachnutzung von EfA-Leistungen für kleine Kommunen",
    source_url="https://leitfaden.ozg-umsetzung.de/11-Nachnutzung_12587259.html",
    keywords="EfA, Einer für Alle, Nachnutzung, FIT-Store, Marktplatz, Kosten, Kommunen",
    pages=(
        (
            h("Worum es in dieser Handreichung geht"),
            p(
                "„Einer für Alle“ (EfA) heißt: Ein Land oder eine Allianz mehrerer Länder entwickelt einen "
                "Online-Dienst für eine Verwaltungsleistung, betreibt ihn zentral und stellt ihn allen anderen "
                "Ländern und deren Kommunen zur Verfügung. So müssen nicht 16 Länder und tausende Kommunen "
                "dieselbe Lösung mehrfach bauen. Bund und Länder haben die OZG-Leistungen dafür im "
                "Digitalisierungsprogramm Föderal in Themenfeldern aufgeteilt; die Themenfeld-Federführer sorgen "
                "dafür, dass für jede Leistung ein Online-Service entsteht."
            ),
            p(
                "Für eine kleine Gemeinde mit wenigen Beschäftigten ist EfA eine große Chance: Sie muss keinen "
                "eigenen Online-Antrag entwickeln. Die Nachnutzung ist aber kein Selbstläufer. Verträge, Kosten, "
                "die Anbindung an das eigene Fachverfahren und die Zuständigkeiten im Land müssen geklärt sein."
            ),
            h("Aufbau"),
            ol(
                "Seite 2: Nachnutzungsmodelle und rechtliche Wege",
                "Seite 3: Welche Kosten weitergegeben werden dürfen",
                "Seite 4: Wer die EfA-Nachnutzung seit 2024 bezahlt",
                "Seite 5: Schritt für Schritt zur Nachnutzung",
            ),
            h("Wichtige Begriffe"),
            ul(
                "Umsetzendes Land (UL): das Land, das den Online-Dienst entwickelt hat und betreibt.",
                "Anschließendes Land (AL): ein Land, das den Dienst für sich und seine Kommunen nachnutzt.",
                "Fokusleistungen: EfA-Leistungen, die Bund und Länder vorrangig gemeinsam finanzieren.",
                "Fachverfahren: die Software, in der die Kommune den Antrag tatsächlich bearbeitet.",
            ),
        ),
        (
            h("Nachnutzungsmodelle"),
            p(
                "In seiner 34. Sitzung im März 2021 hat der IT-Planungsrat Software-as-a-Service (SaaS) zum "
                "vorrangigen Modell für die Nachnutzung von EfA-Online-Diensten gemacht. Die Kommune bekommt "
                "also keine Software zum Installieren, sondern nutzt einen Dienst, den das umsetzende Land "
                "betreibt. Daneben gibt es das Modell „Nachnutzbare Software dezentral betrieben“, bei dem eine "
                "Lösung an mehreren Stellen selbst betrieben wird."
            ),
            h("EfA-Mindestanforderungen zur Rechtslage"),
            p(
                "Der OZG-Leitfaden formuliert zwei rechtliche Mindestanforderungen an das verantwortliche Land. "
                "Erstens muss es eine geeignete rechtliche Möglichkeit zur Mitnutzung anbieten, auch für "
                "Leistungen im Landesvollzug und im übertragenen Wirkungskreis. Zweitens muss es genügend "
                "Lizenzrechte besitzen, damit andere Länder und Kommunen den Dienst nutzen dürfen."
            ),
            h("Drei rechtliche Wege"),
            ol(
                "Verwaltungsabkommen: Umsetzendes Land und alle nachnutzenden Länder unterzeichnen ein "
                "gemeinsames Abkommen über Betrieb, Pflege, Weiterentwicklung und Finanzierung. Eine Blaupause "
                "soll den Aufwand senken.",
                "FIT-Store: Die FITKO schließt mit dem umsetzenden Land einen Einstellungsvertrag und mit jedem "
                "anschließenden Land einen SaaS-Nachnutzungsvertrag.",
                "Marktplatz für EfA-Leistungen: Seit dem 01.04.2024 ist der Marktplatz nach Beschluss 2024/13 "
                "verbindlich zu nutzen. Ältere Verträge mit der FITKO mussten in den Marktplatz überführt werden.",
            ),
            h("Zugang zum Marktplatz"),
            p(
                "Kommunen, öffentliche IT-Dienstleister und Länder können sich auf dem Marktplatz registrieren "
                "und akkreditieren. Eine Kommune muss dafür weder Trägerin der FITKO noch Mitglied der govdigital "
                "eG sein, braucht aber ein Inhouse-Verhältnis zu mindestens einem der beiden Anbieter. In vielen "
                "Ländern schließt das Land oder der kommunale IT-Dienstleister die Verträge für alle Kommunen."
            ),
        ),
        (
            h("Welche Kosten weitergegeben werden dürfen"),
            p(
                "Mit Beschluss 2021/23 (34. Sitzung, 17. März 2021) hat der IT-Planungsrat als Ziel festgelegt, "
                "dass EfA-Lösungen die wirtschaftlichste Betriebsform für Online-Dienste bieten. Welche Kosten "
                "ein Betreiber den Nachnutzern in Rechnung stellen darf, regelt der Beschluss 2021/24 aus der "
                "35. Sitzung vom 23. Juni 2021. Berücksichtigungsfähig sind nur fünf Kostenarten:"
            ),
            ol(
                "Betrieb der technischen Infrastruktur,",
                "fachliche Weiterentwicklung der Software und Changemanagement,",
                "anteilige Plattform-Nutzungsentgelte, soweit sie auf EfA-Zwecke entfallen und nicht schon in "
                "den Infrastrukturkosten stecken,",
                "Kosten, die unmittelbar dem Betrieb des Online-Dienstes zuzurechnen sind, etwa Wartung und "
                "Support,",
                "bei Bedarf direkt durch die Nutzung verursachte Kosten wie Druck und Briefversand.",
            ),
            h("Wie die Kosten verteilt werden"),
            p(
                "Zur Auswahl stehen die Einwohnerzahl je teilnehmender Organisation, die Zahl der tatsächlichen "
                "Nutzungen und die Größe einer Zielgruppe, zum Beispiel Studierende oder Unternehmen. Zusätzlich "
                "ist der angepasste Königsteiner Schlüssel möglich, und Schlüssel dürfen kombiniert werden. "
                "Über den Schlüssel entscheidet die Steuerungsgruppe des Umsetzungsprojekts. Einigt sie sich "
                "nicht einstimmig, wird nach tatsächlichen Nutzungen abgerechnet."
            ),
            h("Transparenzpflicht"),
            p(
                "Nach Beschluss 2022/21 (38. Sitzung) sollen Anbieter von EfA-Lösungen den Nachnutzern "
                "spätestens ab 1. Oktober 2022 verbindlich und nachvollziehbar mitteilen, was die Nachnutzung "
                "kostet und wie die Kosten verteilt werden. Bis zum selben Datum sollten die Länder ihre "
                "Finanzierungsmodalitäten für die Nachnutzung im eigenen Land bekannt machen. Fragen Sie Ihr "
                "Land nach diesen Regeln, bevor Sie Haushaltsmittel einplanen."
            ),
        ),
        (
            h("Wer die EfA-Nachnutzung seit 2024 bezahlt"),
            p(
                "Bis Ende 2022 wurde die Entwicklung von EfA-Diensten großteils mit Mitteln aus dem "
                "Konjunkturpaket des Bundes finanziert. Für die Zeit danach hat der IT-Planungsrat eine "
                "gemeinsame Finanzierung über das Stammbudget der FITKO beschlossen (Umlaufbeschluss 2023/35 "
                "vom 10. Oktober 2023). Ab dem Wirtschaftsjahr 2024 gilt, beginnend mit den Fokusleistungen, "
                "folgender Schlüssel:"
            ),
            ul(
                "50 Prozent tragen die nachnutzenden Länder,",
                "25 Prozent trägt der Bund,",
                "25 Prozent tragen alle Länder gemeinsam nach dem Königsteiner Schlüssel.",
            ),
            h("Die Beträge"),
            ol(
                "Für den neuen Titel „Nachnutzung EfA-Leistungen“ im FITKO-Wirtschaftsplan werden zunächst bis "
                "zu 10 Mio. Euro aus vorhandenen Mitteln bereitgestellt (Beschluss 2023/35).",
                "In der 42. Sitzung am 3. November 2023 kamen weitere bis zu 10 Mio. Euro aus Ausgaberesten "
                "hinzu; außerdem bis zu 15 Mio. Euro für Fokusleistungen im Rahmen von EfA 2.0 und bis zu 15 Mio. "
                "Euro für Leistungen im föderalen Interesse (Beschluss 2023/43).",
                "Für den Roll-out und Roll-in der EfA-Fokusleistungen im Jahr 2024 wurden 16,0 Mio. Euro aus "
                "Restmitteln bereitgestellt (Beschluss 2024/03).",
                "Ab 2025 sollten weitere EfA-Verfahren in die gemeinsame Finanzierung aufgenommen werden.",
            ),
            h("Was das für den kommunalen Haushalt heißt"),
            p(
                "Der Schlüssel regelt nur die Lastenverteilung zwischen Bund und Ländern. Ob ein Land seinen "
                "Anteil ganz oder teilweise an die Kommunen weitergibt, entscheidet es selbst. Zusätzlich können "
                "in der Kommune Kosten für die Anbindung an das Fachverfahren, für Schulungen und für den "
                "Support entstehen. Diese Kosten sollten in der Haushaltsplanung gesondert betrachtet werden."
            ),
        ),
        (
            h("Schritt für Schritt zur Nachnutzung"),
            ol(
                "Bedarf klären: Welche Leistungen fragen Bürgerinnen, Bürger und Betriebe bei uns am häufigsten "
                "nach, und wofür gibt es schon einen EfA-Dienst?",
                "Zuständigkeit im Land erfragen: Die OZG-Koordination des Landes weiß, ob ein Dienst landesweit "
                "nachgenutzt wird und wer die Verträge schließt.",
                "Kosteninformation anfordern: Liegt die verbindliche Kosteninformation des Anbieters vor, und "
                "wie ist die Finanzierung im Land geregelt?",
                "Fachverfahren prüfen: Kann unser Fachverfahren die Anträge aus dem Online-Dienst übernehmen, "
                "oder braucht es eine Schnittstelle des Herstellers?",
                "Datenschutz klären: Für die Verarbeitung im länderübergreifenden Onlinedienst ist nach § 8a OZG "
                "die betreibende Behörde verantwortlich; für die weitere Bearbeitung bleibt es die Kommune.",
                "Anbindung testen: Einen Probeantrag durchspielen, bevor der Dienst freigeschaltet wird.",
                "Beschäftigte schulen und die Leistungsbeschreibung im Verwaltungsportal aktualisieren.",
                "Erfahrungen an das Land und den Spitzenverband zurückmelden.",
            ),
            h("Unterstützung im Land"),
            p(
                "Der OZG-Leitfaden empfiehlt anschließenden Ländern ein übergreifendes „Kernteam Nachnutzung“ "
                "auf Landesebene sowie Umsetzungsbegleitteams auf Ebene der Themenfelder. Der Kommunalpakt "
                "von 2023 sieht zusätzlich kommunale OZG-Koordinatoren für EfA-Dienste und regionale "
                "OZG-Taskforces in jedem Land vor."
            ),
            h("Tipp aus der Praxis"),
            p(
                "Die KGSt hat 2022 berichtet, dass sich Kommunen vor allem Blaupausen für die Umsetzung eines "
                "EfA-Dienstes wünschen und dass Nachnutzung wegen Personal- und Zeitmangel so einfach wie möglich "
                "sein muss. Es lohnt sich, bei Nachbarkommunen nach deren Erfahrungen zu fragen."
            ),
        ),
    ),
)

REGISTERMODERNISIERUNG = PdfDoc(
    filename="ueberblick-registermodernisierung-kommunen.pdf",
    title="Überblick: Registermodernisierung für Kommunen",
    source_url="https://www.gesetze-im-internet.de/idnrg/",
    keywords="Registermodernisierung, IDNrG, RegMoG, Steuer-ID, BVA, NOOTS, Datenschutzcockpit, Kommunen",
    pages=(
        (
            h("Warum Register modernisiert werden"),
            p(
                "Viele Anträge verlangen Nachweise, die eine Behörde schon besitzt: Geburtsurkunde, "
                "Meldebescheinigung, Einkommensdaten. Die Registermodernisierung soll das ändern. Nach dem "
                "Once-Only-Prinzip holt die Verwaltung vorhandene Daten mit Einverständnis der Betroffenen selbst "
                "aus dem zuständigen Register. Bei einem Antrag müssen dann nur noch neue oder geänderte Angaben "
                "gemacht werden."
            ),
            p(
                "Dazu verpflichtet auch das Europarecht: Die Single-Digital-Gateway-Verordnung der EU verlangt, "
                "dass Nachweise für bestimmte Verfahren grenzüberschreitend elektronisch ausgetauscht werden "
                "können. Voraussetzung für all das ist, dass eine Person in verschiedenen Registern eindeutig "
                "erkannt wird und Verwechslungen ausgeschlossen sind."
            ),
            h("Die Rechtsgrundlage"),
            p(
                "Grundlage ist das Registermodernisierungsgesetz (RegMoG), ausgefertigt am 28.03.2021. Sein "
                "Kern ist Artikel 1, das Identifikationsnummerngesetz (IDNrG). Die übrigen Artikel passen "
                "zahlreiche Fachgesetze an, in denen die betroffenen Register geregelt sind. Das IDNrG ist in Kraft "
                "getreten, nachdem das Bundesinnenministerium bekannt gemacht hatte, dass die technischen "
                "Voraussetzungen für den Betrieb vorliegen."
            ),
            h("Die drei Ziele des IDNrG"),
            ol(
                "Daten einer natürlichen Person sollen im Verwaltungsverfahren eindeutig zugeordnet werden.",
                "Die Qualität der zu einer Person gespeicherten Daten soll steigen.",
                "Menschen sollen seltener Unterlagen vorlegen müssen, die bei Behörden bereits vorhanden sind.",
            ),
        ),
        (
            h("Die Identifikationsnummer"),
            p(
                "Als gemeinsames Ordnungsmerkmal dient die steuerliche Identifikationsnummer nach § 139b der "
                "Abgabenordnung. Sie wurde gewählt, weil sie bereits in vielen Registern gespeichert ist, "
                "zufällig vergeben wird und selbst keine Informationen über die Person enthält. Wer die Nummer "
                "als Identifikator verwendet, erhält dadurch keinen Zugriff auf Steuerdaten."
            ),
            h("Pflichten registerführender Stellen"),
            ol(
                "Die Identifikationsnummer ist bis zum Ablauf des fünften auf das Inkrafttreten folgenden "
                "Kalenderjahres als zusätzliches Merkmal zu speichern. Nach Angabe des Bundesverwaltungsamts "
                "bedeutet das: bis zum 31.12.2028.",
                "Die Basisdaten im Register (etwa Familienname, Vornamen, Tag und Ort der Geburt, Anschrift) "
                "sind durch die beim "
                "Bundeszentralamt für Steuern gespeicherten Daten zu ersetzen und aktuell zu halten.",
                "Jede Datenübermittlung unter Verwendung der Nummer ist zu protokollieren.",
                "Protokoll-, Inhalts- und Bestandsdaten sind für das Datenschutzcockpit bereitzustellen.",
                "Die abrufende Stelle muss ein Berechtigungskonzept erstellen.",
            ),
            h("Das Bundesverwaltungsamt als Registermodernisierungsbehörde"),
            p(
                "Die Aufgaben der Registermodernisierungsbehörde nimmt das Bundesverwaltungsamt (BVA) wahr. Es "
                "erstellt eine Übersicht über die Register, liefert Identifikationsnummer und Basisdaten an die "
                "registerführenden Stellen und steuert die Umsetzungsprojekte übergeordnet."
            ),
            h("Das Datenschutzcockpit"),
            p(
                "Im Datenschutzcockpit können Bürgerinnen und Bürger nachsehen, welche Behörden unter "
                "Verwendung der Identifikationsnummer Daten über sie ausgetauscht haben. Für die Anmeldung ist "
                "ein Identifizierungsmittel auf dem Vertrauensniveau „hoch“ nötig, zum Beispiel der Online-"
                "Ausweis. Die Einzelheiten regelt heute § 10 des Onlinezugangsgesetzes."
            ),
        ),
        (
            h("Welche kommunalen Register betroffen sind"),
            p(
                "Die Anlage zum IDNrG zählt 50 Register auf. In Städten, Gemeinden und Kreisen sind vor allem "
                "diese betroffen:"
            ),
            ul(
                "Melderegister",
                "elektronisch geführte Personenstandsregister",
                "Personalausweisregister und Passregister",
                "Ausländerdateien der Ausländerbehörden",
                "Verzeichnis der angezeigten Gewerbebetriebe nach § 14 Gewerbeordnung",
                "Datenbestände der Wohngeldbehörden",
                "Register für Grundsicherung im Alter",
            ),
            h("Beispiel Standesamt"),
            p(
                "Elektronisch geführte Personenstandsregister sollen die Nummer nicht selbst nacherfassen. Sie "
                "rufen sie im automatisierten Verfahren beim Bundesverwaltungsamt ab. Eine Arbeitsgruppe "
                "„Umsetzung des IDNrG im Personenstandswesen“ erarbeitet Lösungen für Fälle, in denen die "
                "Mindestdaten für einen Abruf fehlen. Spürbar wird der Nutzen für Bürgerinnen und Bürger erst, "
                "wenn die Nummer in OZG-Prozessen mit Once-Only-Ketten verwendet wird."
            ),
            h("Unterstützung und Finanzierung"),
            p(
                "Nach den FAQ zur Registermodernisierung wird erwartet, dass es künftig eine rechtliche Pflicht "
                "gibt, Registerdaten digital vorzuhalten. Eine Nacherfassung oder Digitalisierung bisher analog "
                "geführter Bestände kann aber nicht zentral aus der Registermodernisierung gefördert werden. Ein "
                "Kompetenzteam Register unterstützt mit Anschlussanforderungen und Vorgehensmodellen; für das "
                "Roll-out des Identitätsdatenabrufs sind Handlungsempfehlungen für registerführende Stellen "
                "angekündigt."
            ),
        ),
        (
            h("Wie der IT-Planungsrat die Umsetzung steuert"),
            ol(
                "17. März 2021, 34. Sitzung (Beschluss 2021/05): Das Zielbild einer modernisierten "
                "Registerlandschaft wird beschlossen.",
                "23. Juni 2021, 35. Sitzung (Beschluss 2021/25): Die „Gesamtsteuerung Registermodernisierung“ "
                "wird eingerichtet, federführend sind Bayern, Baden-Württemberg, Hamburg, Nordrhein-Westfalen "
                "und der Bund.",
                "9. März 2022, 37. Sitzung (Beschluss 2022/06): Programmplanung mit Meilensteinen bis 2025.",
                "4. Juli 2023, 41. Sitzung (Beschluss 2023/22): Gesamtplanung mit den Aufträgen zum "
                "europäischen Once-Only-System und zum nationalen NOOTS.",
            ),
            h("Programmbereiche der Gesamtsteuerung"),
            p(
                "Seit 2023 arbeitet die Gesamtsteuerung in Programmbereichen: Register (Baden-Württemberg), "
                "OZG-EU-OOTS (Nordrhein-Westfalen), NOOTS (Bund), Recht (Bayern und Bund) und Kommunikation "
                "(Hamburg), ergänzt um ein Programmbüro. Das NOOTS – das nationale Once-Only-Technical-System – "
                "ist die technische Infrastruktur, über die Nachweise zwischen Registern und Onlinediensten "
                "übermittelt werden sollen."
            ),
            h("Was Kommunen jetzt tun können"),
            ol(
                "Eine Übersicht erstellen, welche der eigenen Register in der Anlage des IDNrG stehen.",
                "Mit den Herstellern der Fachverfahren klären, wann die Identifikationsnummer unterstützt wird.",
                "Die Datenqualität verbessern: Dubletten und veraltete Anschriften bereinigen.",
                "Berechtigungskonzept und Protokollierung mit der oder dem Datenschutzbeauftragten planen.",
                "Den Termin 31.12.2028 in die mittelfristige Finanz- und Personalplanung aufnehmen.",
            ),
        ),
    ),
)

OZG_20 = PdfDoc(
    filename="ozg-2-0-was-sich-fuer-kommunen-aendert.pdf",
    title="OZG 2.0 – was sich für Kommunen ändert",
    source_url="https://www.gesetze-im-internet.de/ozg/",
    keywords="OZG 2.0, OZG-Änderungsgesetz, Onlinezugangsgesetz, BundID, Portalverbund, Kommunen",
    pages=(
        (
            h("Ausgangslage"),
            p(
                "Das Onlinezugangsgesetz (OZG) von 2017 verpflichtete Bund und Länder – einschließlich der "
                "Kommunen –, ihre Verwaltungsleistungen bis Ende 2022 auch online anzubieten. Diese Frist wurde "
                "verfehlt. Schon beim Inkrafttreten war klar, dass die Verwaltung Ende 2022 nicht „fertig "
                "digitalisiert“ sein würde. Mit dem OZG-Änderungsgesetz, oft „OZG 2.0“ genannt, wurde das Gesetz "
                "deshalb grundlegend überarbeitet: weg von einer Frist, hin zu Standards, Nutzerkonten und "
                "durchgängig digitalen Prozessen."
            ),
            h("Der Weg durch Bundestag und Bundesrat"),
            ol(
                "Am 24. Mai 2023 beschloss das Bundeskabinett ein Paket für die digitale Verwaltung mit "
                "Eckpunkten für eine moderne Verwaltung.",
                "Im Februar 2024 verabschiedete der Bundestag das Gesetz mit breiter Mehrheit.",
                "Im März 2024 erhielt es im Bundesrat nicht die nötige Mehrheit; die Bundesregierung rief den "
                "Vermittlungsausschuss an.",
                "Am 12. Juni 2024 einigten sich Bund und Länder im Vermittlungsausschuss.",
                "Am 14. Juni 2024 stimmte der Bundesrat zu.",
                "Am 24. Juli 2024 trat das Gesetz in Kraft.",
            ),
            h("Ziel des Gesetzes"),
            p(
                "Die Verwaltung soll für Bürgerinnen, Bürger und Unternehmen einfach, sicher und jederzeit "
                "digital erreichbar sein. Zugleich soll die Digitalisierung in Deutschland vereinheitlicht "
                "werden: Der Bund verpflichtet sich, innerhalb von zwei Jahren technische Vorgaben, verbindliche "
                "Standards und einheitliche Schnittstellen festzulegen."
            ),
        ),
        (
            h("Die Kernregelungen – Teil 1"),
            ol(
                "Online-Angebot bleibt Pflicht: Bund und Länder müssen ihre Verwaltungsleistungen auch "
                "elektronisch über Verwaltungsportale anbieten. Eine neue Stichtagsfrist für alle Leistungen "
                "gibt es nicht mehr.",
                "Rechtsanspruch: Nach Ablauf des vierten auf die Verkündung folgenden Kalenderjahres haben "
                "Nutzer einen Anspruch auf elektronischen Zugang zu den Verwaltungsleistungen des Bundes. "
                "Schadensersatz oder Entschädigung können daraus nicht verlangt werden.",
                "Digital only für Unternehmen: Leistungen nach Bundesrecht, die nur Unternehmen betreffen, sollen "
                "spätestens mit Ablauf des fünften Kalenderjahres nach der Verkündung ausschließlich "
                "elektronisch angeboten werden.",
                "Anbindung der Kommunen: Die Länder müssen die technischen und organisatorischen "
                "Voraussetzungen dafür schaffen, dass Gemeinden und Gemeindeverbände an den Portalverbund "
                "angeschlossen sind.",
            ),
            h("Nutzerkonten"),
            p(
                "Bürgerinnen und Bürger sollen sich künftig über ein zentrales Bürgerkonto des Bundes "
                "identifizieren; die Nutzung ist freiwillig. Die bisherigen Konten der Länder dürfen für eine "
                "Übergangszeit von drei Jahren weiter genutzt werden. Das Bürgerkonto soll zu einer "
                "„DeutschlandID“ weiterentwickelt werden."
            ),
            p(
                "Für Unternehmen und Behörden gibt es das einheitliche Organisationskonto. Für öffentliche "
                "Stellen, die Leistungen im Portalverbund anbieten, ist seine Verwendung verpflichtend. Kommunen "
                "sollten daher klären, wie ihre Online-Dienste an das Organisationskonto angebunden sind."
            ),
        ),
        (
            h("Die Kernregelungen – Teil 2"),
            ol(
                "Standards: Das Bundesinnenministerium legt im Einvernehmen mit dem IT-Planungsrat per "
                "Rechtsverordnung Architekturvorgaben, Qualitätsanforderungen und Interoperabilitätsstandards "
                "fest, auch für die Anbindung von Fachverfahren. Von diesen Vorgaben kann durch Landesrecht "
                "nicht abgewichen werden.",
                "Open Source: Bei bereitgestellten IT-Komponenten sollen offene Standards und Schnittstellen "
                "verwendet und Open-Source-Software vorrangig eingesetzt werden.",
                "EfA-Datenschutz: Für die Verarbeitung in einem länderübergreifenden Onlinedienst ist allein die "
                "betreibende Behörde verantwortlich. Zwischengespeicherte Formulardaten werden in der Regel nach "
                "30 Tagen gelöscht.",
                "Schriftformersatz: Wer sich mit einem Nutzerkonto identifiziert und ein Online-Formular "
                "absendet, erfüllt damit eine gesetzlich angeordnete Schriftform. Bescheide im Postfach können "
                "mit einem qualifizierten elektronischen Siegel der Behörde versehen werden.",
                "Bekanntgabe: Ein elektronischer Verwaltungsakt im Postfach gilt am vierten Tag nach der "
                "Bereitstellung als bekannt gegeben.",
                "Beratung: Bund und Länder bieten eine allgemeine, fachunabhängige Beratung zur Nutzung der "
                "Online-Dienste an.",
                "Evaluation: Das Gesetz wird fortlaufend beobachtet und alle drei Jahre wissenschaftlich "
                "evaluiert; der IT-Planungsrat erhebt die Erfüllungsaufwände zum 1. Januar 2026, 2028 und 2030.",
            ),
        ),
        (
            h("Was Kommunen jetzt tun sollten"),
            ol(
                "Nutzerkonten prüfen: Welche Online-Dienste nutzen noch ein Landeskonto, und wann ist der "
                "Wechsel auf das zentrale Bürgerkonto geplant?",
                "Postfach und Bescheide: Klären, ob Bescheide elektronisch ins Postfach zugestellt werden sollen "
                "und welche Siegellösung dafür bereitsteht.",
                "Fachverfahren: Bei Hersteller und IT-Dienstleister nachfragen, wann die neuen Standards und "
                "Schnittstellen unterstützt werden.",
                "Beschaffung: In neuen Ausschreibungen offene Standards und Schnittstellen verlangen.",
                "Beratung: Mit dem Land klären, wer Nutzende bei Problemen mit Online-Diensten berät.",
            ),
            h("Kritik aus der kommunalen Familie"),
            p(
                "Der Deutsche Landkreistag hatte vor der Abstimmung im Bundesrat gewarnt, das neue OZG drohe zur "
                "Farce zu werden. Der Bund dürfe Standards ohne wirksame Einbindung des IT-Planungsrats "
                "festlegen, der Rechtsanspruch sei nicht einklagbar, und Registermodernisierung, Automatisierung "
                "und Informationssicherheit blieben unterfinanziert. Vitako forderte, den Finanzrahmen der "
                "Kommunen zu sichern und den Rechtsrahmen digital zu gestalten."
            ),
            h("Hinweis"),
            p(
                "Diese Übersicht ersetzt nicht den Gesetzestext. Einige Regelungen wurden nach 2024 erneut "
                "geändert; so enthält die aktuelle Fassung einen Auftrag, die Verwaltungsportale von Bund und "
                "Ländern bis Ende 2027 zu einem gemeinsamen Portal zu verknüpfen."
            ),
        ),
    ),
)

INFOSICHERHEIT = PdfDoc(
    filename="informationssicherheit-kleine-kommunen-grundschutz-kompakt.pdf",
    title="Informationssicherheit in kleinen Kommunen (BSI-Grundschutz kompakt)",
    source_url="https://www.gesetze-im-internet.de/itsiv-pv/",
    keywords="Informationssicherheit, BSI, IT-Grundschutz, ITSiV-PV, Portalverbund, Kommunen, Basis-Absicherung",
    pages=(
        (
            h("Warum das Thema drängt"),
            p(
                "Cyberangriffe legen immer häufiger ganze Kommunalverwaltungen lahm. Die Folgen treffen nicht nur "
                "die Verwaltung, sondern auch Bürgerinnen, Bürger und Betriebe, die wochenlang keine Leistungen "
                "erhalten. Vitako hat deshalb im Juni 2024 gefordert, das BSI zu einer interföderalen "
                "Zentralstelle für IT-Sicherheit auszubauen und die kommunale IT als kritische Infrastruktur "
                "einzustufen. Der Deutsche Landkreistag bemängelte, die Informationssicherheit sei weiterhin "
                "unterfinanziert."
            ),
            p(
                "Auch der IT-Planungsrat hat das Thema aufgewertet: Informationssicherheit ist eines der fünf "
                "Schwerpunktthemen seiner föderalen Digitalstrategie. Für Kommunen, deren Online-Dienste am "
                "Portalverbund hängen, gibt es außerdem verbindliche Mindestanforderungen."
            ),
            h("Für wen diese Kurzfassung gedacht ist"),
            p(
                "Für Bürgermeisterinnen, Bürgermeister, Hauptamtsleitungen und IT-Verantwortliche in Gemeinden "
                "ohne eigene IT-Sicherheitsabteilung. Sie erklärt den Rechtsrahmen, die Grundidee des "
                "IT-Grundschutzes und gibt zehn Sofortmaßnahmen an die Hand. Die Empfehlungen auf Seite 4 sind "
                "Hinweise des Projekts Beschlusslage, keine amtlichen Vorgaben."
            ),
            h("Drei Begriffe"),
            ul(
                "Vertraulichkeit: Nur Berechtigte können Informationen lesen.",
                "Integrität: Informationen werden nicht unbemerkt verändert.",
                "Verfügbarkeit: Systeme und Daten stehen zur Verfügung, wenn sie gebraucht werden.",
            ),
        ),
        (
            h("Der Rechtsrahmen: § 5 OZG und die ITSiV-PV"),
            p(
                "Nach § 5 OZG legt das Bundesinnenministerium die IT-Sicherheitsstandards für den Portalverbund "
                "per Verordnung fest; sie sind für alle Stellen verbindlich, die entsprechende IT-Komponenten "
                "nutzen, und Landesrecht darf davon nicht abweichen. Das geschieht in der IT-Sicherheitsverordnung "
                "Portalverbund (ITSiV-PV), ausgefertigt am 06.01.2022."
            ),
            h("Mittelbar angebundene Systeme – der typische kommunale Fall"),
            p(
                "Die meisten Kommunen sind nicht direkt, sondern über Dienste ihres Landes an den Portalverbund "
                "angebunden. Für die dabei eingesetzten IT-Komponenten verlangt die Verordnung ein "
                "Sicherheitskonzept nach den BSI-Standards 200-1, 200-2 und 200-3 oder einem vergleichbaren, vom "
                "Land anerkannten Standard. Mindestanforderung ist die Basis-Absicherung nach BSI-Standard 200-2."
            ),
            h("Unmittelbar angebundene Systeme"),
            ol(
                "Maßnahmen nach dem Stand der Technik; dieser wird vermutet, wenn die in der Anlage genannten "
                "Technischen Richtlinien des BSI eingehalten sind.",
                "Ein Informationssicherheitsmanagementsystem nach der Leitlinie für die Informationssicherheit "
                "in der öffentlichen Verwaltung des IT-Planungsrats.",
                "Ein Sicherheitskonzept nach BSI 200-1 bis 200-3 oder ISO/IEC 27001; mindestens die "
                "Standard-Absicherung nach BSI 200-2.",
                "Penetrationstest und Webcheck vor der Anbindung für Komponenten mit Internetzugang oder hohem "
                "Schutzbedarf, etwa Nutzerkonto, Bezahldienst und Postfach; Wiederholung spätestens nach drei "
                "Jahren oder bei größeren Änderungen.",
                "Ein IT-Notfallmanagement und eine jährliche Eigenerklärung, die bis zum 1. Januar bei der "
                "zentralen Stelle des Landes zu hinterlegen ist.",
            ),
            p(
                "Wichtig: Wer den Betrieb an einen Dienstleister auslagert, bleibt für die Erfüllung der "
                "Anforderungen verantwortlich."
            ),
        ),
        (
            h("IT-Grundschutz in Kürze"),
            p(
                "Der IT-Grundschutz des BSI ist eine Methode, mit der Behörden und Unternehmen ihre "
                "Informationssicherheit planvoll aufbauen. Er besteht aus den BSI-Standards und dem "
                "IT-Grundschutz-Kompendium mit seinen Bausteinen."
            ),
            ul(
                "BSI-Standard 200-1 beschreibt, wie ein Managementsystem für Informationssicherheit aufgebaut "
                "wird.",
                "BSI-Standard 200-2 enthält die Methodik mit drei Stufen: Basis-Absicherung, Standard-Absicherung "
                "und Kern-Absicherung.",
                "BSI-Standard 200-3 beschreibt die Risikoanalyse für Bereiche mit erhöhtem Schutzbedarf.",
                "BSI-Standard 200-4 behandelt das Business Continuity Management, also die Vorsorge für den "
                "Notfall.",
            ),
            h("Basis-Absicherung: der Einstieg für kleine Verwaltungen"),
            p(
                "Die Basis-Absicherung ist für Einrichtungen gedacht, die schnell ein Grundniveau erreichen "
                "wollen. Sie deckt die gesamte Verwaltung mit den wichtigsten Anforderungen ab und kann später "
                "zur Standard-Absicherung ausgebaut werden. Ein mögliches Vorgehen:"
            ),
            ol(
                "Die Verwaltungsleitung übernimmt ausdrücklich die Verantwortung und gibt eine "
                "Sicherheitsleitlinie heraus.",
                "Eine Person wird als Informationssicherheitsbeauftragte benannt, gegebenenfalls gemeinsam mit "
                "Nachbarkommunen oder über den Kreis.",
                "Der Geltungsbereich wird festgelegt und die wichtigsten Anwendungen, Systeme und Räume werden "
                "erfasst.",
                "Die passenden Bausteine des Kompendiums werden ausgewählt (Modellierung).",
                "Die Basis-Anforderungen werden umgesetzt und der Stand wird dokumentiert.",
                "Der Stand wird regelmäßig überprüft und fortgeschrieben.",
            ),
        ),
        (
            h("Zehn Sofortmaßnahmen für kleine Kommunen"),
            ol(
                "Datensicherungen regelmäßig anlegen, eine Kopie getrennt vom Netz aufbewahren und die "
                "Wiederherstellung üben.",
                "Sicherheitsupdates für Betriebssysteme und Programme zeitnah einspielen.",
                "Für Fernzugänge und Administratorkonten eine Zwei-Faktor-Anmeldung verwenden.",
                "Administrationsrechte nur an wenige Personen und nur für Verwaltungsaufgaben vergeben.",
                "Beschäftigte regelmäßig zu Phishing und Social Engineering schulen.",
                "Einen Notfallplan mit Telefonliste auf Papier bereithalten: Wer wird bei einem Angriff "
                "informiert, wer entscheidet über das Abschalten?",
                "Verträge mit IT-Dienstleistern auf Sicherheitspflichten und Meldewege prüfen – die "
                "Verantwortung bleibt bei der Kommune.",
                "Ein Verzeichnis der eingesetzten Systeme und Fachverfahren führen.",
                "E-Mail-Anhänge und Makros in Büroprogrammen restriktiv behandeln.",
                "Die Zusammenarbeit mit dem Computer-Notfallteam des Landes und mit Nachbarkommunen suchen.",
            ),
            h("Wo es Hilfe gibt"),
            p(
                "Erste Ansprechpartner sind der kommunale IT-Dienstleister, die für Informationssicherheit "
                "zuständige Stelle des Landes und das BSI. Viele Länder bieten eigene Beratungsangebote und "
                "Musterdokumente für Kommunen an. Eine gemeinsam bestellte Informationssicherheitsbeauftragte "
                "für mehrere Gemeinden ist für kleine Verwaltungen oft die wirtschaftlichste Lösung."
            ),
        ),
    ),
)

DOCS: tuple[PdfDoc, ...] = (SITZUNG_40, EFA_HANDREICHUNG, REGISTERMODERNISIERUNG, OZG_20, INFOSICHERHEIT)


def main(out_dir: Path | None = None, font_dir: Path | None = None) -> list[Path]:
    """Generate all PDFs into ``out_dir`` (default corpus/pdf/) and return their paths."""
    target = DEFAULT_OUT_DIR if out_dir is None else Path(out_dir)
    fonts = DEFAULT_FONT_DIR if font_dir is None else Path(font_dir)
    return [render(doc, target, fonts) for doc in DOCS]


def _cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Erzeugt die Beispiel-PDFs des Projekts Beschlusslage.")
    parser.add_argument("--out", type=Path, default=None, help="Zielordner (Standard: corpus/pdf/)")
    parser.add_argument("--font-dir", type=Path, default=None, help="Ordner mit DejaVuSans*.ttf")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # font subsetting is chatty at INFO
    main(args.out, args.font_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(_cli())
