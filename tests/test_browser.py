"""The app in a real headless Chromium (recipe: ../shared/BROWSER_TESTS.md): keyboard-only question,
finished answer, source card opening the PDF at its page through our route, source links landing on the
cited passage of a decision and a law, `[n]` in the answer scrolling to its card, the first source within
one screen of the answer at 420 px, a reload keeping the conversation, a refusal that looks different,
admin login + upload + re-ingest answered without restart, "Neu seit dem letzten Einlesen" with the new decision
on the start page (the question box still on the first screen at 1400x900 and 420 px) and the Sitzungen tab,
and "was gibt es neues" answered with the digest,
an admin removing a document from the Dokumente tab, two logged-in users each with their own conversations
kept on the server, and screenshots at 1400 and 420 px (into a temp folder; under docs/ only with
`make screenshots`, which sets BL_SCREENSHOTS_DIR).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pdfgen import make_pdf
from test_app_client import (
    PDF_NAME,
    PDF_QUESTION,
    PROJECT,
    QUESTION,
    UNANSWERABLE,
    ingest_corpus,
    running_app,
    write_test_corpus,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ADMIN_USER, ADMIN_PASSWORD = "verwaltung", "Sehr-geheim-2025"
DOCS = PROJECT / "docs"
DECISION_FILE = "itplr/2024-06-12_digitaler-bauantrag.md"
LAW_FILE = "recht/laternengesetz.md"
LAW_QUESTION = "Welches Verzeichnis führt die Gemeinde nach dem Laternengesetz?"
# a long law, so that landing on § 27 needs the page to scroll
LAW_DOC = (
    '---\ntitle: "Laternengesetz (Muster)"\npublisher: "Land"\ndoc_type: "Gesetz/Verordnung/Staatsvertrag"\n'
    'date: "2020-01-01"\n---\n\n# Laternengesetz\n\n'
    + "".join(
        f"## § {i} Allgemeine Vorschrift {i}\n\n(1) Die Vorschrift {i} regelt allgemeine Fragen der Beleuchtung "
        f"von Wegen und Plätzen im Abschnitt {i}.\n\n"
        for i in range(1, 27)
    )
    + "## § 27 Laternenverzeichnis\n\n(1) Die Gemeinde führt ein Verzeichnis aller Straßenlaternen mit "
    "Standort, Leuchtmittel und Baujahr.\n\n(2) Das Verzeichnis wird jährlich fortgeschrieben.\n"
)
NEW_DECISION_FILE = "itplr/2025-03-26_digitales-anwohnerparken.md"
NEW_DECISION_DOC = (
    '---\ntitle: "Digitales Anwohnerparken (Beschluss 2025/12)"\npublisher: "IT-Planungsrat"\n'
    'doc_type: "Beschluss/Entscheidung"\nsession: "46. Sitzung"\ndecision: "Beschluss 2025/12"\n'
    'date: "2025-03-26"\n---\n\n# Digitales Anwohnerparken\n\n## Beschluss 2025/12\n\n'
    "1. Der IT-Planungsrat beschließt, dass die Gemeinden den Antrag auf einen Bewohnerparkausweis bis Ende "
    "2026 über den Portalverbund digital anbieten.\n"
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver at /usr/bin (make apt-deps installs them)",
    ),
]

TEXTBOX = "#bl-frage textarea"


# ----------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("browser")
    corpus = write_test_corpus(base / "corpus")
    (corpus / LAW_FILE).write_text(LAW_DOC, encoding="utf-8")
    data_dir = base / "data"
    ingest_corpus(corpus, data_dir)
    with running_app(data_dir, base / "app.log", RAG_ADMIN_USER=ADMIN_USER, RAG_ADMIN_PASSWORD=ADMIN_PASSWORD) as url:
        yield {"url": url, "corpus": corpus, "data_dir": data_dir, "base": base}


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="bl-chromium-")
    options = webdriver.ChromeOptions()
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1400,1000")
    options.add_argument("--lang=de-DE")
    options.binary_location = str(CHROMIUM)
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


# ------------------------------------------------------------------------------------------ helpers
def wait_for(check: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception:  # stale elements while Gradio re-renders
            value = None
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def css(d: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(d.find_elements(By.CSS_SELECTOR, selector))


def busy(d: Any) -> bool:
    return any("hide" not in (e.get_attribute("class") or "") for e in css(d, "[data-testid='status-tracker']"))


def last_bot_text(d: Any) -> str:
    bots = css(d, "[data-testid='bot']")
    return bots[-1].text.strip() if bots else ""


def wait_finished_answer(d: Any, previous: str = "", timeout: float = 120) -> str:
    """The newest bot message once its text is unchanged for ~2 s and no status tracker is busy."""
    deadline = time.monotonic() + timeout
    last, since = "", time.monotonic()
    while time.monotonic() < deadline:
        text = last_bot_text(d)
        if text != last:
            last, since = text, time.monotonic()
        elif text and text not in (previous, "…") and not busy(d) and time.monotonic() - since >= 2.0:
            return text
        time.sleep(0.25)
    raise AssertionError(f"no finished answer after {timeout} s; last text: {last!r}")


def open_page(d: Any, url: str) -> None:
    d.get(url)
    wait_for(lambda: css(d, TEXTBOX), 60, "the question box")
    wait_for(lambda: "Suchindex:" in css(d, "#bl-status")[0].text, 60, "the index status line")


def new_conversation(d: Any) -> None:
    """The page reopens the last conversation (kept in the browser); start an empty one."""
    css(d, "#bl-neu")[0].click()
    wait_for(lambda: not css(d, "[data-testid='bot']"), 10, "an empty conversation")


def ask_by_keyboard(d: Any, question: str) -> str:
    """Tab from the page start to the question box, type, Enter; returns the finished answer text."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    box = css(d, TEXTBOX)[0]
    # restart sequential focus navigation at the top of the page (a plain blur() keeps its position)
    d.execute_script(
        "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);"
        "document.body.setAttribute('tabindex', '-1'); document.body.focus(); document.body.removeAttribute('tabindex');"
    )
    for _ in range(40):
        if d.switch_to.active_element == box:
            break
        ActionChains(d).send_keys(Keys.TAB).perform()
    assert d.switch_to.active_element == box, "the question box is not reachable with Tab"
    previous = last_bot_text(d)
    ActionChains(d).send_keys(question).send_keys(Keys.ENTER).perform()
    answer = wait_finished_answer(d, previous)
    assert d.switch_to.active_element == css(d, TEXTBOX)[0], "focus must stay in the question box"
    return answer


