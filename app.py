"""Beschlusslage web app: `python app.py` (settings from RAG_* environment variables).

A thin shell: the UI is built from ui/ helpers over rag.assistant.Assistant, served with safe defaults
(127.0.0.1:7860 unless GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise). See ui/server.py.
"""

from __future__ import annotations

import logging
import sys

# isort: off
import rag  # noqa: F401  (offline environment and analytics off before gradio is imported)
import gradio as gr

# isort: on
from rag.errors import RagError
from rag.settings import Settings
from ui.blocks import build_blocks
from ui.server import serve
from ui.service import AppService


def build_app(settings: Settings, service: AppService | None = None) -> gr.Blocks:
    """The Gradio Blocks of the app (tests may pass a service with a fake assistant)."""
    return build_blocks(settings, service)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        service = AppService(settings)
        blocks = build_app(settings, service)
        serve(settings, blocks, service)
    except RagError as exc:
        logging.getLogger("app").error("Start nicht möglich: %s", exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
