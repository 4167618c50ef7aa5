"""Shared test helpers: factories, live-server clients, subprocess workers."""
