"""Evaluation of the assistant: gold questions -> rag/ -> pure metrics -> report + quality gate.

Run `python -m eval --help`. Nothing in the product imports this package.
"""
