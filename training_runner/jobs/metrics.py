"""``hub_runs{state}`` on /metrics: how many runs are in each state, counted at each scrape."""

from __future__ import annotations

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from training_runner.jobs.choices import RunState


class RunStates:
    def collect(self):
        from training_runner.jobs.models import Run

        counts = dict(Run.objects.values_list("state").annotate(n=Count("id")).order_by())
        family = GaugeMetricFamily("hub_runs", "Runs by state", labels=["state"])
        for state in RunState:
            family.add_metric([state.value], counts.get(state.value, 0))
        yield family
