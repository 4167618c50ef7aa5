"""The inference engine: loads transformers-layout model directories through the training core and
serves generation, fill-mask, classification and embeddings over a small HTTP protocol.

Pure PyTorch and the standard library: it never imports Django. Which directory a model reference
names is decided by a ``resolve`` callback the launcher passes in (the hub's passes one that
materialises ``repo@sha`` from its storage, ``inference/engine.py``).

- ``errors.py``: what a request can get wrong, with its HTTP status and code;
- ``params.py``: validated request parameters (the one place their limits live);
- ``loaded.py``: a loaded model, its tokenizer and what it can do;
- ``text.py``: streaming generation with stop strings, beam search, fill-mask, classification,
  embeddings and similarity;
- ``cache.py``: the least-recently-used set of loaded models under a memory cap;
- ``server.py``: the HTTP server (NDJSON streams) and ``client.py`` the one client.
"""
