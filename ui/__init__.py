"""The Gradio shell's helpers: HTML of source cards and sessions, feedback store, admin actions, routes.

Everything here is presentation or plumbing around `rag.assistant.Assistant` and `ingest.pipeline.ingest`;
no retrieval logic lives in `ui/` (filters are passed through to the assistant as a dict).
"""
