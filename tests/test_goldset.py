"""The question sets over the shared corpus (eval/sets/dev.jsonl, test.jsonl, blind.jsonl, dev2.jsonl, dev3.jsonl,
test2.jsonl): schema,
distribution, and facts grounded in the corpus. These are validity checks run by code over every item; they
print nothing about an item unless it is broken.

Schema checks always run. The grounding checks need the shared corpus (../shared/corpus) and are
skipped with a reason when it is absent: every source file must exist, PDF sources must name a valid
page, and every fact must occur verbatim in at least one of the item's sources (case-insensitive,
whitespace collapsed, soft hyphens removed; for a PDF in the pypdf text of that page, where a
line-end hyphen "-\\n" may also be joined).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

SETS = Path(__file__).resolve().parents[1] / "eval" / "sets"
# the former gold set, split once into dev and test (eval/sets/split_gold.py), the blind set, the second
# and third tuning sets (written like the blind set, paraphrases of held-out questions dropped by
# eval/sets/dedup.py), and the second held-out set test2 (written the same way after the tuning, paraphrases of
# tuning questions dropped by eval/sets/dedup.py --held-out-new)
GROUPS = {"gold": ("dev", "test"), "blind": ("blind",), "dev2": ("dev2",), "dev3": ("dev3",), "dev4": ("dev4",), "test2": ("test2",)}
LATER_TUNING = ("dev2", "dev3", "dev4")
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

KEYS = {"id", "question", "answer", "facts", "sources", "answerable", "kind", "history"}
KINDS = {"lookup", "temporal", "law", "pdf", "synthesis", "followup", "unanswerable"}
MIN_ITEMS = {"gold": 120, "blind": 120, "dev2": 100, "dev3": 100, "dev4": 100, "test2": 100}
MIN_UNANSWERABLE_SHARE = 0.15
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_WS = re.compile(r"\s+")
_HYPHEN_BREAK = re.compile(r"-[ \t]*\n[ \t]*")


def _load(name: str) -> list[dict[str, Any]]:
    lines = (SETS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


BY_GROUP = {group: [item for name in names for item in _load(name)] for group, names in GROUPS.items()}
ITEMS = [item for items in BY_GROUP.values() for item in items]
ANSWERABLE = [item for item in ITEMS if item.get("answerable") is True]


def normalize(text: str) -> str:
    """Lowercase, NFC, soft hyphens dropped, whitespace collapsed to single spaces."""
    text = unicodedata.normalize("NFC", text).replace("\u00ad", "")
    return _WS.sub(" ", text).strip().lower()


def readings(text: str) -> tuple[str, ...]:
    """The normalised text, plus pypdf line-end hyphens joined without and with the hyphen."""
    return normalize(text), normalize(_HYPHEN_BREAK.sub("", text)), normalize(_HYPHEN_BREAK.sub("-", text))


@pytest.mark.parametrize(
    ("text", "fact", "found"),
    [
        ("Der  IT-Planungsrat\nstimmt zu", "it-planungsrat stimmt", True),
        ("Kommunal\u00adpakt", "Kommunalpakt", True),
        ("Onlinezu-\ngangsgesetz", "Onlinezugangsgesetz", True),
        ("IT-\nKomponenten", "IT-Komponenten", True),
        ("40. Sitzung", "41. Sitzung", False),
        ("", "x", False),
    ],
)
def test_normalisation(text: str, fact: str, found: bool) -> None:
    assert (normalize(fact) in " ".join(readings(text))) is found


# ---------------------------------------------------------------- schema (no corpus needed)


def test_gold_file_has_enough_items() -> None:
    for group, items in BY_GROUP.items():
        assert len(items) >= MIN_ITEMS[group], f"only {len(items)} {group} items"


def _is_fact(fact: Any) -> bool:
    """A fact is a non-empty string, or a non-empty list of acceptable alternative spellings."""
    if isinstance(fact, list):
        return bool(fact) and all(isinstance(f, str) and f.strip() for f in fact)
    return isinstance(fact, str) and bool(fact.strip())


def _alternatives(fact: str | list[str]) -> list[str]:
    return fact if isinstance(fact, list) else [fact]


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: str(item.get("id")))
def test_item_schema(item: dict[str, Any]) -> None:
    assert set(item) == KEYS, f"keys differ: {sorted(set(item) ^ KEYS)}"
    assert isinstance(item["id"], str) and _ID.match(item["id"]), item["id"]
    assert isinstance(item["question"], str) and item["question"].strip()
    assert isinstance(item["answer"], str) and item["answer"].strip()
    assert item["kind"] in KINDS
    assert isinstance(item["answerable"], bool)
    assert isinstance(item["history"], list) and all(
        isinstance(h, str) and h.strip() for h in item["history"]
    )
    assert isinstance(item["facts"], list) and all(_is_fact(f) for f in item["facts"])
    assert isinstance(item["sources"], list)
    for source in item["sources"]:
        assert isinstance(source, dict) and set(source) == {"file", "page"}, source
        assert isinstance(source["file"], str) and source["file"] and not source["file"].startswith("/")
        if source["file"].lower().endswith(".pdf"):
            assert isinstance(source["page"], int) and source["page"] >= 1, source
        else:
            assert source["page"] is None, source
    assert len({(s["file"], s["page"]) for s in item["sources"]}) == len(item["sources"]), "duplicate source"


def test_ids_unique() -> None:
    duplicates = [i for i, n in Counter(item["id"] for item in ITEMS).items() if n > 1]
    assert not duplicates


# dev4 asks for details only, half of them not in the documents: no follow-ups, no synthesis
FOCUSED = {"dev4": KINDS - {"followup", "synthesis"}}


def test_all_kinds_covered() -> None:
    for group, items in BY_GROUP.items():
        assert {item["kind"] for item in items} == FOCUSED.get(group, KINDS), group


def test_enough_unanswerable() -> None:
    for group, items in BY_GROUP.items():
        share = sum(not item["answerable"] for item in items) / len(items)
        assert share >= MIN_UNANSWERABLE_SHARE, f"{group}: unanswerable share {share:.1%}"


def test_split_is_stratified_by_kind() -> None:
    """dev holds about 60 % of each kind of the former gold set, test the rest (eval/sets/split_gold.py)."""
    dev, test = Counter(i["kind"] for i in _load("dev")), Counter(i["kind"] for i in _load("test"))
    for kind in KINDS:
        assert abs(dev[kind] - 0.6 * (dev[kind] + test[kind])) <= 1, kind


@pytest.mark.parametrize("name", LATER_TUNING)
def test_tuning_set_holds_no_paraphrase_of_a_held_out_question(name: str) -> None:
    """dev2 and dev3 are tuned on; a near copy of a test, blind or test2 question there would leak into their
    figures (only tuning ids are named on failure)."""
    from helpers import load_script

    _kept, dropped = load_script("eval/sets/dedup.py").split(_load(name), _load("test") + _load("blind") + _load("test2"))
    assert not dropped, [d["id"] for d in dropped]


def test_second_test_set_holds_no_paraphrase_of_a_tuning_question() -> None:
    """test2 was written after the tuning sets; an item close to a tuning question would carry the tuning into
    a held-out figure (eval/sets/dedup.py --held-out-new dropped those; only a count is shown on failure)."""
    from helpers import load_script

    tuning = _load("dev") + _load("dev2") + _load("dev3") + _load("dev4")
    _kept, dropped = load_script("eval/sets/dedup.py").split(_load("test2"), tuning)
    assert not dropped, f"{len(dropped)} test2 items paraphrase a tuning question"


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: str(item["id"]))
def test_kind_rules(item: dict[str, Any]) -> None:
    if item["kind"] == "followup":
        assert 1 <= len(item["history"]) <= 2, "a follow-up needs 1-2 earlier questions"
    else:
        assert item["history"] == [], "only follow-ups carry a history"
    if item["kind"] == "unanswerable":
        assert item["answerable"] is False
    if item["answerable"]:
        assert item["sources"], "answerable item without a source"
        assert 1 <= len(item["facts"]) <= 4, f"{len(item['facts'])} facts"
    else:
        assert item["kind"] == "unanswerable"
        assert item["facts"] == [] and item["sources"] == []
    if item["kind"] == "pdf":
        assert any(s["file"].lower().endswith(".pdf") for s in item["sources"])


# ---------------------------------------------------------------- grounding (needs ../shared/corpus)


@pytest.fixture(scope="module")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"needs the shared corpus at {CORPUS} (gold facts are checked against it)")
    return CORPUS


@cache
def _pdf_pages(path: Path) -> tuple[str, ...]:
    import pypdf

    return tuple(page.extract_text() or "" for page in pypdf.PdfReader(str(path)).pages)


@cache
def _source_readings(path: Path, page: int | None) -> tuple[str, ...]:
    if page is None:
        return readings(path.read_text(encoding="utf-8"))
    return readings(_pdf_pages(path)[page - 1])


@pytest.mark.shared
@pytest.mark.parametrize("item", ANSWERABLE, ids=lambda item: str(item["id"]))
def test_sources_exist(item: dict[str, Any], corpus: Path) -> None:
    for source in item["sources"]:
        path = corpus / source["file"]
        assert path.is_file(), f"missing source {source['file']}"
        if path.suffix.lower() == ".pdf":
            assert 1 <= source["page"] <= len(_pdf_pages(path)), (
                f"{source['file']} has no page {source['page']}"
            )


@pytest.mark.shared
@pytest.mark.parametrize("item", ANSWERABLE, ids=lambda item: str(item["id"]))
def test_facts_in_sources(item: dict[str, Any], corpus: Path) -> None:
    texts = [
        _source_readings(corpus / s["file"], s["page"])
        for s in item["sources"]
        if (corpus / s["file"]).is_file()
        and (s["page"] is None or 1 <= s["page"] <= len(_pdf_pages(corpus / s["file"])))
    ]
    missing = [
        f for f in item["facts"] if not any(normalize(a) in r for a in _alternatives(f) for t in texts for r in t)
    ]
    assert not missing, f"facts not found verbatim in any source: {missing}"
