"""Helpers shared by test modules: builders, clients and process starters (no fixtures here)."""
