"""The reference patterns of the domain, each defined once: a session ("40. Sitzung"), a decision number
("2023/02"), and a question about decisions ("beschlossen"). Ingest, retrieval and answering
import them from here. Where two uses need different strictness, both forms are here, side by side, with
the reason (a question is matched loosely, a document's text strictly).

>>> SESSION_IN_QUESTION.findall("Was wurde in der 35. IT-PLR-Sitzung und der 36. sitzung beschlossen?")
['35', '36']
>>> SESSION_IN_TEXT.findall("In der 35. Sitzung und der 36. IT-Planungsratssitzung"), SESSION_HEADING.findall("40. Sitzung")
(['35', '36'], ['40'])
>>> DECISION_IN_QUESTION.findall("Beschluss 2023-02 und 2024/7"), DECISION_IN_TEXT.findall("Beschluss 2023/02, nicht 2023-02")
([('2023', '02'), ('2024', '7')], [('2023', '02')])
>>> bool(ASKS_DECISIONS.search("Was wurde beschlossen?")), bool(ASKS_DECISIONS.search("Gibt es Mehrheitsentscheidungen?"))
(True, True)
"""

from __future__ import annotations

import re

from rag.lexicon import MONTHS

# -- sessions ------------------------------------------------------------------------------------
# a question names a session loosely: any case, "IT-PLR-Sitzung", "IT-Planungsrats-Sitzung"
SESSION_IN_QUESTION = re.compile(r"\b(\d{1,3})\.\s*(?:IT-PLR-|IT-Planungsrats-?)?Sitzung", re.IGNORECASE)
# a document's text names one as written there ("40. Sitzung", "40. IT-Planungsratssitzung")
SESSION_IN_TEXT = re.compile(r"\b(\d{1,3})\.\s*(?:Sitzung|IT-Planungsrats?-?[Ss]itzung)")
# a decision's own session in its metadata or title ("40. Sitzung")
SESSION_HEADING = re.compile(r"\b(\d{1,3})\.\s*Sitzung\b")
# "… in der 47. Sitzung …": the session a question asks what was decided in
DECIDED_IN_SESSION = re.compile(r"\b(?:in|auf|bei|aus|von)\s+(?:der|seiner|ihrer|dieser)\s+(\d{1,3})\.\s*Sitzung", re.I)
# a statement that names a session or a written procedure (an answer to "In welcher Sitzung …?")
NAMES_SESSION = re.compile(r"\b\d{1,3}\.\s?(sitzung|it-planungsratssitzung)\b|\bumlaufverfahren\b", re.I)


# a session a text names ahead of it ("bis zur 47. Sitzung vorlegen", "zu seiner 16. Sitzung", "für die 20. Sitzung
# vorbereiten") is not one the documents hold; the words just before the number
SESSION_AHEAD = re.compile(r"\b(?:bis\s+)?(?:zur|zu\s+(?:seiner|ihrer|der)|für\s+(?:die|seine|ihre)|vor\s+der)\s*$", re.I)
# ... one given its date ("19. Sitzung vom 16.03.2016", "1. Sitzung des IT-Planungsrats am 22. April 2010",
# "33. Sitzung (03.09.2024)", "36. Sitzung, 29. Oktober 2021"; before it: "29.03.2023 | 40. Sitzung" in a decision's
# header, "am 22. April 2010 (1. Sitzung)") has taken place, as has one named beside a decision of it ("Beschluss 2022/21 (38. Sitzung)")
_DATE = r"\d{1,2}\.\s*(?:\d{1,2}\.\s*|[A-ZÄÖÜ][a-zäöü]+\s+)\d{4}"
SESSION_DATED_AFTER = re.compile(rf"^[^.!?\n]{{0,40}}?(?:\b(?:vom|am)\s+|\(\s*|,\s*){_DATE}")
SESSION_DATED_BEFORE = re.compile(rf"{_DATE}\s*[|(,–-]?\s*$")
# ... as has one its sentence reports in the past ("hat in seiner 40. Sitzung …", "ist zu seiner 40. Sitzung
# zusammengekommen"); "befasst sich in der 47. Sitzung damit" is ahead of it
SESSION_PAST = re.compile(r"\b(?:hat|hatte|haben|hatten|wurde|wurden|war|waren|fand|tagte|beschloss|verabschiedete|"
                          r"zusammengekommen|getagt|beschlossen)\b", re.I)


