"""German text utilities for administrative prose: normalising, sentence spans, search terms, query expansion.

Pure functions and small cached classes; they run on every query and over every chunk at ingest.

>>> tokenize("Die Beschlüsse des IT-Planungsrats zur Verwaltungscloud")
['beschluss', 'it-planungsrat', 'it', 'planungsrat', 'verwaltungscloud']
>>> split_sentences("Vgl. § 3 Abs. 2 OZG. Der Rat tagte am 29. März 2023.")
[(0, 20), (21, 52)]
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

import Stemmer

__all__ = [
    "ABBREVIATIONS",
    "STOPWORDS",
    "SYNONYMS",
    "Analyzer",
    "CompoundSplitter",
    "Term",
    "expand_query",
    "normalize",
    "query_expansions",
    "split_expansion",
    "split_sentences",
    "stem",
    "tokenize",
    "warm_stems",
    "words",
]

# ---------------------------------------------------------------------------------------------- normalise

_SOFT = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_HYPHENS = re.compile("[\u2010\u2011]")  # typographic hyphens inside words ("IT‐Planungsrat")
_WS = re.compile(r"\s+")


def normalize(text: str) -> str:
    """NFC, soft hyphens and zero-width characters removed, whitespace collapsed.

    >>> normalize("Verwal\\u00adtungs-\\n  cloud ")
    'Verwaltungs- cloud'
    """
    text = unicodedata.normalize("NFC", text)
    text = _SOFT.sub("", text)
    text = _HYPHENS.sub("-", text)
    return _WS.sub(" ", text).strip()


MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
          "November", "Dezember")
# numbers written as words, two to twelve (one is left out: "ein" is mostly an article)
# ordinal numbers as words, first to eighth ("Das dritte Modell …")
ORDINALS = ("erste", "zweite", "dritte", "vierte", "fünfte", "sechste", "siebte", "achte")
NUMBER_WORDS = ("zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn", "elf", "zwölf")
_FIGURE = re.compile(rf"\d+(?:[.,/]\d+)*|\b(?:{'|'.join(NUMBER_WORDS)})(?:mal)?\b|"
                     r"\b(?:erst|zweit|dritt|viert|fünft|sechst|siebt|acht|neunt|zehnt)e[nmrs]?\b", re.I)


def figures(text: str) -> set[str]:
    """The numbers, dates and number words of a text: two versions of a law that differ only there
    ("am dritten Tag" / "am vierten Tag") say different things.

    >>> sorted(figures("Er gilt am vierten Tag, spätestens am 31.12.2024, zweimal."))
    ['31.12.2024', 'vierten', 'zweimal']
    """
    return {m.group(0).casefold() for m in _FIGURE.finditer(text)}


_DOT_LEADER = re.compile(r"(?:\.\s?){6,}\s*\d+\s*$", re.MULTILINE)


def is_table_of_contents(text: str) -> bool:
    """Three or more lines ending in a dot leader and a page number ("2.1 Konten ........ 5").

    >>> is_table_of_contents("1 A ........ 4\\n2 B ........ 5\\n3 C ........ 7"), is_table_of_contents("Text.")
    (True, False)
    """
    return len(_DOT_LEADER.findall(text)) >= 3


def jaccard(a: set[str], b: set[str]) -> float:
    """Shared share of two sets (0 when either is empty).

    >>> jaccard({"kosten", "efa"}, {"kosten", "2024"})
    0.3333333333333333
    """
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


# ---------------------------------------------------------------------------------------------- stop words

def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function words only: articles, pronouns, prepositions, conjunctions, auxiliaries, particles and question
# words. Domain words (Land, Bund, Gesetz, Kommunen ...) are deliberately absent.
STOPWORDS: frozenset[str] = _wordset(
    """
    der die das des dem den ein eine einer eines einem einen kein keine keiner keines keinem keinen
    und oder aber sondern denn doch sowie bzw beziehungsweise noch auch nur schon sehr
    ist sind war waren wird werden wurde wurden worden sei seien wäre wären bin bist seid gewesen
    hat haben hatte hatten habe hast kann können konnte konnten muss müssen musste soll sollen sollte
    sollten darf dürfen will wollen wollte möchte mag
    ich du er sie es wir ihr man sich mich mir dich dir uns euch ihm ihn ihnen
    mein meine dein deine sein seine seiner seines seinem seinen ihre ihrer ihres ihrem ihren unser unsere
    dieser diese dieses diesem diesen jener jene jenes welche welcher welches welchem welchen
    derselbe dieselbe dasselbe derjenige diejenige dasjenige
    in im ins an am ans auf aus bei beim mit nach von vom vor zu zum zur über unter um durch für gegen
    ohne bis seit ab zwischen hinter neben per pro via laut gemäß
    als wie wenn ob dass daß weil da damit sodass so also dann nun hier dort
    was wer wen wem wessen wann warum wieso weshalb wo wohin woher wozu womit wodurch worüber
    nicht kein etwa eben ja nein mal bitte etc usw
    alle allen aller alles jede jeder jedes jedem jeden etwas nichts viel viele mehr einige
    dazu darauf daran dabei dafür davon dadurch darüber hierzu hierfür
    sowohl weder entweder je desto
    """
)

# ---------------------------------------------------------------------------------------------- sentences

# Abbreviations that end in a period without ending the sentence (lowercase, without the period).
_ABBREV = _wordset(
    """
    abs abschn allg anm art az bd bgbl bspw buchst bzgl bzw ca dgl dr einschl evtl f ff gem ggf grds gvbl
    hrsg i insb inkl jh jhd kap lfd lit max mind mio mrd nr o.ä prof rdnr rn s sog st str tel tz u.a ua usw
    v vgl vs z zb zit ziff zt zzgl etc ebd
    """
)
# Words after which a number is a cardinal reference ("Abs. 2. Der ..." ends a sentence).
_REFERENCE = _wordset("abs absatz art artikel nr nummer ziff ziffer satz s seite anlage kapitel kap abschnitt teil tz rn § §§")
_SENT_END = re.compile(r"[.!?…]+[\"'”“«»)\]*_]*(?=\s|$)")
_OPENERS = "\"'„“«»([*_"
_LIST_ALWAYS = re.compile(r"(?:[-•*▪●◦·]\s|\(\d{1,3}[a-z]?\)\s|\([a-z]\)\s|[a-z]\)\s|#{1,6}\s|%\s|\|)")
_LIST_NUMBERED = re.compile(r"\d{1,3}(?:\.\d{1,3})*[.)]\s")
_MARKER_STRIP = re.compile(r"(?:[-•*▪●◦·]|#{1,6}|%)\s+")
_HAS_WORD = re.compile(r"[^\W_]")
_LAST_WORD = re.compile(r"([^\W_]+)\W*$")
_DOTTED_ABBREV = re.compile(r"[^\W\d_]+(?:\.[^\W\d_]+)+")


def _line_breaks(text: str) -> list[int]:
    """Offsets of newlines that end a sentence: paragraph breaks, list items, headings, short title lines."""
    cuts: list[int] = []
    lines = text.split("\n")
    pos = 0
    for i, line in enumerate(lines[:-1]):
        end = pos + len(line)  # offset of this "\n"
        pos = end + 1
        cur = line.strip()
        nxt = lines[i + 1].lstrip()
        if not cur:
            continue
        # a header row ("IT-Planungsrat | 29.03.2023 | 40. Sitzung | Beschluss 2023/02") ends at its line
        if not nxt or cur[0] in "#%|" or nxt[0] in "#%|" or " | " in cur or _LIST_ALWAYS.match(nxt):
            cuts.append(end)
            continue
        last = _LAST_WORD.search(cur)
        last_word = last.group(1).lower() if last else ""
        continues = cur[-1] in ",-–(/" or last_word in STOPWORDS
        if _LIST_NUMBERED.match(nxt):
            # "1. Der IT-Planungsrat ..." starts an item, unless the line wraps "in seiner\n40. Sitzung".
            if not continues:
                cuts.append(end)
        elif cur[-1] == ":" or (
            len(cur) < 40 and not continues and cur[-1] not in ".!?" and (nxt[0].isupper() or nxt[0].isdigit())
        ):
            cuts.append(end)  # a title line such as "Kommunalpakt" or "§ 1 Anwendungsbereich"
    return cuts


def _is_boundary(text: str, m: re.Match[str]) -> bool:
    """Does the punctuation run `m` end a sentence? Looks at the word before and the character after."""
    j = m.end()
    n = len(text)
    while j < n and text[j].isspace():
        j += 1
    if j < n and text[j].islower():
        return False  # German sentences start with a capital; "z. B. die ..."
    if m.group()[0] != "." or m.group().startswith(".."):
        return True
    window = text[max(0, m.start() - 60) : m.start()]
    before = window.split()
    if not before or window[-1].isspace():
        return True
    low = before[-1].lstrip(_OPENERS).lower()
    if not low:
        return True
    if low in _ABBREV or (len(low) == 1 and low.isalpha()):
        return False
    if "." in low and _DOTTED_ABBREV.fullmatch(low):
        return False  # "z.B." / "i.S.d."
    if low.isdigit() and len(low) <= 3:
        # "40. Sitzung", "29. März": ordinal. After "Abs." / "§" the number is a cardinal reference.
        return len(before) > 1 and before[-2].rstrip(".").lower() in _REFERENCE
    return True


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences in `text`, bullet and heading markers excluded.

    Does not split after abbreviations (z. B., Abs., Nr.), ordinals and dates ("40. Sitzung",
    "29. März 2023", "29.03.2023"); every list item ("- ...", "• ...", "1. ...", "(2) ...") and every
    heading line is a sentence of its own. Long sentences stay whole.

    >>> s = "Der IT-Planungsrat beschließt:\\n1. Er stimmt zu.\\n- Er bittet z. B. Hessen."
    >>> [s[a:b] for a, b in split_sentences(s)]
    ['Der IT-Planungsrat beschließt:', '1. Er stimmt zu.', 'Er bittet z. B. Hessen.']
    """
    if not text:
        return []
    cuts = set(_line_breaks(text)) if "\n" in text else set()
    for m in _SENT_END.finditer(text):
        if _is_boundary(text, m):
            cuts.add(m.end())
    spans: list[tuple[int, int]] = []
    start = 0
    for cut in [*sorted(cuts), len(text)]:
        if cut <= start:
            continue
        a, b = start, cut
        start = cut
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        marker = _MARKER_STRIP.match(text, a, b)
        if marker:
            a = marker.end()
        if a < b and _HAS_WORD.search(text, a, b):
            spans.append((a, b))
    return spans


