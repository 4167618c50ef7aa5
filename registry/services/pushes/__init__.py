"""Pushes over git: a pack and ref updates, accepted only through the registry's commit rules.

A push is checked as a whole before anything becomes visible:

- who may move which ref (branches and tags: writers; ``refs/pr/N``: the pull request's author
  and writers, while it is open) — decided before the pack is read;
- every object the new commits need is in the pack or already in this repository (a tree or file
  of another repository cannot be borrowed by naming its id); trees are canonical, paths pass
  ``registry.git.paths``, no symlinks or submodules;
- files the Hub stores as LFS (``lfs_required``: size or ``.gitattributes``) arrive as LFS
  pointers, and every pointer names an object this repository holds — uploaded through the LFS
  batch API before the pack, as git-lfs does — else the push is refused with the missing list;
- ``README.md`` metadata at each new tip is valid;
- refs move fast-forward only, from the value the client saw (``rules.ref_update_check``).

Lock order: none. Blobs and trees are written before any transaction (content-addressed,
idempotent, invisible until a commit names them); each ref then moves in a transaction of its
own — one for all refs when the client asks for an atomic push — by compare-and-swap against the
value the client saw, so a push racing an API commit either wins or is refused with nothing
changed.

Modules: ``rules`` (the ref updates a push asks for, who may move which ref and how),
``pack`` (receiving the pack), ``checks`` (the push checked whole) and ``receive``
(:func:`~registry.services.pushes.receive.push_receive`, the entry point).
"""
