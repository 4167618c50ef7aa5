"""The Xet storage protocol, server side, in pure Python (no Django, no database).

Modules:

* ``hashing`` — chunk, Merkle (xorb/file) and verification hashes; the word-swapped text form.
* ``xorb`` — stream-parse and verify uploaded xorbs; decode stored chunk records.
* ``shard`` — parse, build and verify shards against the server's xorb index.
* ``reconstruction`` — the ``/v1/reconstructions`` answer; stream a file's content server-side.
* ``protocol`` — token answer (headers + JSON) and protocol constants.
* ``types`` — the index records (``ChunkEntry``, ``FileTerm``) and their compact encodings.
* ``errors`` — typed errors, one class per failure a client can cause.
"""
