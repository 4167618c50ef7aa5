"""The HF-compatible API of discussions, pull requests and commits (``/api/{type}s/{repo}/...``)."""
