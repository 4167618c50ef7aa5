"""Services of the registry (writes), split by subdomain."""