# ---------------------------------------------------------------------------------------------- terms

_STEMMER = Stemmer.Stemmer("german")
# Words ("IT-Planungsrat", "tr-03172", "Nr", "1a"), numbers with "/" or "." between digits ("2023/02",
# "29.03.2023") and paragraph signs with their number ("§ 1a" -> "§1a").
_TOKEN = re.compile(r"§+\s*\d+[^\W_]*|[^\W_]+(?:(?:-|(?<=\d)[./](?=\d))[^\W_]+)*")
_SPLIT_PARTS = re.compile(r"[-./]")
_FOOTNOTE = re.compile(r"([a-zäöüß]{3,})\d{1,2}")
_NUMERIC = re.compile(r"\d+(?:[-/.]\d+)+")
_DMY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_YMD = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_YEAR_NO = re.compile(r"(\d{4})[-/](\d{1,2})")
_SPELLING = re.compile("(?<!q)ue|ae|oe")
_UMLAUT = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_SPELLING_MAP = {"ue": "ü", "ae": "ä", "oe": "ö"}
_FUGEN = ("es", "en", "s", "n", "e")
_INFLECTIONS = ("e", "en", "n", "s", "es", "er", "ern", "em")


def _spell(word: str) -> str:
    """Umlaut spellings to umlauts ("buergerkonto" -> "bürgerkonto"), as Snowball's German stemmer does."""
    if "ue" in word or "ae" in word or "oe" in word:
        return _SPELLING.sub(lambda m: _SPELLING_MAP[m.group()], word)
    return word


