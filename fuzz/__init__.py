"""Fuzz targets: one module per target, sharing ``fuzz._harness``; see ``fuzz/README.md``."""
