"""Homeroom: a self-hosted, real-time home–school community server."""

__version__ = "0.1.0"
