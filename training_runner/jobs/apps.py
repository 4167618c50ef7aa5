from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Training and evaluation runs on the ``gpu`` queue, their metrics, logs and results."""

    name = "training_runner.jobs"
    label = "jobs"
    verbose_name = "Runs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from common.metrics import scrape_collector
        from training_runner.jobs.metrics import RunStates

        scrape_collector(RunStates())
