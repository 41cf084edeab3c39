from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.owners import owner_from_request
from anclora.core.bounds import BIGINT_MAX, INT32_MAX
from anclora.core.pagination import paginated_response, paginated_schema

from . import selectors, services

SESSION_PARAM = OpenApiParameter("session_id", str, description="anonymous session (or X-Session-Id)")


class StoredFileOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    original_filename = serializers.CharField()
    file_format = serializers.CharField()
    size = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
    content_type = serializers.CharField()
    checksum = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    extended_hours = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
    is_deleted = serializers.BooleanField()
    deleted_at = serializers.DateTimeField(allow_null=True)


class FileListApi(APIView):
    @extend_schema(operation_id="files_list", parameters=[SESSION_PARAM],
                   responses={200: paginated_schema(StoredFileOutputSerializer)})
    def get(self, request):
        queryset = selectors.stored_file_list_for_owner(owner=owner_from_request(request))
        return paginated_response(request, queryset, StoredFileOutputSerializer, view=self)


class FileDeleteApi(APIView):
    @extend_schema(parameters=[SESSION_PARAM], responses={204: None})
    def delete(self, request, file_id):
        stored_file = selectors.stored_file_get_for_owner(owner=owner_from_request(request),
                                                          file_id=file_id)
        services.stored_file_delete(stored_file=stored_file)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExtendRetentionApi(APIView):
    class InputSerializer(serializers.Serializer):
        credits = serializers.IntegerField(min_value=1, max_value=30)

    @extend_schema(request=InputSerializer, responses={200: StoredFileOutputSerializer})
    def post(self, request, file_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        stored_file = selectors.stored_file_get_for_owner(owner=owner_from_request(request), file_id=file_id)
        stored_file = services.stored_file_extend_retention(stored_file=stored_file, user=request.user,
                                                            credits=data.validated_data["credits"])
        return Response(StoredFileOutputSerializer(stored_file).data)
