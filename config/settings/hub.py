"""Settings of the hub's own features."""

from config.env import env

HUB_SITE_NAME = env.str("HUB_SITE_NAME", "LLM Hub")
# Upper bound of API tokens a user may hold at once.
HUB_MAX_TOKENS_PER_USER = env.int("HUB_MAX_TOKENS_PER_USER", 100, minimum=1)