_STEMS: dict[str, str] = {}
_STEMS_MAX = 1_000_000  # a vocabulary is far smaller; this only bounds a long-running process
_CACHE_MAX = 500_000


def warm_stems(words: Iterable[str]) -> None:
    """Stems many words in one PyStemmer call (much faster than one call per word) into `stem`'s cache."""
    new = [w for w in dict.fromkeys(words) if w not in _STEMS]
    if not new:
        return
    if len(_STEMS) + len(new) > _STEMS_MAX:
        _STEMS.clear()
    lows = [w.lower() for w in new]
    for w, low, s in zip(new, lows, _STEMMER.stemWords(lows), strict=True):
        _STEMS[w] = _finish_stem(s) if low.isalpha() else low.translate(_UMLAUT)


def _finish_stem(s: str) -> str:
    s = s.translate(_UMLAUT)
    if "graph" in s:  # both spellings are correct German: "kryptographisch" ~ "kryptografisch", "Grafik"
        s = s.replace("graph", "graf")
    if len(s) > 6:
        if s.endswith("iert"):
            s = s[:-3]
        elif s.endswith("ier"):
            s = s[:-2]
    return s


def stem(word: str) -> str:
    """Snowball German stem, umlaut-free, with -ier/-iert unified ("modernisierung" ~ "modernisieren").

    >>> stem("Beschlüsse"), stem("Beschluss"), stem("Bürgerkonto"), stem("Buergerkonto")
    ('beschluss', 'beschluss', 'burgerkonto', 'burgerkonto')
    >>> stem("kryptographische") == stem("kryptografisch")
    True
    """
    s = _STEMS.get(word)
    if s is None:
        low = word.lower()
        s = _finish_stem(_STEMMER.stemWord(low)) if low.isalpha() else low.translate(_UMLAUT)
        if len(_STEMS) >= _STEMS_MAX:
            _STEMS.clear()
        _STEMS[word] = s
    return s


