"""Shared test helpers: tiny models (tiny_model.py) and server processes (servers.py)."""