def session_in_text(number: int | str) -> re.Pattern[str]:
    """The session `number` as a document's text names it ("47. Sitzung", "47. IT-Planungsrats-Sitzung")."""
    return re.compile(rf"(?<![\d.]){number}\.\s*(?:IT-Planungsrats?-?)?[Ss]itzung")


# -- decisions -----------------------------------------------------------------------------------
# a question writes a decision number with "/" or "-" ("2023/02", "2023-2")
DECISION_IN_QUESTION = re.compile(r"\b((?:19|20)\d{2})\s*[/-]\s*(\d{1,3})\b")
# a document's text with "/" only ("2023-02" there is a date or a range)
DECISION_IN_TEXT = re.compile(r"\b((?:19|20)\d{2})\s*/\s*(\d{1,3})\b")

# -- "beschlossen" -------------------------------------------------------------------------------
# a question about a session's decisions, inside words too ("Beschlusslage", "Entscheidungen")
ASKS_DECISIONS = re.compile(r"beschl(?:o|ie)ss|beschlüsse|beschluss|entsch(?:ie|ei)d|gefasst|verabschiedet", re.I)
# ... loosest: the question is about decisions at all, so decisions are the documents it asks for
ABOUT_DECISIONS = re.compile(r"beschl(o|ie)ss|beschluss|entsch(ie|ei)d|IT-PLR|IT-Planungsrat", re.I)


# -- a time a question names -----------------------------------------------------------------------
_MONTH_NAMES = tuple(m.lower() for m in MONTHS)
_SEASONS = {"frühjahr": (3, 5), "frühling": (3, 5), "sommer": (6, 8), "herbst": (9, 11), "anfang": (1, 4),
            "mitte": (5, 8), "ende": (9, 12)}
PERIOD_IN_QUESTION = re.compile(r"\b(" + "|".join([*_MONTH_NAMES, *_SEASONS]) + r")\s+((?:19|20)\d{2})\b", re.IGNORECASE)


def query_period(query: str) -> tuple[str, str] | None:
    """The span of ISO dates a question names by month or season ("im März 2021", "im Frühjahr 2018").

    >>> query_period("Was hat der IT-PLR im März 2021 beschlossen?"), query_period("Was galt 2021?")
    (('2021-03-01', '2021-03-31'), None)
    >>> query_period("Was war im Frühjahr 2018 offen?")
    ('2018-03-01', '2018-05-31')
    """
    m = PERIOD_IN_QUESTION.search(query)
    return _span(m) if m else None


def _span(m: re.Match[str]) -> tuple[str, str]:
    """The ISO days of a PERIOD_IN_QUESTION match ("März 2021" -> 2021-03-01 .. 2021-03-31)."""
    word, year = m.group(1).lower(), m.group(2)
    first, last = (_MONTH_NAMES.index(word) + 1,) * 2 if word in _MONTH_NAMES else _SEASONS[word]
    return f"{year}-{first:02d}-01", f"{year}-{last:02d}-31"


# the question is about sessions held or decisions taken: "Sitzung", "tagt", "beschlossen", "Beschlüsse" (not
# "laut Beschluss", which names the source of what is asked)
ABOUT_SESSIONS = re.compile(r"sitzung|\bgetagt\b|\btagt(?:e|en)?\b|\btagung|beschlossen|\bbeschloss\b|beschlüsse|"
                            r"beschluesse|\bgefasst|\bentschieden|\bentschied\b|\bverabschiedet", re.I)
# a year a question asks such things of ("im Jahr 2026", "in 2019", "die Beschlüsse von 2021"); never a decision
# number ("2024/13"), nor a year that names a thing ("der Wirtschaftsplan 2026 beschlossen")
_YEAR_ASKED = re.compile(r"\b(?:im\s+jahre?|in)\s+((?:19|20)\d\d)\b(?!\s*[/-]\s*\d)|"
                         r"\b(?:beschlüsse|beschluesse|sitzungen|entscheidungen)\s+(?:von\s+|aus\s+|des\s+jahres\s+)?"
                         r"((?:19|20)\d\d)\b(?!\s*[/-]\s*\d)", re.I)