_STOP_FOLDED = frozenset(_spell(w) for w in STOPWORDS)


def _canonical_number(tok: str) -> str:
    """'2023-2' -> '2023/02'; '29.3.2023' and '2023-03-29' -> '2023/03/29'; other numbers unchanged."""
    m = _DMY.fullmatch(tok)
    if m:
        return f"{m.group(3)}/{int(m.group(2)):02d}/{int(m.group(1)):02d}"
    m = _YMD.fullmatch(tok)
    if m:
        return f"{m.group(1)}/{int(m.group(2)):02d}/{int(m.group(3)):02d}"
    m = _YEAR_NO.fullmatch(tok)
    if m:
        return f"{m.group(1)}/{int(m.group(2)):02d}"
    return tok.replace("-", "/")


def words(text: str) -> list[str]:
    """Lowercase surface tokens, before stemming (the raw material for a CompoundSplitter's vocabulary).

    >>> words("Der IT-Planungsrat, § 1a OZG und Beschluss 2023/02.")
    ['der', 'it-planungsrat', '§1a', 'ozg', 'und', 'beschluss', '2023/02']
    """
    found: list[str] = _TOKEN.findall(text.lower())
    if "§" not in text:
        return found
    return ["§" + tok.lstrip("§").lstrip() if tok[0] == "§" else tok for tok in found]


