from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from anclora.core.pagination import DefaultPagination

from . import selectors, services
from .owners import owner_from_request

SESSION_PARAM = OpenApiParameter("session_id", str, description="anonymous session (or X-Session-Id)")


class StoredFileOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    original_filename = serializers.CharField()
    file_format = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.CharField()
    checksum = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    is_deleted = serializers.BooleanField()
    deleted_at = serializers.DateTimeField(allow_null=True)


class FileListApi(APIView):
    @extend_schema(parameters=[SESSION_PARAM], responses={200: StoredFileOutputSerializer(many=True)})
    def get(self, request):
        queryset = selectors.stored_file_list_for_owner(owner=owner_from_request(request))
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(StoredFileOutputSerializer(page, many=True).data)


class FileDeleteApi(APIView):
    @extend_schema(parameters=[SESSION_PARAM], responses={204: None})
    def delete(self, request, file_id):
        stored_file = selectors.stored_file_get_for_owner(owner=owner_from_request(request),
                                                          file_id=file_id)
        services.stored_file_delete(stored_file=stored_file)
        return Response(status=status.HTTP_204_NO_CONTENT)
