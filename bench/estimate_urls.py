"""The app's URLs plus /bench/constant (only mounted by bench/estimate_settings.py)."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from anclora.urls import *  # noqa: F403
from anclora.urls import urlpatterns as app_urlpatterns


class ConstantApi(APIView):
    class InputSerializer(serializers.Serializer):
        pass

    @extend_schema(exclude=True)
    def post(self, request):
        return Response({"estimated_price": 0.07, "currency": "EUR"})


urlpatterns = [path("bench/constant", ConstantApi.as_view()), *app_urlpatterns]
