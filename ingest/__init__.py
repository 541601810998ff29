"""Ingest: files -> pages -> chunks -> index versions (see docs/CONTRACTS.md)."""