def select_tab(d: Any, label: str) -> None:
    tab = wait_for(lambda: next((t for t in css(d, "button[role='tab']") if t.text.strip() == label), None), 20,
                   f"tab {label}")
    tab.click()


PAGE_HEIGHT_JS = """
let bottom = Math.max(document.body.scrollHeight, document.documentElement.scrollHeight);
for (const e of document.querySelectorAll('body *')) {
  const r = e.getBoundingClientRect();
  if (r.height > 0 && r.width > 0) { bottom = Math.max(bottom, r.bottom + window.scrollY); }
}
return Math.ceil(bottom);
"""


def full_page_screenshot(d: Any, path: Path, width: int = 1400) -> None:
    """Selenium captures the window only, so grow the window to the page first (until its height settles)."""
    height = 1000
    for _ in range(4):
        d.set_window_size(width, height)
        time.sleep(0.7)
        chrome = int(d.execute_script("return window.outerHeight - window.innerHeight"))  # headless has some too
        needed = min(max(1000, int(d.execute_script(PAGE_HEIGHT_JS)) + chrome + 20), 8000)
        if abs(needed - height) < 20:
            break
        height = needed
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save_screenshot(str(path))
    d.set_window_size(1400, 1000)


# -------------------------------------------------------------------------------------------- tests
def test_keyboard_question_pdf_card_opens_at_page(app: dict[str, Any], driver: Any) -> None:
    d = driver
    open_page(d, app["url"])
    assert d.execute_script("return document.documentElement.lang") == "de"
    answer = ask_by_keyboard(d, PDF_QUESTION)
    assert "Tresor" in answer and "[1]" in answer
    bot = css(d, "[data-testid='bot']")[-1]
    assert "<" not in (bot.get_attribute("aria-label") or "")  # no card HTML inside the message
    card = wait_for(lambda: next(iter(css(d, f"#bl-quellen .bl-card[data-file='{PDF_NAME}']")), None), 10,
                    "the PDF source card")
    assert card.get_attribute("data-page") == "2"
    assert css(card, "mark"), "the supporting sentence is highlighted"
    assert "Seite 2" in card.text and "Leitfaden" in card.text
    link = css(card, "a.bl-open-doc")[0]
    href = link.get_attribute("href")
    assert href == f"{app['url']}dokument/{PDF_NAME}#page=2"
    with urllib.request.urlopen(href.split("#")[0], timeout=10) as resp:  # noqa: S310 (loopback)
        assert resp.status == 200 and resp.headers["content-type"] == "application/pdf"
        pdf = resp.read()
    import io

    from pypdf import PdfReader

    page_text = " ".join(PdfReader(io.BytesIO(pdf)).pages[1].extract_text().split())
    assert " ".join(css(card, "mark")[0].text.split())[:40] in page_text  # page 2 holds the cited words
    main = d.current_window_handle
    link.click()
    wait_for(lambda: len(d.window_handles) > 1, 10, "the document tab")
    d.switch_to.window(next(h for h in d.window_handles if h != main))
    wait_for(lambda: d.current_url.endswith(f"dokument/{PDF_NAME}#page=2"), 10, "the PDF URL")
    d.close()
    d.switch_to.window(main)


IN_VIEW_JS = """
const r = arguments[0].getBoundingClientRect();
return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
"""


def follow_in_new_tab(d: Any, link: Any) -> dict[str, Any]:
    """Click a document link (opens a tab), report where the page landed, close the tab again."""
    main = d.current_window_handle
    link.click()
    wait_for(lambda: len(d.window_handles) > 1, 10, "the document tab")
    d.switch_to.window(next(h for h in d.window_handles if h != main))
    try:
        wait_for(lambda: d.execute_script("return document.readyState") == "complete", 10, "the document")
        time.sleep(0.5)  # the browser scrolls to the fragment after load
        marked = css(d, "#bl-stelle")
        return {
            "text": marked[0].text if marked else "",
            "in_view": bool(marked) and d.execute_script(IN_VIEW_JS, marked[0]),
            "background": marked[0].value_of_css_property("background-color") if marked else "",
            "scrolled": d.execute_script("return window.scrollY"),
            "url": d.current_url,
        }
    finally:
        d.close()
        d.switch_to.window(main)


