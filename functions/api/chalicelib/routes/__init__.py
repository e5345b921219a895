"""One blueprint per area. Routes are thin: validated input → one use case → the answer."""
