"""Reference tables the tool ships and the generator of demo data (generated people only)."""
