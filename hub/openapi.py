"""How the API's bearer tokens appear in the OpenAPI schema (loaded by ``HubConfig.ready``)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "hub.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (Settings → Access tokens, or POST /api/v1/tokens): "
            "`Authorization: Bearer hub_…`. Read tokens may only make GET requests.",
        }