# "seit Juli 2024", "bis Ende 2026", "ab 2025": the time the answer is about, not the time it was decided
_FROM_OR_UNTIL = re.compile(r"\b(?:seit|bis|ab|für|fuer|vor|nach|zum|spätestens|spaetestens)\s+(?:de[mn]\s+)?$", re.I)
_SEASON_LABEL = {"anfang": "Anfang", "mitte": "Mitte", "ende": "Ende"}


def asked_time(question: str) -> tuple[str, str, str] | None:
    """The time a question asks the sessions or decisions of: (how to name it, first ISO day, last ISO day).

    >>> asked_time("Was hat der IT-Planungsrat in seiner Sitzung im Juni 2026 beschlossen?")
    ('im Juni 2026', '2026-06-01', '2026-06-31')
    >>> asked_time("wann tagt der it-planungsrat im jahr 2026"), asked_time("Welche Beschlüsse gab es Ende 2023?")
    (('im Jahr 2026', '2026-01-01', '2026-12-31'), ('Ende 2023', '2023-09-01', '2023-12-31'))

    Not a time of deciding: what holds since or until a date, a decision number, a question about no session:

    >>> asked_time("Was gilt seit Juli 2024 laut Beschluss?"), asked_time("Was regelt Beschluss 2024/13?")
    (None, None)
    >>> asked_time("Welche Regeln gelten im Jahr 2026 für den Marktplatz?"), asked_time("Was ist laut Beschluss im Jahr 2026 geplant?")
    (None, None)
    >>> asked_time("in welcher sitzung wurde der wirtschaftsplan 2026 beschlossen")
    """
    if not ABOUT_SESSIONS.search(question):
        return None
    m = PERIOD_IN_QUESTION.search(question)
    if m and not _FROM_OR_UNTIL.search(question[: m.start()]):
        first, last = _span(m)
        word = m.group(1).lower()
        label = f"{_SEASON_LABEL[word]} {m.group(2)}" if word in _SEASON_LABEL else f"im {m.group(1).capitalize()} {m.group(2)}"
        return label, first, last
    y = _YEAR_ASKED.search(question)
    if y and not _FROM_OR_UNTIL.search(question[: y.start()]):
        year = next(g for g in y.groups() if g)
        return f"im Jahr {year}", f"{year}-01-01", f"{year}-12-31"
    return None


# -- references as staff type them ------------------------------------------------------------------
# Staff type fast: "52 sitzung", "52te Sitzung", "paragraph 3 ozg", "§3", "beschluss 2023 02". The question is
# first rewritten into the one notation the patterns above read; the document text never is.
_TYPED_SESSION = re.compile(r"\b(\d{1,3})(?:\s*(?:te|ten|ter|\.))?\s+(?=(?:IT-PLR-|IT-Planungsrats-?)?Sitzung\b)",
                            re.IGNORECASE)
_TYPED_PARAGRAPH = re.compile(r"(?:\b(?:paragraph(?:en)?|paragraf(?:en)?|para?\.?)|§§?)\s*(?=\d)", re.IGNORECASE)
_TYPED_DECISION = re.compile(r"\b(beschl(?:uss|uß)(?:es|nummer|nr\.?)?\s*(?:nr\.?|nummer)?\s*)((?:19|20)\d{2})\s+(\d{1,3})\b",
                             re.IGNORECASE)


def canonical_references(text: str) -> str:
    """`text` with sessions, § and decision numbers written the way the patterns read them.

    >>> canonical_references("was wurde in der 52 sitzung beschlossen")
    'was wurde in der 52. sitzung beschlossen'
    >>> canonical_references("Was stand in der 47ten Sitzung und der 3. Sitzung?")
    'Was stand in der 47. Sitzung und der 3. Sitzung?'
    >>> canonical_references("was regelt paragraph 3 ozg und §§12 egovg")
    'was regelt § 3 ozg und § 12 egovg'
    >>> canonical_references("beschluss 2019 99 und Beschluss Nr. 2023 02")
    'beschluss 2019/99 und Beschluss Nr. 2023/02'
    >>> canonical_references("In 3 Sitzungen 2023 wurden 12 Beschlüsse gefasst")  # counts stay counts
    'In 3 Sitzungen 2023 wurden 12 Beschlüsse gefasst'
    """
    text = _TYPED_SESSION.sub(lambda m: f"{m.group(1)}. ", text)
    text = _TYPED_PARAGRAPH.sub("§ ", text)
    return _TYPED_DECISION.sub(lambda m: f"{m.group(1)}{m.group(2)}/{m.group(3)}", text)
