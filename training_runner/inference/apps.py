from django.apps import AppConfig


class InferenceConfig(AppConfig):
    """Playgrounds, the inference and OpenAI-compatible APIs, and the arena (the engine itself is
    the pure ``training_runner.engine``)."""

    name = "training_runner.inference"
    label = "inference"
    default_auto_field = "django.db.models.BigAutoField"
