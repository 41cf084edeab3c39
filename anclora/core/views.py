from django.shortcuts import render
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .exceptions import json_error_response
from .health import health_report


class HealthApi(APIView):
    authentication_classes = []
    permission_classes = []

    @extend_schema(
        responses={
            200: inline_serializer(
                "Health",
                {"status": serializers.CharField(), "checks": serializers.DictField(),
                 "engines": serializers.DictField(child=serializers.BooleanField())},
            )
        }
    )
    def get(self, request):
        report = health_report()
        return Response(report, status=200 if report["status"] == "ok" else 503)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception=None):
    if _is_api(request):
        return json_error_response(_("Recurso no encontrado."), "not_found", 404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _is_api(request):
        return json_error_response(_("Error interno del servidor."), "server_error", 500)
    return render(request, "500.html", status=500)


def bad_request(request, exception=None):
    if _is_api(request):
        return json_error_response(_("Solicitud incorrecta."), "bad_request", 400)
    return render(request, "400.html", status=400)


def permission_denied(request, exception=None):
    if _is_api(request):
        return json_error_response(_("No tienes permiso para esta acción."), "forbidden", 403)
    return render(request, "403.html", status=403)
