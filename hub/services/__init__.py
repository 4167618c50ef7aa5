"""Services of the hub app (writes), split by subdomain."""
