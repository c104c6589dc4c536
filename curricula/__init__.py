"""Curricula as data: the model, the TOML loader and the shipped standards."""
