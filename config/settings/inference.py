"""The inference engine, the playgrounds, the inference APIs and the arena."""

from config.env import env
from config.settings.base import DATA_DIR

# Where the web process reaches the engine process (``manage.py inference_engine``).
HUB_INFERENCE_ENGINE_URL = env.url("HUB_INFERENCE_ENGINE_URL", "http://127.0.0.1:8001", schemes=("http",))
# Loaded models are evicted, least recently used first, to stay under this many MiB.
HUB_INFERENCE_MEMORY_MB = env.int("HUB_INFERENCE_MEMORY_MB", 2048, minimum=16)
# Generations the engine runs at once; more wait up to HUB_INFERENCE_QUEUE_SECONDS, then get a 503.
HUB_INFERENCE_CONCURRENCY = env.int("HUB_INFERENCE_CONCURRENCY", 2, minimum=1)
HUB_INFERENCE_QUEUE_SECONDS = env.int("HUB_INFERENCE_QUEUE_SECONDS", 30, minimum=1)
# PyTorch threads of the engine process (0: PyTorch's default, one per core).
HUB_INFERENCE_THREADS = env.int("HUB_INFERENCE_THREADS", 0, minimum=0)
# Snapshots of the served models (repo@sha) are written here.
HUB_INFERENCE_CACHE_DIR = env.path("HUB_INFERENCE_CACHE_DIR", DATA_DIR / "inference")
# The Gradio playgrounds under /playground/: served by a process of their own (the Procfile's
# ``playground``, ``manage.py playground_server``: Gradio's queues live in its memory), which the web
# processes pass /playground/ requests to (config/asgi.py) unless a proxy sends them there first.
HUB_PLAYGROUNDS = env.bool("HUB_PLAYGROUNDS", True)
# Where the web processes reach the playground process; keep its port private (it serves nothing
# but the playgrounds, and trusts the Host and forwarding headers it is given).
HUB_PLAYGROUND_URL = env.url("HUB_PLAYGROUND_URL", "http://127.0.0.1:8002", schemes=("http",))
# Inference and arena requests per user and per client IP (DRF rate strings).
HUB_INFERENCE_THROTTLE_USER = env.str("HUB_INFERENCE_THROTTLE_USER", "600/hour")
HUB_INFERENCE_THROTTLE_IP = env.str("HUB_INFERENCE_THROTTLE_IP", "300/hour")
# Votes of one user on one pair of models that move the ratings; later ones are logged only.
HUB_ARENA_PAIR_VOTE_CAP = env.int("HUB_ARENA_PAIR_VOTE_CAP", 3, minimum=1)
# Bootstrap rounds of the arena ratings' intervals.
HUB_ARENA_BOOTSTRAP_ROUNDS = env.int("HUB_ARENA_BOOTSTRAP_ROUNDS", 500, minimum=20)
