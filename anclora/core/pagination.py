from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination

from .bounds import BIGINT_MAX

MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 100


class PageQuerySerializer(serializers.Serializer):
    """The pagination query parameters, bounded: outside the bounds is a 400 naming the parameter."""

    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE,
                                    help_text="1-based page number.")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE,
                                         help_text="Items per page (default 20).")


class DefaultPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        return super().paginate_queryset(queryset, request, view=view)


def paginated_response(request, queryset, serializer_class, *, view=None):
    """One page of `queryset` as {count, next, previous, results}; bad page / page_size → 400."""
    paginator = DefaultPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def paginated_schema(serializer_class):
    """The OpenAPI shape of `paginated_response` for that serializer."""
    name = serializer_class.__qualname__.replace(".", "").removesuffix("Serializer")
    serializer = inline_serializer(f"Paginated{name}", {
        "count": serializers.IntegerField(min_value=0, max_value=BIGINT_MAX),
        "next": serializers.CharField(allow_null=True),
        "previous": serializers.CharField(allow_null=True),
        "results": serializer_class(many=True),
    })
    serializer.paginated = True  # anclora.core.schema adds the page / page_size parameters
    return serializer
