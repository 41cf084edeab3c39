from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination


class DefaultPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


def paginated_response(request, queryset, serializer_class, *, view=None):
    """One page of `queryset` as {count, next, previous, results}."""
    paginator = DefaultPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def paginated_schema(serializer_class):
    """The OpenAPI shape of `paginated_response` for that serializer."""
    name = serializer_class.__qualname__.replace(".", "").removesuffix("Serializer")
    return inline_serializer(f"Paginated{name}", {
        "count": serializers.IntegerField(),
        "next": serializers.CharField(allow_null=True),
        "previous": serializers.CharField(allow_null=True),
        "results": serializer_class(many=True),
    })
