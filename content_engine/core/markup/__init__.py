"""Body markup: the XHTML subset editors write, parsed, checked and sanitized."""
