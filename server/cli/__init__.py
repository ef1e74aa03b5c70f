"""The commands behind ``python -m server``."""
