"""POST /api/conversion/detect: the page's pre-flight look at a file before uploading it."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from anclora.core.errors import ApplicationError

from .detection import HEAD_SIZE
from .preflight import detect_preflight


class DetectApi(APIView):
    """Detect a file's format from its first bytes (at most 64 KiB) and name, by content."""

    authentication_classes = []
    permission_classes = []
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        head = serializers.FileField(allow_empty_file=True,
                                     help_text="the first bytes of the file (at most 65536)")
        name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="",
                                     help_text="the file's name (tells text formats apart: .md, .csv, .html)")

    class OutputSerializer(serializers.Serializer):
        format = serializers.CharField(allow_null=True)
        family = serializers.CharField(allow_null=True)
        category = serializers.CharField(allow_null=True)
        targets = serializers.ListField(child=serializers.CharField())
        message = serializers.CharField(allow_blank=True)

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={200: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        head = data.validated_data["head"]
        if head.size > HEAD_SIZE:
            raise ApplicationError(_("Envía solo los primeros 64 KiB del archivo."), code="head_too_large",
                                   details={"head": [_("Como máximo 65536 bytes.")]})
        return Response(detect_preflight(head=head.read(HEAD_SIZE), name=data.validated_data["name"]))
