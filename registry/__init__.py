"""Repositories, their git-compatible history, blob storage, cards, search and the HF-compatible API."""
