"""Payments API: parse, call one service/selector, serialize."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.abuse import address_bucket
from accounts.owners import owner_from_request
from accounts.selectors import plan_for_user, plan_list
from anclora.core.bounds import INT32_MAX
from anclora.core.pagination import paginated_response, paginated_schema
from anclora.core.permissions import IsVerifiedStaff
from idempotency.decorators import IDEMPOTENCY_KEY_PARAMETER, idempotent

from . import entitlements, pricing, selectors, services
from .models import ConversionTransaction, StripeSubscription, TransactionItem
from .providers import get_provider

SESSION_PARAM = OpenApiParameter("session_id", str, description="anonymous session (or X-Session-Id)")


class ConversionRequestSerializer(serializers.Serializer):
    # Types are checked by the service so that every bad value answers 400 naming the field.
    source_format = serializers.CharField(max_length=16)
    target_format = serializers.CharField(max_length=16)
    file_size_mb = serializers.FloatField(min_value=0, max_value=settings.MAX_UPLOAD_MB,
                                          help_text="More than 0, at most MAX_UPLOAD_MB.")
    quality = serializers.CharField(max_length=16, required=False, default="standard")
    name = serializers.CharField(max_length=255, required=False, allow_blank=True,
                                 help_text="the file's name (shown on the checkout page)")


class TransactionItemOutputSerializer(serializers.ModelSerializer):
    amount = serializers.FloatField()
    file_size_mb = serializers.FloatField()
    conversion_id = serializers.UUIDField(source="consumed_by_id", allow_null=True)

    class Meta:
        model = TransactionItem
        fields = ["position", "name", "source_format", "target_format", "quality", "file_size_mb", "size_category",
                  "amount", "conversion_id"]


class TransactionOutputSerializer(serializers.ModelSerializer):
    amount = serializers.FloatField()
    refunded_amount = serializers.FloatField()
    source_format = serializers.CharField()
    target_format = serializers.CharField()
    conversion_id = serializers.UUIDField(source="consumed_by_id", allow_null=True)
    items = TransactionItemOutputSerializer(many=True, read_only=True,
                                            help_text="the files this payment pays for, one conversion each")

    class Meta:
        model = ConversionTransaction
        fields = ["id", "status", "amount", "currency", "refunded_amount", "source_format", "target_format",
                  "conversion_details", "stripe_payment_intent_id", "conversion_id", "provider", "created_at",
                  "completed_at", "refunded_at", "items"]


class BreakdownSerializer(serializers.Serializer):
    base_price = serializers.FloatField()
    conversion_type = serializers.CharField()
    size_category = serializers.CharField()
    size_multiplier = serializers.FloatField()
    quality = serializers.CharField()
    quality_multiplier = serializers.FloatField()
    feature_cost = serializers.FloatField()
    server_load = serializers.CharField()
    server_load_factor = serializers.FloatField()
    total_price = serializers.FloatField()


class EstimateApi(APIView):
    class InputSerializer(serializers.Serializer):
        # Documentation only (the service checks every field and names it in its 400).
        source_format = serializers.CharField(max_length=16)
        target_format = serializers.CharField(max_length=16)
        file_size_mb = serializers.FloatField(min_value=0, max_value=settings.MAX_UPLOAD_MB,
                                              help_text="More than 0, at most MAX_UPLOAD_MB.")
        quality = serializers.CharField(max_length=16, required=False, default="standard")
        features = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list,
                                         max_length=10)

    class OutputSerializer(serializers.Serializer):
        estimated_price = serializers.FloatField()
        currency = serializers.CharField()
        breakdown = BreakdownSerializer()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        # The service validates every field (400 naming it); running the serializer as well would
        # only repeat that work on the hottest public endpoint (bench/estimate_rps.py).
        data = request.data if isinstance(request.data, dict) else {}
        breakdown = services.price_estimate(
            source_format=data.get("source_format"), target_format=data.get("target_format"),
            file_size_mb=data.get("file_size_mb"), quality=data.get("quality", "standard"),
            features=data.get("features", []),
        )
        return Response(services.estimate_response(breakdown))


class PricingTiersApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class TiersSerializer(serializers.Serializer):
            class SizeTierSerializer(serializers.Serializer):
                max_size_mb = serializers.FloatField(allow_null=True)
                price_multiplier = serializers.FloatField()

            base_prices = serializers.DictField(child=serializers.FloatField())
            size_tiers = serializers.DictField(child=SizeTierSerializer())
            quality_options = serializers.DictField(child=serializers.FloatField())
            feature_costs = serializers.DictField(child=serializers.FloatField())
            server_load_factors = serializers.DictField(child=serializers.FloatField())
            currency = serializers.CharField()

        pricing_tiers = TiersSerializer()

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        return Response(self.OutputSerializer({"pricing_tiers": pricing.tiers()}).data)


class CreatePaymentIntentApi(APIView):
    class InputSerializer(serializers.Serializer):
        conversion_request = ConversionRequestSerializer(required=False,
                                                         help_text="one file (or use conversion_requests)")
        conversion_requests = serializers.ListField(
            child=ConversionRequestSerializer(), required=False, min_length=1, max_length=20,
            help_text="a whole batch: the files a 402 listed in how_to_pay.conversion_requests, paid at once")
        session_id = serializers.UUIDField(required=False, allow_null=True)
        idempotency_key = serializers.CharField(required=False, allow_blank=True, max_length=200)

    class OutputSerializer(serializers.Serializer):
        class PricingBreakdownSerializer(serializers.Serializer):
            base_price = serializers.FloatField()
            size_multiplier = serializers.FloatField()
            quality_multiplier = serializers.FloatField()
            total = serializers.FloatField()

        client_secret = serializers.CharField()
        payment_intent_id = serializers.CharField()
        transaction_id = serializers.UUIDField()
        amount = serializers.FloatField()
        currency = serializers.CharField()
        pricing_breakdown = PricingBreakdownSerializer()
        status = serializers.CharField()
        session_id = serializers.UUIDField(allow_null=True)
        provider = serializers.CharField()
        test_mode = serializers.BooleanField()
        items = TransactionItemOutputSerializer(many=True)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer},
                   parameters=[IDEMPOTENCY_KEY_PARAMETER])
    @idempotent
    def post(self, request):
        raw = request.data.get("conversion_request") if hasattr(request.data, "get") else None
        raw_list = request.data.get("conversion_requests") if hasattr(request.data, "get") else None
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        owner = owner_from_request(request, create=True)
        result = services.transaction_create(
            owner=owner, conversion_request=dict(raw) if isinstance(raw, dict) else None,
            conversion_requests=[dict(r) for r in raw_list] if isinstance(raw_list, list) else None,
            idempotency_key=data.validated_data.get("idempotency_key") or None, address=address_bucket(request))
        tx, breakdown = result["transaction"], result["breakdown"]
        provider = get_provider()
        return Response(self.OutputSerializer({
            "client_secret": result["client_secret"], "payment_intent_id": tx.stripe_payment_intent_id,
            "transaction_id": tx.pk, "amount": tx.amount, "currency": tx.currency,
            "pricing_breakdown": {"base_price": breakdown.base_price, "size_multiplier": breakdown.size_multiplier,
                                  "quality_multiplier": breakdown.quality_multiplier, "total": tx.amount},
            "status": tx.status, "session_id": owner.session.pk if owner.session else None,
            "provider": provider.label, "test_mode": provider.test_mode, "items": tx.items.all(),
        }).data, status=status.HTTP_201_CREATED)


class QuoteApi(APIView):
    """What would pay each file of a convert request now (allowance, credit, payment) and the amount due."""

    class InputSerializer(serializers.Serializer):
        class FileSerializer(serializers.Serializer):
            name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
            source_format = serializers.CharField(max_length=16)
            target_format = serializers.CharField(max_length=16, required=False,
                                                  help_text="this file's own target (default: `target_format`)")
            size_bytes = serializers.IntegerField(min_value=0, max_value=settings.MAX_UPLOAD_MB * 1024 * 1024)

        files = FileSerializer(many=True, allow_empty=False, max_length=20)
        target_format = serializers.CharField(max_length=16)
        quality = serializers.CharField(max_length=16, required=False, default="standard")
        use_credit = serializers.BooleanField(required=False, default=False)
        session_id = serializers.UUIDField(required=False, allow_null=True)

    class OutputSerializer(serializers.Serializer):
        class FileOutputSerializer(serializers.Serializer):
            name = serializers.CharField()
            source_format = serializers.CharField()
            target_format = serializers.CharField()
            file_size_mb = serializers.FloatField()
            quality = serializers.CharField()
            paid_by = serializers.ChoiceField(choices=["allowance", "credit", "payment"])
            prepaid = serializers.BooleanField(help_text="paid by an earlier payment not used yet")
            price = serializers.FloatField(help_text="what this file adds to amount_due")
            estimated_price = serializers.FloatField()

        files = FileOutputSerializer(many=True)
        amount_due = serializers.FloatField()
        currency = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        quote = entitlements.files_payment_quote(owner=owner_from_request(request), files=values["files"],
                                                 target_format=values["target_format"], quality=values["quality"],
                                                 use_credit=values["use_credit"])
        return Response(self.OutputSerializer(quote).data)


class WebhookApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    class OutputSerializer(serializers.Serializer):
        received = serializers.BooleanField()
        result = serializers.CharField()

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OutputSerializer})
    def post(self, request):
        result = services.webhook_receive(payload=request.body,
                                          signature=request.headers.get("Stripe-Signature"))
        return Response({"received": True, "result": result})


class TransactionListApi(APIView):
    @extend_schema(operation_id="payments_transactions_list", parameters=[SESSION_PARAM],
                   responses={200: paginated_schema(TransactionOutputSerializer)})
    def get(self, request):
        queryset = selectors.transaction_list_for_owner(owner=owner_from_request(request))
        return paginated_response(request, queryset, TransactionOutputSerializer, view=self)


class TransactionDetailApi(APIView):
    @extend_schema(parameters=[SESSION_PARAM], responses={200: TransactionOutputSerializer})
    def get(self, request, transaction_id):
        tx = services.transaction_get_for_owner(owner=owner_from_request(request), transaction_id=transaction_id)
        return Response(TransactionOutputSerializer(tx).data)


class TransactionPayTestApi(APIView):
    class InputSerializer(serializers.Serializer):
        card = serializers.ChoiceField(choices=["visa", "decline"], required=False, default="visa")
        session_id = serializers.UUIDField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: TransactionOutputSerializer})
    def post(self, request, transaction_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tx = services.transaction_pay_test_card(owner=owner_from_request(request), transaction_id=transaction_id,
                                                card=data.validated_data["card"])
        return Response(TransactionOutputSerializer(tx).data)


class TransactionRefundApi(APIView):
    permission_classes = [IsVerifiedStaff]

    @extend_schema(request=None, responses={200: TransactionOutputSerializer})
    def post(self, request, transaction_id):
        tx = services.transaction_refund(transaction_id=transaction_id, actor=request.user)
        return Response(TransactionOutputSerializer(tx).data)


class PlanOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    price_eur = serializers.FloatField()
    monthly_conversions = serializers.IntegerField(min_value=0, max_value=INT32_MAX, allow_null=True)
    max_file_size_mb = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
    retention_hours = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
    priority_queue = serializers.BooleanField()
    current = serializers.BooleanField()


class PlansApi(APIView):
    class OutputSerializer(serializers.Serializer):
        plans = PlanOutputSerializer(many=True)
        currency = serializers.CharField()

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        user = request.user if request.user.is_authenticated else None
        current = plan_for_user(user)
        plans = [{**{f: getattr(p, f) for f in ("slug", "name", "price_eur", "monthly_conversions",
                                                  "max_file_size_mb", "retention_hours", "priority_queue")},
                  "current": p.pk == current.pk} for p in plan_list()]
        return Response(self.OutputSerializer({"plans": plans, "currency": pricing.CURRENCY}).data)


class SubscriptionOutputSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.slug")

    class Meta:
        model = StripeSubscription
        fields = ["stripe_subscription_id", "plan", "status", "cancel_at_period_end", "current_period_end",
                  "applied_at", "created_at"]


class SubscribeApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        plan = serializers.CharField(max_length=50)

    @extend_schema(request=InputSerializer, responses={201: SubscriptionOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sub = services.subscription_subscribe(user=request.user, plan_slug=data.validated_data["plan"])
        return Response(SubscriptionOutputSerializer(sub).data, status=status.HTTP_201_CREATED)


class SubscriptionCancelApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: SubscriptionOutputSerializer})
    def post(self, request):
        return Response(SubscriptionOutputSerializer(services.subscription_cancel(user=request.user)).data)


class EntitlementApi(APIView):
    class OutputSerializer(serializers.Serializer):
        plan = serializers.CharField()
        plan_name = serializers.CharField()
        allowance_limit = serializers.IntegerField(min_value=0, max_value=INT32_MAX, allow_null=True)
        allowance_used = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
        allowance_remaining = serializers.IntegerField(min_value=0, max_value=INT32_MAX, allow_null=True)
        period_end = serializers.DateTimeField(allow_null=True)
        conversion_credits = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
        test_mode = serializers.BooleanField()
        provider = serializers.CharField()

    @extend_schema(parameters=[SESSION_PARAM], responses={200: OutputSerializer})
    def get(self, request):
        provider = get_provider()
        status_ = selectors.entitlement_status(owner=owner_from_request(request))
        return Response(self.OutputSerializer({**status_, "test_mode": provider.test_mode,
                                               "provider": provider.label}).data)

