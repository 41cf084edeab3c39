"""OpenAPI naming: nested Input/OutputSerializer classes get their view's name; paginated responses
document their page / page_size query parameters."""

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema

from .pagination import PageQuerySerializer


class AutoSchema(BaseAutoSchema):
    def _get_serializer_name(self, serializer, direction, bypass_extensions=False):
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        qualname = type(serializer).__qualname__
        if "." in qualname and "<locals>" not in qualname:
            outer, inner = qualname.rsplit(".", 1)
            inner = inner.removesuffix("Serializer")
            suffix = name[len(inner):] if name.startswith(inner) else ""
            return f"{outer.replace('.', '')}{inner}{suffix}"
        return name

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        responses = self.get_response_serializers()
        if isinstance(responses, dict) and any(getattr(s, "paginated", False) for s in responses.values()):
            parameters.append(PageQuerySerializer)
        return parameters
