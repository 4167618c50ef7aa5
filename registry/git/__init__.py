"""Git object formats, computed exactly as git computes them (pure functions, no database)."""
