"""GET/POST /api/keys, DELETE /api/keys/{id}: managed with a session or a JWT, never with a key."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from anclora.core.pagination import paginated_response, paginated_schema

from . import selectors, services
from .models import Scope


class ApiKeyOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="prefix", max_length=8, help_text="public prefix of the key")
    name = serializers.CharField(max_length=50)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices), max_length=3)
    created = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    expiry_date = serializers.DateTimeField(allow_null=True)
    expired = serializers.BooleanField(source="has_expired")
    revoked = serializers.BooleanField()
    revoked_at = serializers.DateTimeField(allow_null=True)


# Managed with a session or a JWT only (a key is refused with 403 api_key_not_allowed).
MANAGE_AUTH = [{"jwtAuth": []}, {"cookieAuth": []}]


class ApiKeyListCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=50)
        scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices),
                                       min_length=1, max_length=3)
        expiry_date = serializers.DateTimeField(required=False, allow_null=True)

    class CreatedOutputSerializer(ApiKeyOutputSerializer):
        key = serializers.CharField(max_length=200, help_text="the full key: shown only in this response")

    @extend_schema(operation_id="api_keys_list", auth=MANAGE_AUTH,
                   responses={200: paginated_schema(ApiKeyOutputSerializer)})
    def get(self, request):
        return paginated_response(request, selectors.api_key_list_for_user(user=request.user),
                                  ApiKeyOutputSerializer, view=self)

    @extend_schema(request=InputSerializer, auth=MANAGE_AUTH, responses={201: CreatedOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.api_key_create(user=request.user, **data.validated_data)
        body = {**ApiKeyOutputSerializer(created.api_key).data, "key": created.key}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyRevokeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(auth=MANAGE_AUTH, responses={204: None})
    def delete(self, request, key_id):
        api_key = selectors.api_key_get_for_user(user=request.user, key_id=key_id)
        services.api_key_revoke(api_key=api_key)
        return Response(status=status.HTTP_204_NO_CONTENT)