def test_source_links_land_on_the_passage_and_citations_lead_to_their_cards(app: dict[str, Any], driver: Any) -> None:
    d = driver
    open_page(d, app["url"])
    new_conversation(d)  # card ids count from the conversation's start
    # a decision: the passage is a numbered list item ("1. Der IT-Planungsrat beschließt …")
    answer = ask_by_keyboard(d, QUESTION)
    assert "[1]" in answer
    card = wait_for(lambda: next(iter(css(d, f"#bl-quellen .bl-card[data-file='{DECISION_FILE}']")), None), 10,
                    "the decision's card")
    landed = follow_in_new_tab(d, css(card, "a.bl-open-doc")[0])
    assert "IT-Planungsrat" in landed["text"], landed
    assert landed["in_view"] and landed["background"] not in ("rgba(0, 0, 0, 0)", "transparent")
    # [n] in the answer is a link to its card, with the passage as tooltip; a click scrolls to and flashes it
    cite_link = css(d, "[data-testid='bot'] a.bl-cite")[-1]
    n = cite_link.get_attribute("data-n")
    target = css(d, f"#bl-quellen #t0-quelle-{n}")[0]
    assert target.get_attribute("data-passage").split(": ", 1)[1][:20] in (cite_link.get_attribute("title") or "")
    d.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    cite_link = css(d, "[data-testid='bot'] a.bl-cite")[-1]
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", cite_link)
    cite_link.click()
    wait_for(lambda: "bl-flash" in (target.get_attribute("class") or ""), 5, "the flashed card")
    assert d.execute_script(IN_VIEW_JS, target) and d.switch_to.active_element == target

    # a law: the cited paragraph sits deep in a long page, which scrolls to it and marks it
    answer = ask_by_keyboard(d, LAW_QUESTION)
    assert "Verzeichnis" in answer
    card = wait_for(lambda: next(iter(css(d, f"#bl-quellen .bl-card[data-file='{LAW_FILE}']")), None), 10,
                    "the law's card")
    landed = follow_in_new_tab(d, css(card, "a.bl-open-doc")[0])
    assert "Straßenlaternen" in landed["text"] or "fortgeschrieben" in landed["text"], landed
    assert landed["in_view"] and landed["scrolled"] > 300, landed
    # the first answer keeps its own sources, folded below the newest
    earlier = css(d, "#bl-quellen details.bl-earlier[data-turn='0']")
    assert earlier and css(earlier[0], f".bl-card[data-file='{DECISION_FILE}']")

    # at 420 px (phone) the first source starts within one screen below the answer
    d.set_window_size(420, 900)
    try:
        time.sleep(1)
        gap = d.execute_script(
            "const bots = document.querySelectorAll(\"[data-testid='bot']\");"
            "const a = bots[bots.length - 1].getBoundingClientRect();"
            "const c = document.querySelector('#bl-quellen .bl-card').getBoundingClientRect();"
            "return [c.top - a.bottom, window.innerHeight];"
        )
        assert 0 < gap[0] < gap[1], gap
    finally:
        d.set_window_size(1400, 1000)


def test_reload_keeps_the_conversation(app: dict[str, Any], driver: Any) -> None:
    d = driver
    open_page(d, app["url"])
    css(d, "#bl-neu")[0].click()
    wait_for(lambda: not css(d, "[data-testid='bot']"), 10, "an empty conversation")
    ask_by_keyboard(d, PDF_QUESTION)
    ask_by_keyboard(d, QUESTION)
    d.refresh()
    open_page(d, app["url"])
    wait_for(lambda: len(css(d, "[data-testid='bot']")) == 2, 20, "both answers after the reload")
    assert css(d, "[data-testid='user']")[0].text.strip() == PDF_QUESTION
    assert css(d, f"#bl-quellen .bl-card[data-file='{DECISION_FILE}']")  # the newest answer's sources
    assert css(d, f"#bl-quellen details.bl-earlier .bl-card[data-file='{PDF_NAME}']")  # and the first one's
    wait_for(lambda: css(d, "[data-testid='bot'] a.bl-cite"), 10, "citation links after the reload")
    # a new conversation; the earlier one stays in the list and opens again
    css(d, "#bl-neu")[0].click()
    wait_for(lambda: not css(d, "[data-testid='bot']"), 10, "an empty conversation")
    css(d, "#bl-verlauf-acc button")[0].click()
    choice = wait_for(lambda: css(d, "#bl-verlauf input")[0], 10, "the list of earlier conversations")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", choice)

    choice.click()
    option = wait_for(lambda: next((o for o in css(d, "#bl-verlauf [role='option']")
                                    if PDF_QUESTION[:30] in (o.get_attribute("textContent") or "")), None), 15,
                      "the earlier conversation")
    assert "(2 Fragen)" in option.get_attribute("textContent")
    option.click()
    wait_for(lambda: len(css(d, "[data-testid='bot']")) == 2, 20, "the reopened conversation")
    d.refresh()
    open_page(d, app["url"])
    wait_for(lambda: len(css(d, "[data-testid='bot']")) == 2, 20, "the reopened conversation after a reload")


