"""Reads of the registry, split by subdomain."""
