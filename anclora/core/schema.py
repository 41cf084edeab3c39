"""OpenAPI naming: nested Input/OutputSerializer classes get their view's name."""

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema


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