class CompoundSplitter:
    """Splits closed German compounds into words the corpus itself uses.

    A word of at least `min_length` characters is split into head + tail when both (at least `min_part`
    characters, with a Fugen element s/es/n/en/e allowed after the head) occur at least `min_count`
    times in the vocabulary; tails may split further. Among candidate splits the one whose parts are
    most frequent (geometric mean) wins.

    >>> sp = CompoundSplitter(["register", "modernisierung", "verwaltung", "cloud"], min_count=1)
    >>> sp.split("registermodernisierung"), sp.split("verwaltungscloud"), sp.split("verwaltung")
    (('register', 'modernisierung'), ('verwaltung', 'cloud'), ())
    """

    def __init__(
        self,
        vocabulary: Iterable[str] | Mapping[str, int],
        *,
        min_count: int = 2,
        min_part: int = 4,
        min_length: int = 10,
    ) -> None:
        counts: Counter[str] = Counter()
        items = vocabulary.items() if isinstance(vocabulary, Mapping) else ((w, 1) for w in vocabulary)
        for raw, n in items:
            low = raw.lower()
            for part in _SPLIT_PARTS.split(low) if ("-" in low or "/" in low or "." in low) else (low,):
                w = _spell(part)
                if len(w) >= min_part and w.isalpha() and w not in _STOP_FOLDED:
                    counts[w] += n
        self.min_count = min_count
        self.min_part = min_part
        self.min_length = min_length
        # Only words frequent enough to be parts are kept: this is also what `save` stores.
        self.counts: dict[str, int] = {w: n for w, n in sorted(counts.items()) if n >= min_count}
        # head form -> (word, count): the word itself, or the word plus a Fugen element ("verwaltungs")
        self._heads: dict[str, tuple[str, int]] = {}
        for w, n in self.counts.items():
            for f in _FUGEN:
                known = self._heads.get(w + f)
                if known is None or known[1] < n:
                    self._heads[w + f] = (w, n)
        self._heads.update((w, (w, n)) for w, n in self.counts.items())
        self._cache: dict[str, tuple[str, ...]] = {}
        self._best_cache: dict[str, tuple[float, tuple[str, ...]]] = {}

    def _tail(self, tail: str) -> int:
        """Count of `tail` as a word, also when inflected ("modernisierungen" counts "modernisierung")."""
        n = self.counts.get(tail)
        if n:
            return n
        for f in _INFLECTIONS:
            if tail.endswith(f) and len(tail) - len(f) >= self.min_part:
                n = self.counts.get(tail[: -len(f)])
                if n:
                    return n
        return 0

    def _best(self, word: str) -> tuple[float, tuple[str, ...]]:
        """(score, parts) of the best full decomposition of `word` into known words; (0, ()) if none."""
        cached = self._best_cache.get(word)
        if cached is not None:
            return cached
        best: tuple[float, tuple[str, ...]] = (0.0, ())
        m = self.min_part
        for i in range(m, len(word) - m + 1):
            head = self._heads.get(word[:i])
            if head is None:
                continue
            tail = word[i:]
            tail_n = self._tail(tail)
            if tail_n:
                score = (head[1] * tail_n) ** 0.5
                if score > best[0]:
                    best = (score, (head[0], tail))
            if len(tail) >= 2 * m:
                sub_score, sub = self._best(tail)
                if sub:
                    score = (head[1] * sub_score * sub_score) ** (1 / 3)
                    if score > best[0]:
                        best = (score, (head[0], *sub))
        self._best_cache[word] = best
        return best

    def split(self, word: str) -> tuple[str, ...]:
        """Parts of `word` (lowercase surface forms, Fugen elements removed), () when it is not a compound."""
        w = _spell(word.lower())
        cached = self._cache.get(w)
        if cached is not None:
            return cached
        parts: tuple[str, ...] = ()
        if len(w) >= self.min_length and w.isalpha():
            best = self._best(w)[1]
            out: list[str] = []
            for p in best:
                out.append(p)
                if len(p) >= self.min_length:
                    out.extend(self.split(p))  # parts are shorter than `w`: the recursion ends
            # known inner compounds too: "registermodernisierung" inside "registermodernisierungsgesetz"
            for i in range(len(best)):
                for j in range(i + 2, len(best) + (i > 0)):
                    joined = "".join(best[i:j])
                    if joined in self.counts:
                        out.append(joined)
            parts = tuple(dict.fromkeys(out))
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
            self._best_cache.clear()
        self._cache[w] = parts
        return parts


class Term(NamedTuple):
    """A search term: a stem, and whether it is only a part of a compound (weighted lower by callers)."""

    stem: str
    part: bool


