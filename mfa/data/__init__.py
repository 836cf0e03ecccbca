"""Data layer: parameter tables, registry, model dimensions and scenarios (imports only core)."""
