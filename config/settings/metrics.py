"""Prometheus metrics at ``/metrics`` (common/metrics.py) and who may read them.

``PROMETHEUS_MULTIPROC_DIR`` (read by prometheus-client itself): a folder every web process and
worker of one machine writes its values to, so a scrape sums them; ``make serve`` and ``make run``
set it and empty it at start. Unset, each process reports its own.
"""

import ipaddress

from django.core.exceptions import ImproperlyConfigured

from config.env import env

# A secret a scraper sends as ``Authorization: Bearer <token>`` from any address; empty: none.
HUB_METRICS_TOKEN = env.str("HUB_METRICS_TOKEN", "")
# Client addresses (CIDR, comma-separated) that may read /metrics without the token.
HUB_METRICS_ALLOWED_NETWORKS = env.list("HUB_METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"])
for _network in HUB_METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network)
    except ValueError:
        raise ImproperlyConfigured(
            f"HUB_METRICS_ALLOWED_NETWORKS: {_network!r} is not a network such as 10.0.0.0/8"
        ) from None