class Analyzer:
    """Text -> search terms: lowercase, stop words out, Snowball stems, hyphen and closed compound parts.

    Results are cached per surface form, so analysing 2,000 chunks mostly costs a regex and dict lookups.

    >>> [(t.stem, t.part) for t in Analyzer().terms("Cloud-Strategie")]
    [('cloud-strategi', False), ('cloud', True), ('strategi', True)]
    """

    def __init__(self, splitter: CompoundSplitter | None = None) -> None:
        self.splitter = splitter
        self._cache: dict[str, tuple[Term, ...]] = {}

    def _closed_parts(self, word: str) -> list[str]:
        if self.splitter is None:
            return []
        return [stem(p) for p in self.splitter.split(word)]

    def _analyze(self, tok: str) -> tuple[Term, ...]:
        if tok[0] == "§":
            return (Term(tok, False), Term(tok[1:], True))
        if _NUMERIC.fullmatch(tok):
            canon = _canonical_number(tok)
            return (Term(canon, False), *(Term(p, True) for p in _SPLIT_PARTS.split(canon)))
        pieces = [p for p in _SPLIT_PARTS.split(tok) if p]
        if len(pieces) == 1:
            w = _spell(tok)
            if w in _STOP_FOLDED or (len(w) == 1 and w.isalpha()):
                return ()
            note = _FOOTNOTE.fullmatch(w)
            if note:  # a PDF's footnote mark glued to its word: "Tage4" is "Tage" (and stays "tage4" too)
                return (Term(stem(w), False), Term(stem(note.group(1)), True))
            return (Term(stem(w), False), *(Term(p, True) for p in self._closed_parts(w)))
        full = Term("-".join(stem(_spell(p)) for p in pieces), False)
        parts: list[Term] = []
        for p in pieces:
            w = _spell(p)
            if w in _STOP_FOLDED or len(w) < 2:
                continue
            parts.append(Term(stem(w), True))
            parts.extend(Term(s, True) for s in self._closed_parts(w))
        return (full, *parts)

    def analyze_word(self, token: str) -> tuple[Term, ...]:
        """Terms of one token from `words()`: () for a stop word, else the full term and its parts."""
        t = self._cache.get(token)
        if t is None:
            if len(self._cache) >= _CACHE_MAX:  # bounds a long-running app's query-side cache
                self._cache.clear()
            t = self._cache[token] = self._analyze(token) if token else ()
        return t

    def analyze_words(self, tokens: Sequence[str]) -> list[tuple[Term, ...]]:
        """`analyze_word` for many tokens, stemming the new ones in one batch (used at index build)."""
        new = [t for t in tokens if t not in self._cache]
        warm_stems(_spell(p) for t in new for p in (_SPLIT_PARTS.split(t) if len(t) > 1 else (t,)))
        return [self.analyze_word(t) for t in tokens]

    def terms(self, text: str) -> list[Term]:
        """All terms of `text` in order; each full term is followed by its compound parts."""
        out: list[Term] = []
        cache = self._cache
        for tok in words(text):
            t = cache.get(tok)
            if t is None:
                t = self.analyze_word(tok)
            out.extend(t)
        return out

    def tokenize(self, text: str, *, parts: bool = True) -> list[str]:
        """The stems of `terms(text)`, compound parts included unless `parts=False`."""
        return [t.stem for t in self.terms(text) if parts or not t.part]


_DEFAULT = Analyzer()


def tokenize(text: str, splitter: CompoundSplitter | None = None, *, parts: bool = True) -> list[str]:
    """Search terms of `text` (see Analyzer); closed compounds are split only when a splitter is given.

    >>> tokenize("Welche Beschlüsse gibt es zu Beschluss 2023-02?")
    ['beschluss', 'gibt', 'beschluss', '2023/02', '2023', '02']
    """
    analyzer = _DEFAULT if splitter is None else Analyzer(splitter)
    return analyzer.tokenize(text, parts=parts)


# ---------------------------------------------------------------------------------------------- queries

