"""Bodies as templates: compiled once, run sandboxed within size and time bounds."""
