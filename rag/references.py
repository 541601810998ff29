"""References a question names that the documents may not hold: decision numbers, session numbers,
§ of a law and technical guidelines (TR-…). `References` is built once per index version from every
document's text, sections and titles; `References.missing` lists what a question names that no document
contains, each `Missing` with the nearest references that are there, so the answer can say "zur 52. Sitzung
liegen keine Dokumente vor; am nächsten liegt die 49. Sitzung" instead of answering from a neighbour.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from rag.patterns import (
    DECISION_IN_TEXT,
    SESSION_AHEAD,
    SESSION_DATED_AFTER,
    SESSION_DATED_BEFORE,
    SESSION_IN_TEXT,
    SESSION_PAST,
    asked_time,
)
from rag.sessions import parse_german_date

TR_CODE = re.compile(r"\bTR[- ]?(\d{5}(?:-\d+)?)\b", re.I)  # a technical guideline's number: "TR-03116-4"


@dataclass(frozen=True)
class References:
    """Every decision number any document mentions, every session the documents hold (see `held_sessions`),
    every § heading, and the technical guidelines that are documents of the index themselves (built once per
    index version)."""

    decisions: frozenset[str]
    sessions: frozenset[str]
    sections: frozenset[str]
    guidelines: frozenset[str] = frozenset()
    # decisions with a document of their own (its metadata): the neighbours named for a missing one; the
    # text mentions above include other numbering schemes ("Verordnung (EU) 2019/771")
    documented: frozenset[str] = frozenset()
    # the days something was decided or reported on (ISO): the dates of decisions, press releases and web
    # pages (a law's or a guideline's date is its version's) and of the sessions a text reports with a date
    dated: frozenset[str] = frozenset()
    session_dates: frozenset[tuple[int, str]] = frozenset()  # (number, ISO day) of the sessions documents are of

    @classmethod
    def build(cls, texts: Iterable[str], sections: Iterable[str], titles: Iterable[str] = (),
              documented: Iterable[str] = (), sessions_of: Iterable[int | str] = (),
              dated: Iterable[str] = (), session_dates: Iterable[tuple[int | str, str]] = ()) -> References:
        """`sessions_of`: the sessions documents are of (their metadata); `texts` add the sessions they
        report as held (`held_sessions`), not those they name ahead ("bis zur 47. Sitzung"). `dated` and
        `session_dates` as in the metadata; `texts` add the days of the sessions they name with a date to
        `dated`."""
        dec: set[str] = set()
        ses: set[str] = {str(int(s)) for s in sessions_of}
        days: set[tuple[int, str]] = {(int(n), d) for n, d in session_dates if d}
        told: set[str] = set()  # the days of sessions a text names with a date (another body's "33. Sitzung" too)
        for t in texts:
            dec.update(f"{y}/{int(n):02d}" for y, n in DECISION_IN_TEXT.findall(t))
            for number, held, day in session_mentions(t):  # one pass for both
                if held:
                    ses.add(str(number))
                if day:
                    told.add(day)
        secs = {s.split(" – ")[0].split(" - ")[0].strip().lower() for s in sections if s.startswith("§")}
        trs = {code for title in titles for code in TR_CODE.findall(title)}
        own = {f"{y}/{int(n):02d}" for d in documented for y, n in DECISION_IN_TEXT.findall(d)}
        return cls(frozenset(dec), frozenset(ses), frozenset(secs), frozenset(trs), frozenset(own),
                   frozenset(d for d in dated if d) | {d for _n, d in days} | told, frozenset(days))

    def has_guideline(self, code: str) -> bool:
        """Is the guideline `code` ("03116-4", "03160") a document of the index? A number without a part
        names all its parts ("03160" → "03160-1"); a document without a part covers every part.

        >>> r = References(frozenset(), frozenset(), frozenset(), frozenset({"03160-1", "03172"}))
        >>> r.has_guideline("03160"), r.has_guideline("03172-4"), r.has_guideline("03116-4")
        (True, True, False)
        """
        base = code.split("-")[0]
        return any(g in (code, base) or g.startswith(code + "-") for g in self.guidelines)

    def missing(self, refs: dict[str, set[str]], question: str) -> list[Missing]:
        """References of the question that no document contains, e.g. ['Beschluss 2024/99'], each with the
        nearest ones that are there, and technical guidelines that other documents merely cite: "Welche
        TLS-Version schreibt die TR-03116-4 vor?" is not answered from a passage saying that the TR-03116-4
        has requirements on TLS.

        >>> r = References(frozenset({"2019/30", "2020/01"}), frozenset({"47", "49"}),
        ...                frozenset({"§ 1 ozg", "§ 13 ozg", "§ 2 egovg"}))
        >>> [(str(m), m.nearest) for m in r.missing({"session": {"52"}, "decision": {"2019/99"}}, "")]
        [('Beschluss 2019/99', ('Beschluss 2019/30', 'Beschluss 2020/01')), ('52. Sitzung', ('49. Sitzung',))]
        >>> [(str(m), m.nearest) for m in r.missing({}, "Was regelt § 27 OZG und § 5 NKRG?")]
        [('§ 27 OZG', ('§ 13 OZG',)), ('§ 5 NKRG', ())]
        """
        near_decisions = self.documented or self.decisions
        out = [Missing(f"Beschluss {d}", tuple(f"Beschluss {n}" for n in _neighbours(d, near_decisions, _decision_key)))
               for d in sorted(refs.get("decision", set())) if d not in self.decisions]
        out += [Missing(f"{s}. Sitzung", tuple(f"{n}. Sitzung" for n in _neighbours(s, self.sessions, int)))
                for s in sorted(refs.get("session", set()), key=int) if s not in self.sessions]
        out += [Missing(f"TR-{c}") for c in dict.fromkeys(TR_CODE.findall(question)) if not self.has_guideline(c)]
        for m in re.finditer(r"§\s*(\d+[a-z]?)\s+([A-ZÄÖÜ][\w-]*[A-Z]\w*)", question):
            key = f"§ {m.group(1)} {m.group(2)}".lower()
            if self.sections and key not in self.sections:
                law = m.group(2).lower()
                same_law = {s.split(" ", 2)[1] for s in self.sections if s.split(" ", 2)[2:] == [law]}
                near = _neighbours(m.group(1), frozenset(same_law), _paragraph_key)
                out.append(Missing(f"§ {m.group(1)} {m.group(2)}", tuple(f"§ {n} {m.group(2)}" for n in near)))
        if (time := self.undocumented_time(question)) is not None:
            out.append(time)
        return out

    def name_sessions(self, question: str) -> str:
        """A session named by its place, named by its number: "in der letzten Sitzung" is the newest session a
        document is of, "die nächste Sitzung" the one after it (which no document is of, so the question is
        refused with the nearest held one), "die neuesten Beschlüsse" those of the newest session.

        >>> r = References(frozenset(), frozenset({"45", "46"}), frozenset(),
        ...                session_dates=frozenset({(45, "2024-11-06"), (46, "2025-03-26")}))
        >>> r.name_sessions("Was wurde in der letzten Sitzung beschlossen?"), r.name_sessions("wann ist die naechste it-plr-sitzung")
        ('Was wurde in der 46. Sitzung beschlossen?', 'wann ist die 47. sitzung des IT-Planungsrats')
        >>> r.name_sessions("Was sind die neuesten Beschlüsse?"), r.name_sessions("Was galt in der vorletzten Sitzung?")
        ('Was sind die Beschlüsse aus der 46. Sitzung?', 'Was galt in der vorletzten Sitzung?')
        >>> r.name_sessions("wann ist die naechste sitzung des it planungsrats"), r.name_sessions(
        ...     "Wann tagt der IT-Planungsrat als Nächstes?")
        ('wann ist die 47. sitzung des it planungsrats', 'Wann tagt der IT-Planungsrat in der 47. Sitzung?')
        >>> r.name_sessions("was wurde in der letzten it plr sitzung beschlossen")
        'was wurde in der 46. sitzung des IT-Planungsrats beschlossen'
        >>> r.name_sessions("wann tagt er das naechste mal"), r.name_sessions("Wann tagt der Verwaltungsrat wieder?")
        ('wann tagt er in der 47. Sitzung', 'Wann tagt der Verwaltungsrat wieder?')
        >>> r.name_sessions("Was beschloss die letzte Sitzung des IT-Planungsrats?"), r.name_sessions(
        ...     "Was beschloss die letzte Sitzung des Verwaltungsrats?")
        ('Was beschloss die 46. Sitzung des IT-Planungsrats?', 'Was beschloss die letzte Sitzung des Verwaltungsrats?')
        """
        if not self.session_dates:
            return question
        newest = max(self.session_dates, key=lambda s: (s[1], s[0]))[0]

        def session(m: re.Match[str]) -> str:
            ahead = m.group(1).lower().startswith(("nächst", "naechst", "kommend", "bevorstehend"))
            of = " des IT-Planungsrats" if m.group(2) else ""  # "die letzte IT-PLR-Sitzung"
            return f"{newest + 1 if ahead else newest}. {m.group(3)}{of}"

        question = _PLACED_SESSION.sub(session, question)
        question = _NEXT_MEETING.sub(rf"\g<1>in der {newest + 1}. Sitzung", question)
        return _NEWEST_DECISIONS.sub(lambda m: f"{m.group(1)} aus der {newest}. Sitzung", question)

    def undocumented_time(self, question: str) -> Missing | None:
        """A question about the sessions or decisions of a month, season or year (`asked_time`) in which no
        document is dated and no session was held: "Was hat der IT-Planungsrat im Juni 2026 beschlossen?" is
        not answered from the decisions of March 2025 that plan for 2026. The nearest sessions with a date
        are named. An index with no dated document checks nothing.

        >>> r = References(frozenset({"2019/30"}), frozenset({"46"}), frozenset(), dated=frozenset({"2025-03-26",
        ...                "2025-11-20"}), session_dates=frozenset({(46, "2025-03-26")}))
        >>> m = r.undocumented_time("Was wurde in der Sitzung im Juni 2026 beschlossen?"); str(m), m.nearest
        ('Sitzungen und Beschlüssen im Juni 2026', ('46. Sitzung vom 26.03.2025',))
        >>> r.undocumented_time("Was wurde im November 2025 beschlossen?"), r.undocumented_time("Was gilt 2026?")
        (None, None)
        >>> str(r.undocumented_time("Welche Beschlüsse von 2021 gibt es?")), r.undocumented_time("Was wurde 2019 beschlossen?")
        ('Sitzungen und Beschlüssen im Jahr 2021', None)
        """
        asked = asked_time(question)
        if asked is None or not self.dated:
            return None
        label, first, last = asked
        if any(first <= d <= last for d in self.dated):
            return None
        if first.endswith("-01-01") and any(d.startswith(first[:4] + "/") for d in self.decisions):
            return None  # a year whose decisions a document numbers ("Beschluss 2019/30")
        before = [s for s in self.session_dates if s[1] < first]
        after = [s for s in self.session_dates if s[1] > last]
        near = [*sorted(before, key=lambda s: s[1])[-1:], *sorted(after, key=lambda s: s[1])[:1]]
        return Missing(f"Sitzungen und Beschlüssen {label}", tuple(f"{n}. Sitzung vom {_german(d)}" for n, d in near))


def asks_newest_decisions(question: str) -> bool:
    """ "Was sind die neuesten Beschlüsse?" asks for the newest session's decisions (`References.name_sessions`),
    also when nothing is new since the last ingest.

    >>> asks_newest_decisions("was sind die neusten beschluesse"), asks_newest_decisions("Gibt es neue Beschlüsse?")
    (True, False)
    """
    return bool(_NEWEST_DECISIONS.search(question))


def held_sessions(text: str) -> set[str]:
    """The sessions a text reports as held: named with their date, beside a decision number, or in a sentence
    told in the past; never one named ahead ("bis zur 47. Sitzung", "zu seiner 16. Sitzung", "für die 20.
    Sitzung"). A question about a session that the documents only name ahead is refused with the nearest held
    ones, not answered from the decision that set the deadline.

    >>> sorted(held_sessions("In seiner 19. Sitzung vom 16.03.2016 wurde … Die Themenpaten legen bis zur 47. "
    ...                      "Sitzung Zielbilder vor. Er befasst sich mit der Freigabe in der 48. Sitzung."))
    ['19']
    >>> sorted(held_sessions("1. Sitzung des IT-Planungsrats am 22. April 2010")), sorted(held_sessions(
    ...     "29.03.2023 | 40. Sitzung | Beschluss 2023/02")), sorted(held_sessions("Der IT-Planungsrat hat in "
    ...     "seiner 40. Sitzung Eckpunkte beschlossen."))
    (['1'], ['40'], ['40'])
    >>> sorted(held_sessions("## 36. Sitzung, 29. Oktober 2021")), sorted(held_sessions("- Beschluss 2022/21 (38. Sitzung): "
    ...                                                                                 "Finanzierung"))
    (['36'], ['38'])
    >>> sorted(held_sessions("Sitzung des IT-Planungsrats am 22. April 2010 (1. Sitzung): Tagesordnung"))
    ['1']
    """
    return {str(number) for number, held, _day in session_mentions(text) if held}


def session_mentions(text: str) -> Iterator[tuple[int, bool, str | None]]:
    """Each session a text names, in one pass: its number, whether the text reports it as held (see
    `held_sessions`), and the ISO day given right after it, if any (see `dated_sessions`)."""
    for m in SESSION_IN_TEXT.finditer(text):
        before = text[max(0, m.start() - 40):m.start()]
        after = SESSION_DATED_AFTER.search(text[m.end():m.end() + 80])
        day = parse_german_date(after.group(0)) if after else None
        if SESSION_AHEAD.search(before):
            yield int(m.group(1)), False, day
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = len(text) if (i := text.find("\n", m.end())) < 0 else i
        start = max(text.rfind(".", 0, max(0, m.start() - 1)) + 1, line_start)
        end = min((i for i in (text.find(". ", m.end()), line_end) if i >= 0), default=len(text))
        beside = text[max(line_start, m.start() - 30):min(line_end, m.end() + 30)]
        held = bool(after or SESSION_DATED_BEFORE.search(before) or DECISION_IN_TEXT.search(beside)
                    or SESSION_PAST.search(text[start:end]))
        yield int(m.group(1)), held, day


# a session named by its place ("in der letzten Sitzung", "die nächste IT-PLR-Sitzung"; not "vorletzte"), and the
# newest decisions ("die neuesten Beschlüsse")
_PLACE = (r"(letzte[nmrs]?|jüngste[nmrs]?|juengste[nmrs]?|neueste[nmrs]?|aktuellste[nmrs]?|vergangene[nmrs]?|"
          r"vorige[nmrs]?|nächste[nmrs]?|naechste[nmrs]?|kommende[nmrs]?|bevorstehende[nmrs]?)")
# … of the IT-Planungsrat, whose sessions the documents number; not "die letzte Sitzung des Verwaltungsrats"
_ITPLR = r"IT[- ]?Planungsrat\w*|IT[- ]?PLR|Planungsrat\w*"
_PLACED_SESSION = re.compile(rf"\b{_PLACE}\s+(IT[- ]?PLR[- ]?|IT[- ]?Planungsrats?[- ]?)?(Sitzung)\b"
                             rf"(?!\s+(?:des|der|vom|im)\s+(?!{_ITPLR})\w)", re.I)
# the next meeting asked for by its verb: "Wann tagt der IT-Planungsrat als Nächstes / das nächste Mal / wieder?"
_NEXT_MEETING = re.compile(rf"(\b(?:tagt|tagen|trifft\s+sich|treffen\s+sich)\s+(?:(?:der\s+)?(?:{_ITPLR})\s+|das\s+"
                           r"Gremium\s+|er\s+)?(?:denn\s+|eigentlich\s+)?)"
                           r"(?:als\s+n(?:ä|ae)chstes|das\s+n(?:ä|ae)chste\s+mal|n(?:ä|ae)chstes\s+mal|wieder)\b", re.I)
_NEWEST_DECISIONS = re.compile(r"\b(?:letzte|jüngste|juengste|neueste|neuste|aktuellste)n?\s+(Beschlüsse|Beschluesse|"
                               r"Entscheidungen)\b", re.I)


def dated_sessions(text: str) -> set[tuple[int, str]]:
    """The sessions a text names with their date, as (number, ISO day).

    >>> sorted(dated_sessions("In seiner 19. Sitzung vom 16.03.2016 wurde … ## 36. Sitzung, 29. Oktober 2021"))
    [(19, '2016-03-16'), (36, '2021-10-29')]
    """
    return {(number, day) for number, _held, day in session_mentions(text) if day}


def _german(day: str) -> str:
    y, m, d = day.split("-")
    return f"{d}.{m}.{y}"


@dataclass(frozen=True)
class Missing:
    """A reference the question names that no document holds, and the nearest ones that documents do hold
    (below, then above): "zur 52. Sitzung liegen keine Dokumente vor; am nächsten liegt die 49. Sitzung"."""

    name: str
    nearest: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.name


def _decision_key(d: str) -> tuple[int, int]:
    y, n = d.split("/")
    return int(y), int(n)


def _paragraph_key(p: str) -> tuple[int, str]:
    m = re.match(r"(\d+)(\D*)", p)
    return (int(m.group(1)), m.group(2)) if m else (0, p)


def _neighbours(ref: str, held: frozenset[str], key: Callable[[str], Any]) -> list[str]:
    """The held references just below and just above `ref` in `key` order (one only when `ref` lies beyond
    every held one)."""
    try:
        ordered = sorted(held, key=key)
        at = key(ref)
    except ValueError:
        return []
    below = [h for h in ordered if key(h) < at][-1:]
    above = [h for h in ordered if key(h) > at][:1]
    return below + above
