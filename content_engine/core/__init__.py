"""The pure core: models in, models out; no I/O and no adapter (see README.md beside this file)."""
