"""Django REST Framework and the OpenAPI schema."""

from config.env import env

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hub.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Token scopes are enforced for every face by hub.scopes.TokenScopeMiddleware.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.StrictJSONParser",
        "common.parsers.BoundedFormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "common.openapi.HubAutoSchema",
    "EXCEPTION_HANDLER": "common.drf_errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "common.throttling.UserRateThrottle",
        "common.throttling.IpRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", "5000/hour"),
        "ip": env.str("API_THROTTLE_IP", "1000/hour"),
    },
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "LLM Hub API",
    "DESCRIPTION": "REST API of the hub: accounts, organizations, tokens and repositories. Errors answer "
    "in one shape, the Error component. Lists are paginated with page and page_size.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI comes from the drf-spectacular-sidecar package as static files of the hub, so the
    # docs work offline and under the pages' Content-Security-Policy (scripts from the hub only).
    "ENUM_NAME_OVERRIDES": {
        "OrgRoleEnum": "hub.choices.OrgRole",
        "TokenRoleEnum": "hub.choices.TokenRole",
        "RunStateEnum": "training_runner.jobs.choices.RunState",
        "EntryStateEnum": "evals.leaderboards.choices.EntryState",
        "ReviewStateEnum": "community.choices.ReviewState",
        "ReviewVerdictEnum": "community.choices.ReviewVerdict",
        "CheckStateEnum": "community.choices.CheckState",
        "RunKindEnum": "training_runner.jobs.choices.RunKind",
        "ModerationTargetKindEnum": "community.moderation.choices.TargetKind",
        "ModerationReasonEnum": "community.moderation.choices.Reason",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
