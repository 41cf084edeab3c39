"""Staff dashboard page and the stats API."""

from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as account_selectors
from anclora.core.bounds import BIGINT_MAX
from anclora.core.permissions import IsVerifiedStaff
from billing import selectors as billing_selectors
from conversions import selectors as conversion_selectors

from .stats import admin_stats, daily_series

CHART_W, CHART_H, PAD = 720, 220, 30


def _chart(series: list[dict], key: str) -> dict:
    peak = max((point[key] for point in series), default=0) or 1
    step = (CHART_W - 2 * PAD) / max(len(series), 1)
    bars = []
    for i, point in enumerate(series):
        height = (CHART_H - 2 * PAD) * point[key] / peak
        bars.append({"x": round(PAD + i * step, 1), "y": round(CHART_H - PAD - height, 1),
                     "w": round(step * 0.8, 1), "h": round(height, 1), "day": point["day"], "value": point[key]})
    return {"bars": bars, "peak": peak, "width": CHART_W, "height": CHART_H, "base": CHART_H - PAD}


def _activity_rows(items: list[dict]) -> list[dict]:
    """The recent activity for people: who (e-mail), when (a datetime the template localises), what (translated)."""
    conversion_status = conversion_selectors.CONVERSION_STATUS_LABELS
    payment_status = billing_selectors.TRANSACTION_STATUS_LABELS
    emails = account_selectors.user_emails_by_id(user_ids={item.get("user_id") for item in items})
    rows = []
    for item in items:
        params = item.get("params") or {}
        if item["type"] == "conversion":
            kind = _("Conversión")
            details = _("%(source)s a %(target)s (%(status)s)") % {
                "source": params.get("source", "").upper(), "target": params.get("target", "").upper(),
                "status": conversion_status.get(params.get("status"), params.get("status", ""))}
        else:
            kind = _("Pago")
            details = _("%(amount)s EUR (%(status)s)") % {
                "amount": number_format(Decimal(params["amount"]), 2) if params.get("amount") else "",
                "status": payment_status.get(params.get("status"), params.get("status", ""))}
        email = emails.get(item.get("user_id") or "")
        rows.append({"type": kind, "details": details if params else item["details"],
                     "user": email or (_("anónimo") if not item.get("user_id") else _("eliminado")),
                     "timestamp": parse_datetime(item["timestamp"])})
    return rows


@staff_member_required
def dashboard_view(request):
    series = daily_series()
    stats = admin_stats()
    return render(request, "admin/dashboard.html", {
        # the site's header and title ("Anclora Converter · administración"), without the models sidebar
        **admin.site.each_context(request), "is_nav_sidebar_enabled": False,
        "stats": stats["system_stats"], "activity": _activity_rows(stats["recent_activity"][:10]),
        "conversions_chart": _chart(series, "conversions"), "revenue_chart": _chart(series, "revenue"),
        "title": _("Panel de control"),
    })


class AdminStatsApi(APIView):
    permission_classes = [IsAuthenticated, IsVerifiedStaff]

    class SystemStatsSerializer(serializers.Serializer):
        total_users = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
        active_users_today = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
        total_conversions = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
        conversions_today = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
        total_revenue_eur = serializers.FloatField()
        revenue_today_eur = serializers.FloatField()
        storage_used_gb = serializers.FloatField()
        average_conversion_time_seconds = serializers.FloatField()
        failed_today = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)

    class ActivitySerializer(serializers.Serializer):
        type = serializers.CharField()
        user_id = serializers.UUIDField(allow_null=True)
        details = serializers.CharField()
        params = serializers.DictField(child=serializers.CharField(), required=False,
                                       help_text="source/target/status (conversion) or amount/status (payment)")
        timestamp = serializers.DateTimeField()

    @extend_schema(responses={200: inline_serializer("AdminStatsResponse", {
        "system_stats": SystemStatsSerializer(), "recent_activity": ActivitySerializer(many=True)})})
    def get(self, request):
        return Response(admin_stats())
