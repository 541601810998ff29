"""The default (extractive) answerer, as a small package, each module one concept:

- `question`: a question analysed once into a frozen `Question` (terms, parts, `AnswerType`, intents,
  period, references, what it asks);
- `answer_types`: what kind of statement answers a question, and whether a sentence holds one;
- `statements`, `lists`: what a quotable statement is, and the lists of a passage;
- `features`: candidate sentences with NAMED features, scored by a name -> weight mapping;
- `evidence`: the refusal gates, each returning a `Verdict` with its reason;
- `selection` (strategies), `refiners` and `quoting`: registered steps, switchable off by name;
- `compose`: lead-ins, statements, notes and citations (`make_citation`: the one place a citation is built);
- `trace`: the `AnswerTrace` returned beside the answer as `Answer.trace`;
- `answerer`: `ExtractiveAnswerer`, which runs them in order.
"""

from rag.answering.answer_types import AnswerType, answer_type, answer_type_missing, has_answer_type
from rag.answering.answerer import REFINERS, ExtractiveAnswerer, registry_names
from rag.answering.compose import REFUSAL, compose, german_date, lead_in, make_citation, refusal
from rag.answering.config import AnswerConfig
from rag.answering.evidence import GATES, missing_specifics, other_session
from rag.answering.features import FEATURES, Following, Scored, SentenceSims
from rag.answering.question import Question, question_parts
from rag.answering.selection import STRATEGIES
from rag.answering.trace import AnswerTrace, Verdict

__all__ = [
    "FEATURES", "GATES", "REFINERS", "REFUSAL", "STRATEGIES", "AnswerConfig", "AnswerTrace", "AnswerType",
    "ExtractiveAnswerer", "Following", "Question", "Scored", "SentenceSims", "Verdict", "answer_type",
    "answer_type_missing", "compose", "german_date", "has_answer_type", "lead_in", "make_citation",
    "missing_specifics", "other_session", "question_parts", "refusal", "registry_names",
]