# Domain abbreviations as written, with their long form. Matching is case-insensitive.
_ABBREVIATION_TABLE: tuple[tuple[str, str], ...] = (
    ("OZG", "Onlinezugangsgesetz"),
    ("EfA", "Einer für Alle"),
    ("RegMo", "Registermodernisierung"),
    ("RegMoG", "Registermodernisierungsgesetz"),
    ("DVC", "Deutsche Verwaltungscloud"),
    ("IT-PLR", "IT-Planungsrat"),
    ("ITPLR", "IT-Planungsrat"),
    ("FITKO", "Föderale IT-Kooperation"),
    ("EGovG", "E-Government-Gesetz"),
    ("IDNrG", "Identifikationsnummerngesetz"),
    ("TR", "Technische Richtlinie"),
    ("BSI", "Bundesamt für Sicherheit in der Informationstechnik"),
    ("FIM", "Föderales Informationsmanagement"),
    ("NOOTS", "National-Once-Only-Technical-System"),
    ("BMI", "Bundesministerium des Innern"),
    ("KGSt", "Kommunale Gemeinschaftsstelle für Verwaltungsmanagement"),
    ("DStGB", "Deutscher Städte- und Gemeindebund"),
    ("NKR", "Normenkontrollrat"),
    ("DSGVO", "Datenschutz-Grundverordnung"),
    ("SDG", "Single Digital Gateway"),
    ("KI", "Künstliche Intelligenz"),
    ("GG", "Grundgesetz"),
    ("VwVfG", "Verwaltungsverfahrensgesetz"),
    ("BITV", "Barrierefreie-Informationstechnik-Verordnung"),
    ("UBRegG", "Unternehmensbasisdatenregistergesetz"),
    ("ITZBund", "Informationstechnikzentrum Bund"),
    ("DVDV", "Deutsches Verwaltungsdiensteverzeichnis"),
    ("PVOG", "Portalverbund Online-Gateway"),
)
ABBREVIATIONS: dict[str, str] = {abbr.lower(): long for abbr, long in _ABBREVIATION_TABLE}
# Groups of words a municipal reader uses interchangeably.
SYNONYMS: tuple[tuple[str, ...], ...] = (("Kommunen", "Gemeinden", "Gemeindeverbände"), ("braucht", "benötigt"),
                                         ("brauchen", "benötigen"),
                                         ("Bescheid", "Verwaltungsakt"), ("Bescheide", "Verwaltungsakte"),
                                         # a municipal office and the register it keeps
                                         ("Standesamt", "Standesämter", "Personenstandsregister",
                                          "Personenstandswesen"),
                                         ("Meldeamt", "Einwohnermeldeamt", "Meldebehörde", "Melderegister"))


@lru_cache(maxsize=512)
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Case-insensitive, allows inflection endings and space/hyphen variants: 'Deutschen Verwaltungscloud'."""
    parts = [re.escape(_spell(w)) + r"\w{0,2}" for w in re.split(r"[\s-]+", phrase.lower()) if w]
    return re.compile(r"(?<!\w)" + r"[\s-]*".join(parts) + r"(?!\w)")


def _build_expansions() -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    rules: list[tuple[re.Pattern[str], tuple[str, ...]]] = []
    first_abbr: dict[str, str] = {}
    for abbr, long in _ABBREVIATION_TABLE:
        rules.append((re.compile(r"(?<!\w)" + re.escape(abbr.lower()) + r"(?!\w)"), (long,)))
        first_abbr.setdefault(long, abbr)
    for long, abbr in first_abbr.items():
        rules.append((_phrase_pattern(long), (abbr,)))
    for group in SYNONYMS:
        for word in group:
            rules.append((_phrase_pattern(word), tuple(w for w in group if w != word)))
    return rules


_EXPANSIONS = _build_expansions()


def query_expansions(text: str) -> list[str]:
    """The other forms of the domain abbreviations and synonyms in `text` that it does not contain yet.

    >>> query_expansions("Was regelt das OZG zu EfA?"), query_expansions("OZG (Onlinezugangsgesetz)")
    (['Onlinezugangsgesetz', 'Einer für Alle'], [])
    """
    if not text.strip():
        return []
    probe = _spell(normalize(text).lower())
    added: list[str] = []
    for pattern, forms in _EXPANSIONS:
        if pattern.search(probe):
            for form in forms:
                if form not in added and not _phrase_pattern(form).search(probe):
                    added.append(form)
    return added


def expand_query(text: str) -> str:
    """`text` with `query_expansions(text)` appended in parentheses (for the dense and the keyword query).

    Idempotent: forms already present are not added again.

    >>> expand_query("Was regelt das OZG zu EfA?")
    'Was regelt das OZG zu EfA? (Onlinezugangsgesetz; Einer für Alle)'
    >>> expand_query("Was tun die Kommunen?")
    'Was tun die Kommunen? (Gemeinden; Gemeindeverbände)'
    """
    added = query_expansions(text)
    return f"{text} ({'; '.join(added)})" if added else text


def split_expansion(query: str) -> tuple[str, list[str]]:
    """Inverse of `expand_query`: (original text, added forms); ([], unchanged) for any other text.

    >>> split_expansion(expand_query("OZG")), split_expansion("OZG")
    (('OZG', ['Onlinezugangsgesetz']), ('OZG', []))
    """
    m = _EXPANDED.fullmatch(query)
    if m and expand_query(m.group(1)) == query:
        return m.group(1), m.group(2).split("; ")
    return query, []


_EXPANDED = re.compile(r"(.*) \(([^()]*)\)", re.S)
