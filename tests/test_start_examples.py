"""The start page's example questions, asked over the bundled corpus (`make run`'s index) with the real
embedder: each is answered, none repeats a statement, and the financing example quotes the cost key
(issue 18: it used to be answered with the Marketplace obligation under a confident lead-in)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_answer_snapshot import _index

from rag.assistant import Assistant
from rag.settings import Settings
from ui.blocks import EXAMPLES


@pytest.fixture(scope="module")
def assistant(own_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    data_dir = _index(own_corpus, tmp_path_factory.mktemp("own"))
    return Assistant(Settings(data_dir=data_dir, embedding_cache=data_dir / "embeddings.sqlite"), use_llm=False)


def statements(text: str) -> list[str]:
    """The answer's statements, each without its [n] and lead-in."""
    parts = re.split(r"\s*\[\d+\]\s*", text.split("\n\nHinweis:")[0])
    return [" ".join(p.split(": ", 1)[-1].split()) for p in parts if len(p.split()) >= 4]


@pytest.mark.slow
@pytest.mark.parametrize("question", EXAMPLES)
def test_a_start_example_is_answered_without_repeating_itself(assistant: Assistant, question: str) -> None:
    ans = assistant.ask(question)
    assert not ans.refused and ans.citations
    said = statements(ans.text)
    for i, s in enumerate(said):
        assert not any(s in t for j, t in enumerate(said) if j != i), f"repeated: {s!r} in {ans.text!r}"


@pytest.mark.slow
def test_the_financing_example_quotes_the_cost_key(assistant: Assistant) -> None:
    ans = assistant.ask("Wie wird die Nachnutzung von EfA-Leistungen ab 2024 finanziert?")
    assert "Königsteiner Schlüssel" in ans.text and "50 Prozent" in ans.text
    assert "Königsteiner Schlüssel" in ans.citations[0].text  # the first source is the one with the key


@pytest.mark.slow
@pytest.mark.parametrize("question", ["Was heißt EfA?", "was heisst efa"])
def test_an_abbreviation_is_spelt_out_from_the_bundled_pdf(assistant: Assistant, question: str) -> None:
    """The bundled Handreichung defines EfA in its first sentence, which pypdf joins with the source line and
    the heading before it; the answer quotes it, and never the summary's label or its source line."""
    ans = assistant.ask(question)
    assert not ans.refused and "„Einer für Alle“ (EfA) heißt" in ans.text, ans.text
    assert "kein amtlicher Text" not in ans.text and "Amtliche Quelle" not in ans.text
