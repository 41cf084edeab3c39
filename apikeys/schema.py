"""OpenAPI: the `Api-Key` security scheme (drf-spectacular)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apikeys.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Authorization: Api-Key <key>`. Claves creadas en /account/api-keys/ o POST /api/keys, "
                "con permisos convert / read / billing / keys created on the account page or with "
                "POST /api/keys, scoped convert / read / billing."
            ),
        }
