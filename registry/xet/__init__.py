"""The Xet storage protocol, server side, in pure Python (no Django, no database) — except ``store``.

Modules:

* ``hashing`` — chunk, Merkle (xorb/file) and verification hashes; the word-swapped text form.
* ``xorb`` — stream-parse and verify uploaded xorbs; decode stored chunk records.
* ``shard`` — parse, build and verify shards against the server's xorb index.
* ``reconstruction`` — the ``/v1/reconstructions`` answer; stream a file's content server-side.
* ``protocol`` — token answer (headers + JSON) and protocol constants.
* ``types`` — the index records (``ChunkEntry``, ``FileTerm``) and their compact encodings.
* ``errors`` — typed errors, one class per failure a client can cause.
* ``store`` — the Django side: xorb objects in the ``blobs`` storage (spool, save, ranges, URLs).

The index, intake and reconstruction services are ``registry.services.xet``; the endpoints
``registry.hf.xet``.
"""
