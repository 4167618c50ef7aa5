"""The rate limits of inference and the arena, in one place (so the shared throttling can replace
them in one edit): per authenticated user and per client IP, rates from settings."""

from __future__ import annotations

from django.conf import settings

from common.throttling import IpRateThrottle, UserRateThrottle


class InferenceUserThrottle(UserRateThrottle):
    scope = "inference_user"

    def get_rate(self):
        return settings.HUB_INFERENCE_THROTTLE_USER


class InferenceIpThrottle(IpRateThrottle):
    scope = "inference_ip"

    def get_rate(self):
        return settings.HUB_INFERENCE_THROTTLE_IP


INFERENCE_THROTTLES = [InferenceUserThrottle, InferenceIpThrottle]
