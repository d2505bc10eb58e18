"""resviz's headless core: models, data, training, runs, attribution.

Never imports Qt (enforced by an import-linter contract and tests/core/test_boundary.py),
so everything here runs in the app's worker threads, the CLI, and under torchrun alike.
"""
