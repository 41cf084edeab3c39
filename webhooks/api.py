"""Webhook endpoints, the signing secret and the delivery log: parse, call one service/selector, serialize."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiCallback, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.owners import owner_from_request
from anclora.core.bounds import BIGINT_MAX
from anclora.core.errors import ApplicationError
from anclora.core.pagination import paginated_response, paginated_schema

from . import selectors, services
from .models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint

SIGNATURE_DOC = """Every event is a `POST` with a JSON body and the headers `Anclora-Event-Id`, `Anclora-Event-Type` and
`Anclora-Signature: t=<unix seconds>,v1=<hex>`, where `v1` is HMAC-SHA256 of `"<t>.<raw body>"` keyed with your
signing secret (`whsec_…`, the whole string; `GET /api/webhooks/secret`). Check the HMAC in constant time and
that `t` is within 5 minutes of now (README, "Integrate" → "Webhooks", has a Python and an openssl example).
Any 2xx within 10 s for the whole attempt (WEBHOOK_DELIVERY_TIMEOUT) is success; anything else (redirects
included: they are never followed) is tried again, 6 attempts in about an hour (after 30 s, 2 min, 5 min, 15 min,
30 min). Destinations must be public addresses.
Events: `conversion.completed`, `conversion.failed` (also for a cancelled job, status `cancelled`) and
`batch.completed` (every job of a batch ended; registered endpoints only). The per-request `webhook_url` of
`POST /api/conversion/convert` receives the conversion events, signed the same way with the caller's secret
(an anonymous caller's: `GET /api/webhooks/secret?session_id=…`). Receivers should dedupe on the event id."""


class WebhookEventConversionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    batch_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=["completed", "failed", "cancelled"])
    original_filename = serializers.CharField()
    original_format = serializers.CharField()
    target_format = serializers.CharField()
    download_url = serializers.URLField(allow_null=True, help_text="absolute; completed jobs only")
    error = serializers.CharField(required=False, allow_null=True)
    error_code = serializers.CharField(required=False, allow_null=True)


class WebhookEventBatchSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    total = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
    completed = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
    failed = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
    cancelled = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
    conversions = WebhookEventConversionSerializer(many=True)


class WebhookEventSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="the same on every retry and redelivery")
    type = serializers.CharField(help_text=", ".join(EVENT_TYPES))
    created = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX, help_text="unix seconds")
    data = inline_serializer("WebhookEventData", {
        "conversion": WebhookEventConversionSerializer(required=False, help_text="conversion.* events"),
        "batch": WebhookEventBatchSerializer(required=False, help_text="batch.completed"),
    })


_RECEIVER = extend_schema(
    summary="Webhook event (sent by Anclora to your URL)", description=SIGNATURE_DOC,
    request=WebhookEventSerializer, responses={200: None},
)
CALLBACKS = [OpenApiCallback(name, "{$request.body#/url}", _RECEIVER) for name in EVENT_TYPES]


class WebhookEndpointOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "active", "created_at"]

    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES))


class WebhookDeliveryOutputSerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(help_text=", ".join(EVENT_TYPES))
    attempts = serializers.IntegerField(min_value=0, max_value=32767)
    last_response_code = serializers.IntegerField(min_value=0, max_value=32767, allow_null=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "endpoint", "url", "event_type", "event_id", "status", "attempts", "next_attempt_at",
                  "last_attempt_at", "last_response_code", "last_error", "delivered_at", "redelivery_of",
                  "created_at", "payload"]


class EndpointListApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        url = serializers.URLField(max_length=2048)
        events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES), min_length=1,
                                       max_length=len(EVENT_TYPES), required=False, default=list(EVENT_TYPES))

    @extend_schema(operation_id="webhooks_endpoints_list",
                   responses={200: paginated_schema(WebhookEndpointOutputSerializer)})
    def get(self, request):
        return paginated_response(request, selectors.webhook_endpoint_list(user=request.user),
                                  WebhookEndpointOutputSerializer, view=self)

    @extend_schema(operation_id="webhooks_endpoints_create", description=SIGNATURE_DOC, request=InputSerializer,
                   responses={201: WebhookEndpointOutputSerializer}, callbacks=CALLBACKS)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_create(user=request.user, **data.validated_data)
        return Response(WebhookEndpointOutputSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request, endpoint_id):
        services.webhook_endpoint_delete(endpoint=selectors.webhook_endpoint_get(user=request.user,
                                                                                 endpoint_id=endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryListApi(APIView):
    permission_classes = [IsAuthenticated]

    class QuerySerializer(serializers.Serializer):
        endpoint = serializers.UUIDField(required=False, help_text="only this endpoint's deliveries")

    @extend_schema(parameters=[QuerySerializer], responses={200: paginated_schema(WebhookDeliveryOutputSerializer)})
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        deliveries = selectors.webhook_delivery_list(user=request.user,
                                                     endpoint_id=query.validated_data.get("endpoint"))
        return paginated_response(request, deliveries, WebhookDeliveryOutputSerializer, view=self)


class DeliveryRedeliverApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={202: WebhookDeliveryOutputSerializer})
    def post(self, request, delivery_id):
        delivery = selectors.webhook_delivery_get(user=request.user, delivery_id=delivery_id)
        again = services.webhook_delivery_redeliver(delivery=delivery)
        return Response(WebhookDeliveryOutputSerializer(again).data, status=status.HTTP_202_ACCEPTED)


class SecretOutputSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="whsec_…: the key of every Anclora-Signature you receive")
    updated_at = serializers.DateTimeField()


def _owner(request):
    owner = owner_from_request(request)
    if owner is None:
        raise ApplicationError(_("No autenticado."), code="not_authenticated", status=401)
    return owner


class SecretApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("session_id", str, description="anonymous session")],
                   description="The caller's (user's or anonymous session's) webhook signing secret.",
                   responses={200: SecretOutputSerializer})
    def get(self, request):
        return Response(SecretOutputSerializer(services.webhook_secret_get(owner=_owner(request))).data)


class SecretRotateApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("session_id", str, description="anonymous session")],
                   request=None, responses={200: SecretOutputSerializer})
    def post(self, request):
        return Response(SecretOutputSerializer(services.webhook_secret_rotate(owner=_owner(request))).data)
