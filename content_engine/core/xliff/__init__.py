"""Translation exchange: bodies as XLIFF segments and back, and pseudo-localisation (pure)."""
