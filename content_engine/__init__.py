"""content-engine: assemble personalized documents from reusable content components."""
