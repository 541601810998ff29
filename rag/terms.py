"""Search terms of German administrative prose: Snowball stems (umlaut-free), canonical numbers and
references, compounds split into known parts. Pure functions and small cached classes; they run on every
query and over every chunk at ingest.

>>> tokenize("Die Beschlüsse des IT-Planungsrats zur Verwaltungscloud")
['beschluss', 'it-planungsrat', 'it', 'planungsrat', 'verwaltungscloud']
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import Stemmer

from rag.lexicon import STOPWORDS

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


def spell(word: str) -> str:
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


_STOP_FOLDED = frozenset(spell(w) for w in STOPWORDS)


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
                w = spell(part)
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
        w = spell(word.lower())
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
            w = spell(tok)
            if w in _STOP_FOLDED or (len(w) == 1 and w.isalpha()):
                return ()
            note = _FOOTNOTE.fullmatch(w)
            if note:  # a PDF's footnote mark glued to its word: "Tage4" is "Tage" (and stays "tage4" too)
                return (Term(stem(w), False), Term(stem(note.group(1)), True))
            return (Term(stem(w), False), *(Term(p, True) for p in self._closed_parts(w)))
        full = Term("-".join(stem(spell(p)) for p in pieces), False)
        parts: list[Term] = []
        for p in pieces:
            w = spell(p)
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
        warm_stems(spell(p) for t in new for p in (_SPLIT_PARTS.split(t) if len(t) > 1 else (t,)))
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


