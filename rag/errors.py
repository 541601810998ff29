"""The project's named errors. Only the CLIs and app.py turn them into exit codes and German messages."""


class RagError(Exception):
    """Base class of every error the product raises on purpose."""


class ConfigError(RagError):
    """A setting is unknown or has an invalid value."""


class IndexMissingError(RagError):
    """No index version has been built yet in the data dir."""


class ModelMismatchError(RagError):
    """The index was built with another embedding model than the one configured."""


class IngestLockedError(RagError):
    """Another ingest holds the lock on this data dir."""


class LoaderError(RagError):
    """A file could not be turned into pages. `reason` is one short English keyword."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class VerificationError(RagError):
    """A freshly built index version failed its checks and was not switched live."""


class LLMError(RagError):
    """The optional LLM back-end failed or answered unusably."""


class VersionDroppedError(RagError):
    """An index version's vectors were removed while a reader still held it (a newer version is live)."""


class VectorsMissingError(RagError):
    """A complete index version's vectors are not in its store (a reset Chroma server, another RAG_CHROMA_URL)."""
