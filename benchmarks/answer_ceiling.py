"""How far can the extractive answerer get on a gold set? Measures, in one run over one built index, the
answer's fact recall next to upper bounds that no answerer of this design can beat:

- `answer`: what `Assistant.ask` says (as `python -m eval` scores it).
- `oracle 4 of top 5`: the best at most 4 of the very candidate sentences the answerer scores (top-5
  passages, same filters and list folding), picked greedily by the gold facts they hold. Needs the gold
  facts, so only a perfect reader reaches it.
- `oracle 8 of top 5`: the same with 8 statements, twice the issue's limit.
- `+ whole 1st source`: the answer plus the entire page (PDF) or document its first citation comes from,
  i.e. quoting everything the best source says.
- `+ all cited passages`: the answer plus the full text of every passage it cites.
- `answer, 8 statements`: the real answerer allowed 8 instead of 4 statements (AnswerConfig.max_sentences).
- `oracle main source`: the real strategy and refiners, run once with each source (file, page) of the top
  passages as the main source; the best of these answers by the gold facts. The gap to `answer` is what a
  perfect choice of the source to quote would add, all else unchanged.

    python benchmarks/answer_ceiling.py DATA_DIR eval/sets/dev.jsonl

Prints a Markdown table; never fails (a measurement, not a test).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path

import rag  # noqa: F401  (offline environment first)
from eval.gold import GoldItem, load_gold
from eval.metrics import fact_found, fact_recall, mean
from rag.answering import AnswerConfig, ExtractiveAnswerer
from rag.assistant import Assistant, following, sentence_sims
from rag.followup import standalone_query
from rag.grounding import analyse_query
from rag.settings import Settings


def oracle(texts: Sequence[str], item: GoldItem, k: int) -> float:
    """Fact recall of the best k of `texts`, chosen greedily by the gold facts each adds."""
    found: set[int] = set()
    holds = [{i for i, f in enumerate(item.facts) if fact_found(t, f)} for t in texts]
    for _ in range(k):
        best = max(holds, key=lambda h: len(h - found), default=set())
        if not best - found:
            break
        found |= best
    return len(found) / len(item.facts)


def main_source_oracle(assistant: Assistant, item: GoldItem) -> float:
    """Fact recall of the best answer the real strategy and refiners give with each retrieved source as the
    main one (the gates are not re-run: an answered question stays answered)."""
    prep = assistant.prepare(item.question, item.history, item.filters)
    answers = assistant.answerer(prep).answers_by_source(prep.question, prep.passages)
    return max((fact_recall(a.text, item.facts).value for a in answers.values()), default=0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("questions", type=Path)
    args = ap.parse_args()
    settings = Settings.from_env(data_dir=args.data_dir)
    assistant = Assistant(settings, use_llm=False)
    longer = Assistant(settings, answering=dataclasses.replace(AnswerConfig(), max_sentences=8), use_llm=False)
    snap = assistant.snapshot()
    retriever = assistant._retriever_for(snap)
    rows: dict[str, list[float]] = {k: [] for k in ("answer", "oracle 4 of top 5", "oracle 8 of top 5",
                                                    "+ whole 1st source", "+ all cited passages",
                                                    "answer, 8 statements", "oracle main source")}
    items = [it for it in load_gold(args.questions) if it.answerable and it.facts]
    for it in items:
        ans = assistant.ask(it.question, history=it.history, filters=it.filters)
        rows["answer"].append(fact_recall(ans.text, it.facts).value)
        long_ans = longer.ask(it.question, history=it.history, filters=it.filters)
        rows["answer, 8 statements"].append(fact_recall(long_ans.text, it.facts).value)
        query = standalone_query(it.question, it.history)
        qterms = analyse_query(query, snap.bm25)
        qvec = retriever.query_vector(query, qterms)
        passages = retriever.retrieve(query, k=settings.top_k, filters=it.filters, qvec=qvec, qterms=qterms)
        answerer = ExtractiveAnswerer(snap.bm25.tokenize, AnswerConfig(), sentence_sims(snap, qvec), following(snap))
        cands = [x.text for x in answerer.sentence_features(qterms, passages, query)]
        rows["oracle 4 of top 5"].append(oracle(cands, it, 4))
        rows["oracle 8 of top 5"].append(oracle(cands, it, 8))
        if ans.refused or not ans.citations:
            rows["oracle main source"].append(rows["answer"][-1])
            rows["+ whole 1st source"].append(rows["answer"][-1])
            rows["+ all cited passages"].append(rows["answer"][-1])
            continue
        rows["oracle main source"].append(max(rows["answer"][-1], main_source_oracle(assistant, it)))
        first = ans.citations[0]
        whole = " ".join(c.text for c in snap.chunks if c.source == first.file and (first.page is None or c.page == first.page))
        rows["+ whole 1st source"].append(fact_recall(ans.text + "\n" + whole, it.facts).value)
        cited = "\n".join(c.text for c in ans.citations)
        rows["+ all cited passages"].append(fact_recall(ans.text + "\n" + cited, it.facts).value)
    print(f"Fact recall over {len(items)} answerable items of {args.questions} (index {args.data_dir}):\n")
    print("| what | fact recall |\n|---|---|")
    for name, values in rows.items():
        print(f"| {name} | {mean(values):.3f} |")


if __name__ == "__main__":
    main()