def test_keyboard_filters_german_labels_dark_theme_and_stop_button(app: dict[str, Any], driver: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    d = driver
    open_page(d, app["url"] + "?__theme=dark")
    new_conversation(d)  # the example questions show in an empty chat
    # dark theme from the URL (or the browser's setting)
    rgb = d.execute_script("const c = getComputedStyle(document.querySelector('#bl-chat')).backgroundColor;"
                           "return c.match(/\\d+/g).slice(0, 3).map(Number);")
    assert "dark" in d.execute_script("return document.body.className") and sum(rgb) < 3 * 90, rgb
    # German names for Gradio's own buttons
    labels = [b.get_attribute("aria-label") or "" for b in css(d, "#bl-chat button.example, #bl-chat button")]
    assert any(label.startswith("Beispielfrage 1:") for label in labels), labels
    assert not any(label.startswith(("Select example", "Copy message", "Copy conversation")) for label in labels)
    # Stopp only while an answer is being written
    stop = css(d, "#bl-frage [data-testid='stop-button']")[0]
    assert not stop.is_displayed()
    d.execute_script("document.querySelector('#bl-quellen').insertAdjacentHTML('beforeend',"
                     "'<p id=\"bl-probe\" aria-busy=\"true\"></p>')")
    wait_for(lambda: stop.is_displayed(), 5, "the Stopp button while answering")
    d.execute_script("document.getElementById('bl-probe').remove()")
    wait_for(lambda: not stop.is_displayed(), 5, "the Stopp button gone again")
    # the filter panel is folded; Tab walks through its lists without unfolding them
    content = css(d, "#bl-filter [data-testid='accordion-content']")
    assert not content or not content[0].is_displayed()
    css(d, "#bl-filter button")[0].click()
    first = wait_for(lambda: css(d, "#bl-f-herausgeber input")[0], 10, "the publisher filter")
    first.click()
    ActionChains(d).send_keys(Keys.ESCAPE).perform()
    visited = []
    for _ in range(4):
        ActionChains(d).send_keys(Keys.TAB).perform()
        time.sleep(0.3)
        visited.append(d.switch_to.active_element.get_attribute("aria-label"))
        assert not [x for x in css(d, "#bl-filter [role='listbox']") if x.is_displayed()], visited
    assert visited == ["Dokumenttyp", "Sitzung", "Jahr von", "Jahr bis"]
    ActionChains(d).send_keys(Keys.ARROW_DOWN).perform()
    wait_for(lambda: [x for x in css(d, "#bl-f-bis [role='listbox']") if x.is_displayed()], 5, "the list on ↓")
    ActionChains(d).send_keys(Keys.ESCAPE).perform()
    css(d, "#bl-filter button")[0].click()


def test_refusal_looks_different_and_new_conversation(app: dict[str, Any], driver: Any) -> None:
    d = driver
    open_page(d, app["url"])
    new_conversation(d)
    answer = ask_by_keyboard(d, UNANSWERABLE)
    assert answer.startswith("Dazu finde ich in den vorliegenden Dokumenten keine belastbare Aussage")
    panel = css(d, "#bl-quellen .bl-refused")
    assert panel and "Keine belastbare Aussage" in panel[0].text
    assert not css(d, "#bl-quellen .bl-card-quelle")
    assert css(d, "[data-testid='bot'] blockquote"), "a refusal is set apart as a quote"
    css(d, "#bl-neu")[0].click()
    wait_for(lambda: not css(d, "[data-testid='bot']"), 10, "an empty conversation")
    assert "bl-empty" in css(d, "#bl-quellen section")[0].get_attribute("class")
    example = wait_for(lambda: css(d, "#bl-chat button.example")[0], 10, "the example questions")
    text = example.text.strip()
    example.click()  # an example question is asked right away
    wait_finished_answer(d)
    assert css(d, "[data-testid='user']")[-1].text.strip() == text


def test_admin_upload_reingest_then_answer_without_restart(app: dict[str, Any], driver: Any) -> None:
    from selenium.webdriver.common.keys import Keys

    d = driver
    open_page(d, app["url"])
    select_tab(d, "Verwaltung")
    user = wait_for(lambda: css(d, "#bl-admin-user input, #bl-admin-user textarea")[0], 10, "user field")
    password = css(d, "#bl-admin-password input")[0]
    user.send_keys(ADMIN_USER)
    password.send_keys("falsch")
    css(d, "#bl-admin-login")[0].click()
    wait_for(lambda: "falsch" in css(d, "#bl-admin-login-msg")[0].text, 15, "the German login error")
    password = css(d, "#bl-admin-password input")[0]
    password.clear()
    password.send_keys(ADMIN_PASSWORD + Keys.ENTER)
    wait_for(lambda: css(d, "#bl-admin-panel") and css(d, "#bl-admin-panel")[0].is_displayed(), 15, "admin panel")
    wait_for(lambda: "Dokumente" in css(d, "#bl-admin-status")[0].text, 10, "the index status table")

    fake = app["base"] / "upload-bad" / "kein-pdf.pdf"
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_text("<html>Das ist kein PDF.</html>", encoding="utf-8")
    css(d, "#bl-upload input[type='file']")[0].send_keys(str(fake))
    wait_for(lambda: "kein-pdf" in css(d, "#bl-upload")[0].text, 30, "the rejected file in the list")
    css(d, "#bl-upload-btn")[0].click()
    toast = wait_for(lambda: next((t for t in css(d, "[data-testid='toast-body']") if "PDF" in t.text), None), 20,
                     "the German upload error")
    assert "keine gültige PDF-Datei" in toast.text
    assert not (app["corpus"] / "hochgeladen" / "kein-pdf.pdf").exists()
    for close in css(d, "[data-testid='toast-close']"):
        close.click()
    clear = css(d, "#bl-upload button[aria-label='Clear'], #bl-upload button[aria-label='Leeren']")
    if clear:
        clear[0].click()

    # meanwhile a new decision arrived in the corpus folder; the re-ingest after the upload reads it too
    (app["corpus"] / NEW_DECISION_FILE).write_text(NEW_DECISION_DOC, encoding="utf-8")
    fact_pdf = app["base"] / "upload" / "Beschaffung Beispielstadt 2025.pdf"
    fact_pdf.parent.mkdir(parents=True, exist_ok=True)
    make_pdf(fact_pdf, ["Beschaffungsbericht 2025\n\nDie Gemeinde Beispielstadt hat im Jahr 2025 genau 4711\n"
                        "Notebooks fuer ihre Schulen beschafft."], title="Beschaffungsbericht Beispielstadt")
    file_input = css(d, "#bl-upload input[type='file']")[0]
    file_input.send_keys(str(fact_pdf))
    wait_for(lambda: "Beispielstadt" in css(d, "#bl-upload")[0].text, 30, "the uploaded file in the list")
    css(d, "#bl-upload-btn")[0].click()
    wait_for(lambda: "Aktualisierung abgeschlossen" in css(d, "#bl-progress")[0].text, 240, "the finished re-ingest")
    assert "Neue Index-Version ist live" in css(d, "#bl-progress")[0].text
    report = css(d, "#bl-report")[0].text
    assert "hochgeladen/Beschaffung Beispielstadt 2025.pdf" in report and "neu aufgenommen" in report
    assert "{" not in report and "added" not in report  # a German table, not raw JSON
    wait_for(lambda: "Der Index ist aktualisiert." in css(d, "#bl-upload-msg")[0].text, 10, "the upload note")
    assert "wird aktualisiert" not in css(d, "#bl-upload-msg")[0].text
    panel = css(d, "#bl-admin-panel")[0].text
    assert str(app["corpus"]) not in panel and str(app["data_dir"]) not in panel  # no server paths
    assert (app["corpus"] / "hochgeladen" / "Beschaffung Beispielstadt 2025.pdf").is_file()

    # the start page and the Sitzungen tab say what is new, with the new decision's number, without a reload
    select_tab(d, "Fragen")
    news = wait_for(lambda: next((e for e in css(d, "#bl-start-neu") if e.is_displayed()), None), 20,
                    "the start page's news")
    assert "Neu seit dem letzten Einlesen" in news.text and "1 neuer Beschluss" in news.text
    for width in (1400, 420):  # collapsed, it keeps the question box on the first screen
        d.set_window_size(width, 900)
        time.sleep(0.3)
        d.set_window_size(width, 900 + int(d.execute_script("return window.outerHeight - window.innerHeight")))
        d.execute_script("window.scrollTo(0, 0);")
        time.sleep(0.5)
        bottom = d.execute_script("return document.querySelector(arguments[0]).getBoundingClientRect().bottom;",
                                  TEXTBOX)
        assert bottom <= d.execute_script("return window.innerHeight;") == 900, (width, bottom)
    d.set_window_size(1400, 1000)
    css(d, "#bl-start-neu button, #bl-start-neu .label-wrap")[0].click()
    wait_for(lambda: "Beschluss 2025/12" in css(d, "#bl-start-neu-text")[0].text, 10, "the opened news")
    assert "Anwohnerparken" in css(d, "#bl-start-neu-text")[0].text
    assert "betrifft Kommunen" in css(d, "#bl-start-neu-text")[0].text
    select_tab(d, "Sitzungen")
    wait_for(lambda: "Beschluss 2025/12" in css(d, "#bl-sitzungen-neu")[0].text, 20, "the Sitzungen tab's news")
    assert "Neu seit dem letzten Einlesen" in css(d, "#bl-sitzungen-neu")[0].text
    badged = css(d, "#bl-sitzungen .bl-decision .bl-new")
    assert len(badged) == 1 and "2025/12" in badged[0].find_element("xpath", "..").text
    # the Dokumente tab lists it, and says it is new since the last ingest
    select_tab(d, "Dokumente")
    wait_for(lambda: "Beschaffungsbericht" in css(d, "#bl-neu-seit")[0].text, 20, "the digest of the new version")
    assert "Neu seit dem letzten Einlesen" in css(d, "#bl-neu-seit")[0].text
    assert css(d, "#bl-bibliothek tr[data-file='hochgeladen/Beschaffung Beispielstadt 2025.pdf']")
    select_tab(d, "Fragen")
    # asked in the chat (lower case, no umlauts), the same digest comes as an answer with its source card
    digest = ask_by_keyboard(d, "was gibt es neues seit dem letzten einlesen")
    assert digest.startswith("Neu seit dem letzten Einlesen") and "Beschaffungsbericht" in digest and "[1]" in digest
    assert css(d, "#bl-quellen .bl-card[data-file='hochgeladen/Beschaffung Beispielstadt 2025.pdf']")
    notebooks = "Wie viele Notebooks hat die Gemeinde Beispielstadt 2025 beschafft?"
    answer = ask_by_keyboard(d, notebooks)
    assert "4711" in answer
    assert css(d, "#bl-quellen .bl-card[data-file='hochgeladen/Beschaffung Beispielstadt 2025.pdf']")

    # remove it again: the document leaves the corpus (kept in .entfernt/) and the index
    select_tab(d, "Verwaltung")
    choice = css(d, "#bl-remove-doc input")[0]
    choice.click()
    choice.send_keys("Beispielstadt")
    option = wait_for(lambda: next((o for o in css(d, "#bl-remove-doc li, ul.options li")
                                    if "Beispielstadt" in o.text), None), 10, "the document in the list")
    option.click()
    css(d, "#bl-remove-btn")[0].click()
    wait_for(lambda: "aus dem Korpus genommen" in css(d, "#bl-remove-msg")[0].text, 20, "the removal note")
    wait_for(lambda: "Aktualisierung abgeschlossen" in css(d, "#bl-progress")[0].text
             and "entfernt: 1" in css(d, "#bl-progress")[0].text, 240, "the re-ingest after removal")
    assert not (app["corpus"] / "hochgeladen" / "Beschaffung Beispielstadt 2025.pdf").exists()
    kept = list((app["data_dir"] / "entfernt").glob("*/hochgeladen/Beschaffung Beispielstadt 2025.pdf"))
    assert kept and not list(app["corpus"].glob("**/*entfernt*"))  # kept in the data dir, not in the corpus
    wait_for(lambda: "Der Index ist aktualisiert." in css(d, "#bl-remove-msg")[0].text, 10, "the removal note")
    select_tab(d, "Fragen")
    css(d, "#bl-neu")[0].click()
    assert "4711" not in ask_by_keyboard(d, notebooks)


def admin_login(d: Any) -> None:
    from selenium.webdriver.common.keys import Keys

    select_tab(d, "Verwaltung")
    user = wait_for(lambda: css(d, "#bl-admin-user input, #bl-admin-user textarea")[0], 10, "user field")
    user.send_keys(ADMIN_USER)
    css(d, "#bl-admin-password input")[0].send_keys(ADMIN_PASSWORD + Keys.ENTER)
    wait_for(lambda: css(d, "#bl-admin-panel") and css(d, "#bl-admin-panel")[0].is_displayed(), 15, "admin panel")


def shown(d: Any, selector: str) -> bool:
    return any(e.is_displayed() for e in css(d, selector))


def test_admin_removes_a_document_from_the_documents_tab(app: dict[str, Any], driver: Any) -> None:
    d = driver
    rel = "recht/egovg-auszug.md"
    open_page(d, app["url"])  # a fresh page: not logged in
    select_tab(d, "Dokumente")
    wait_for(lambda: css(d, f"#bl-bibliothek tr[data-file='{rel}']"), 20, "the document in the table")
    assert not shown(d, "#bl-lib-admin") and not shown(d, "#bl-lib-entfernen")  # staff see no removal
    admin_login(d)
    select_tab(d, "Dokumente")
    wait_for(lambda: shown(d, "#bl-lib-admin"), 10, "the removal controls for the admin")
    choice = css(d, "#bl-lib-entfernen-auswahl input")[0]
    choice.click()
    choice.send_keys("egovg")
    option = wait_for(lambda: next((o for o in css(d, "#bl-lib-entfernen-auswahl li, ul.options li")
                                    if rel in o.text), None), 10, "the document in the list")
    option.click()
    css(d, "#bl-lib-entfernen")[0].click()
    wait_for(lambda: shown(d, "#bl-lib-ja"), 10, "the confirmation")
    assert rel in css(d, "#bl-lib-bestaetigen-text")[0].text and "1 Dokument" in css(d, "#bl-lib-bestaetigen-text")[0].text
    css(d, "#bl-lib-nein")[0].click()  # cancelling removes nothing
    wait_for(lambda: "Nichts entfernt" in css(d, "#bl-lib-entfernen-msg")[0].text, 10, "the cancel note")
    assert (app["corpus"] / rel).is_file()
    css(d, "#bl-lib-entfernen")[0].click()
    wait_for(lambda: shown(d, "#bl-lib-ja"), 10, "the confirmation again")
    css(d, "#bl-lib-ja")[0].click()
    wait_for(lambda: "Der Index ist aktualisiert." in css(d, "#bl-lib-entfernen-msg")[0].text, 240,
             "the removal and re-ingest")
    assert "aus dem Korpus genommen" in css(d, "#bl-lib-entfernen-msg")[0].text
    wait_for(lambda: not css(d, f"#bl-bibliothek tr[data-file='{rel}']"), 20, "the table without the document")
    assert not (app["corpus"] / rel).exists()
    assert list((app["data_dir"] / "entfernt").glob(f"*/{rel}"))  # kept in the data dir's removed folder
    wait_for(lambda: "E-Government-Gesetz" in css(d, "#bl-neu-seit")[0].text, 20, "the digest naming the removal")


LOGIN_JS = """
const done = arguments[arguments.length - 1];
fetch('login', {method: 'POST', body: new URLSearchParams({username: arguments[0], password: arguments[1]}),
                credentials: 'same-origin'}).then((r) => done(r.status), () => done(0));
"""


def log_in_as(d: Any, url: str, user: str, password: str) -> None:
    """A fresh start as `user`: no cookie, nothing in localStorage, Gradio's login, then the app."""
    d.get(url)
    d.delete_all_cookies()
    d.execute_script("localStorage.clear(); sessionStorage.clear();")
    d.get(url)
    wait_for(lambda: css(d, "input[type='password']"), 30, "the login form")
    assert d.execute_async_script(LOGIN_JS, user, password) == 200
    open_page(d, url)


def earlier_conversations(d: Any) -> list[str]:
    """The labels in "Frühere Unterhaltungen" (the list folds away again)."""
    from selenium.webdriver.common.keys import Keys

    css(d, "#bl-verlauf-acc button")[0].click()
    box = wait_for(lambda: css(d, "#bl-verlauf input")[0], 10, "the list of earlier conversations")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    time.sleep(1)
    labels = [o.get_attribute("textContent") or "" for o in css(d, "#bl-verlauf [role='option']")]
    box.send_keys(Keys.ESCAPE)
    css(d, "#bl-verlauf-acc button")[0].click()
    return labels


def test_with_a_login_each_user_has_own_conversations_on_the_server(app: dict[str, Any], driver: Any) -> None:
    d = driver
    users = {"anna": "Anna-Pass:1", "bernd": "Bernd-Pass:2"}
    kept = app["data_dir"] / "unterhaltungen"
    with running_app(app["data_dir"], app["base"] / "app-login.log",
                     RAG_AUTH=",".join(f"{u}:{p}" for u, p in users.items())) as url:
        log_in_as(d, url, "anna", users["anna"])
        ask_by_keyboard(d, PDF_QUESTION)
        wait_for(lambda: kept.is_dir() and len(list(kept.glob("*.json"))) == 1, 10, "anna's conversations file")
        # the browser keeps nothing of it (encrypted, a kept conversation with its sources takes kilobytes)
        stored = d.execute_script("return localStorage.getItem('beschlusslage-unterhaltungen') || ''")
        assert len(stored) < 300, len(stored)

        log_in_as(d, url, "bernd", users["bernd"])
        time.sleep(2)  # the page has restored whatever it would restore
        assert not css(d, "[data-testid='bot']"), "bernd must not see anna's conversation"
        assert not any("Musterhausen" in label for label in earlier_conversations(d))
        ask_by_keyboard(d, QUESTION)
        wait_for(lambda: len(list(kept.glob("*.json"))) == 2, 10, "bernd's own conversations file")
        files = {p: p.read_text(encoding="utf-8") for p in kept.glob("*.json")}
        assert sorted(PDF_QUESTION in t for t in files.values()) == [False, True]
        assert all((PDF_QUESTION in t) != (QUESTION in t) for t in files.values())  # no file holds both

        # anna again, from a browser that keeps nothing: her conversation comes from the server, without bernd's
        log_in_as(d, url, "anna", users["anna"])
        wait_for(lambda: len(css(d, "[data-testid='bot']")) == 1, 20, "anna's conversation restored")
        assert css(d, "[data-testid='user']")[0].text.strip() == PDF_QUESTION
        labels = earlier_conversations(d)
        assert any(PDF_QUESTION[:30] in label for label in labels) and not any("Bauantrag" in x for x in labels)


def test_feedback_is_stored(app: dict[str, Any], driver: Any) -> None:
    d = driver
    open_page(d, app["url"])
    ask_by_keyboard(d, PDF_QUESTION)
    css(d, "#bl-kopieren")[0].click()  # copies even while the Markdown box is folded away
    wait_for(lambda: any("kopiert" in t.text for t in css(d, "[data-testid='toast-body']")), 10, "the copy note")
    css(d, "#bl-markdown-acc button")[0].click()
    box = wait_for(lambda: css(d, "#bl-markdown textarea")[0], 10, "the Markdown box")
    markdown = box.get_attribute("value")
    assert markdown.startswith(f"**Frage:** {PDF_QUESTION}") and "**Quellen:**" in markdown
    assert f"(Datei: {PDF_NAME})" in markdown and "S. 2" in markdown
    # the answer as a Vermerk: Markdown and Word files to download
    css(d, "#bl-vermerk-btn")[0].click()
    files = wait_for(lambda: css(d, "#bl-vermerk")[0].text if ".docx" in css(d, "#bl-vermerk")[0].text else "", 20,
                     "the Vermerk files")
    assert "Vermerk " in files and ".md" in files
    css(d, "#bl-kommentar textarea, #bl-kommentar input")[0].send_keys("Sehr hilfreich")
    css(d, "#bl-hilfreich")[0].click()
    wait_for(lambda: "Danke" in css(d, "#bl-feedback-msg")[0].text, 15, "the thank-you note")
    wait_for(lambda: css(d, "#bl-hilfreich")[0].text.startswith("✓"), 10, "the chosen rating shown")
    with sqlite3.connect(app["data_dir"] / "feedback.sqlite") as conn:
        rows = conn.execute("SELECT question, rating, comment, citations_json FROM feedback").fetchall()
    assert (PDF_QUESTION, 1, "Sehr hilfreich") in [r[:3] for r in rows]
    assert PDF_NAME in next(r[3] for r in rows if r[0] == PDF_QUESTION)
    # changing one's mind replaces the rating instead of storing a contradicting second one
    css(d, "#bl-nicht-hilfreich")[0].click()
    wait_for(lambda: css(d, "#bl-nicht-hilfreich")[0].text.startswith("✓"), 10, "the new rating shown")
    assert not css(d, "#bl-hilfreich")[0].text.startswith("✓")
    with sqlite3.connect(app["data_dir"] / "feedback.sqlite") as conn:
        after = conn.execute("SELECT question, rating, comment FROM feedback").fetchall()
    assert len(after) == len(rows) and (PDF_QUESTION, -1, "Sehr hilfreich") in after
    # the admin sees the rating under "Rückmeldungen" and exports the ratings as eval candidates
    admin_login(d)
    table = wait_for(lambda: css(d, "#bl-admin-feedback table"), 15, "the Rückmeldungen table")[0]
    assert "Zeitpunkt" in table.text and "Kommentar" in table.text
    row = next(r.text for r in table.find_elements("css selector", "tbody tr") if PDF_QUESTION in r.text)
    assert "Sehr hilfreich" in row and "👎" in row and "Uhr" in row
    assert "nicht hilfreich: 1" in css(d, "#bl-admin-feedback")[0].text
    css(d, "#bl-feedback-export")[0].click()
    note = wait_for(lambda: css(d, "#bl-feedback-export-msg")[0].text if "Eval-Kandidat" in css(
        d, "#bl-feedback-export-msg")[0].text else "", 90, "the export note")
    assert note.startswith("✓") and "eval-kandidaten/kandidaten-" in note
    wait_for(lambda: ".jsonl" in css(d, "#bl-feedback-export-file")[0].text, 15, "the file to download")
    exported = list((app["data_dir"] / "eval-kandidaten").glob("kandidaten-*.jsonl"))
    assert len(exported) == 1 and exported[0].name in note and PDF_QUESTION in exported[0].read_text(encoding="utf-8")


# ----------------------------------------------------------------------------------- screenshots
def _seed_embedding_cache(data_dir: Path) -> None:
    """Reuse embeddings from earlier local runs (./data, and the cache `make eval` shares in ~/.cache) so the
    project corpus ingests in seconds; the sources are only read."""
    target = data_dir / "cache" / "embeddings.sqlite"
    target.parent.mkdir(parents=True, exist_ok=True)
    sources = sorted((PROJECT / "data").glob("**/cache/embeddings.sqlite")) if (PROJECT / "data").is_dir() else []
    shared = Path.home() / ".cache" / "beschlusslage" / "embeddings.sqlite"
    sources += [shared] if shared.is_file() else []
    if not sources:
        return
    conn = sqlite3.connect(target)
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS emb (model TEXT, key TEXT, vec BLOB, PRIMARY KEY (model, key))")
        for i, src in enumerate(sources):
            try:
                conn.execute(f"ATTACH DATABASE ? AS s{i}", (f"file:{src}?mode=ro",))
                conn.execute(f"INSERT OR IGNORE INTO emb SELECT model, key, vec FROM s{i}.emb")
                conn.commit()
                conn.execute(f"DETACH DATABASE s{i}")
            except sqlite3.Error:
                continue
    finally:
        conn.close()


SCREENSHOTS_DIR = os.environ.get("BL_SCREENSHOTS_DIR")  # `make screenshots` sets docs/


@pytest.fixture(scope="module")
def showcase(tmp_path_factory: pytest.TempPathFactory, app: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """The app over the project's own corpus/ for `make screenshots`; the test corpus otherwise."""
    own = PROJECT / "corpus"
    if not SCREENSHOTS_DIR or not (own.is_dir() and any(own.rglob("*.md"))):
        yield app["url"], "Was gilt für den digitalen Bauantrag?"
        return
    base = tmp_path_factory.mktemp("showcase")
    data_dir = base / "data"
    _seed_embedding_cache(data_dir)
    from ingest.pipeline import ingest
    from rag.settings import Settings

    # two ingests of a copy, the newest decisions held back from the first, so "Neu seit …" has something to say
    corpus = base / "corpus"
    shutil.copytree(own, corpus)
    newest = sorted((corpus / "itplr").glob("20*.md"))[-2:]  # named by date
    held = {p: p.read_bytes() for p in newest}
    for p in held:
        p.unlink()
    ingest([corpus], Settings(data_dir=data_dir))
    for p, data in held.items():
        p.write_bytes(data)
    ingest([corpus], Settings(data_dir=data_dir))
    with running_app(data_dir, base / "app.log", RAG_ADMIN_USER=ADMIN_USER, RAG_ADMIN_PASSWORD=ADMIN_PASSWORD) as url:
        yield url, "Was hat der IT-Planungsrat zum Kommunalpakt beschlossen?"


SCREENSHOT_WIDTHS = (1400, 420)  # a desktop and a phone
SCREENSHOT_VIEWS = ("chat", "dokumente", "sitzungen", "verwaltung")


def test_screenshots_chat_documents_sessions_admin(showcase: tuple[str, str], driver: Any, tmp_path: Path) -> None:
    """Full-page screenshots of the chat with an answer and its sources, the Dokumente and Sitzungen tabs and
    the admin panel, 1400 and 420 px wide: into a temp folder, under docs/ only on request (`make
    screenshots`), so the checkout stays clean."""
    url, question = showcase
    out = Path(SCREENSHOTS_DIR) if SCREENSHOTS_DIR else tmp_path
    d = driver
    open_page(d, url)
    css(d, "#bl-neu")[0].click()
    ask_by_keyboard(d, question)
    wait_for(lambda: css(d, "#bl-quellen .bl-card"), 10, "source cards")
    for width in SCREENSHOT_WIDTHS:
        select_tab(d, "Fragen")
        d.execute_script("window.scrollTo(0, 0);")
        full_page_screenshot(d, out / f"screenshot-chat-{width}.png", width)
        select_tab(d, "Dokumente")
        wait_for(lambda: css(d, "#bl-bibliothek tr[data-file]"), 20, "the document list")
        full_page_screenshot(d, out / f"screenshot-dokumente-{width}.png", width)
        select_tab(d, "Sitzungen")
        wait_for(lambda: css(d, "#bl-sitzungen .bl-session"), 20, "the sessions overview")
        full_page_screenshot(d, out / f"screenshot-sitzungen-{width}.png", width)
    admin_login(d)
    wait_for(lambda: "Dokumente" in css(d, "#bl-admin-status")[0].text, 10, "the index status table")
    for width in SCREENSHOT_WIDTHS:
        select_tab(d, "Verwaltung")
        full_page_screenshot(d, out / f"screenshot-verwaltung-{width}.png", width)
    for view in SCREENSHOT_VIEWS:
        for width in SCREENSHOT_WIDTHS:
            path = out / f"screenshot-{view}-{width}.png"
            assert path.stat().st_size > 20_000, path
            assert png_width(path) == width, (path, png_width(path))


def png_width(path: Path) -> int:
    """The pixel width in a PNG's header."""
    return int.from_bytes(path.read_bytes()[16:20], "big")
