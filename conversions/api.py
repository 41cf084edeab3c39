"""Conversion endpoints: parse, call one service/selector, serialize."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiRequest,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.owners import owner_from_request
from anclora.core.bounds import BIGINT_MAX
from anclora.core.errors import ApplicationError
from anclora.core.pagination import paginated_response, paginated_schema
from anclora.core.parsers import json_depth
from anclora.core.parsers import max_depth as json_max_depth
from idempotency.decorators import IDEMPOTENCY_KEY_PARAMETER, idempotent
from storage.selectors import stored_file_is_available

from . import downloads, selectors, services, sources
from .catalog import supported_formats_report
from .catalog.options import openapi_schema as options_openapi_schema
from .models import Conversion

SESSION_PARAM = OpenApiParameter("session_id", str, description="anonymous session (or X-Session-Id)")


class QueueEstimateSerializer(serializers.Serializer):
    position = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX, help_text="1: the next job to start")
    estimated_seconds = serializers.IntegerField(
        min_value=1, max_value=BIGINT_MAX, allow_null=True,
        help_text="expected seconds until this job is done, from the jobs ahead and the recent average run "
                  "time of each one's family; null while no job has completed lately")


class ConversionOutputSerializer(serializers.ModelSerializer):
    original_filename = serializers.CharField(source="source.original_filename")
    file_size_mb = serializers.FloatField()
    expires_at = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    source_url = serializers.SerializerMethodField()
    fetching = serializers.SerializerMethodField()
    options = serializers.SerializerMethodField()
    queue = serializers.SerializerMethodField()
    source_available = serializers.SerializerMethodField()

    class Meta:
        model = Conversion
        fields = ["id", "batch_id", "status", "original_filename", "original_format", "target_format",
                  "conversion_type", "file_size_mb", "quality", "progress", "engine", "paid_by",
                  "error", "error_code", "created_at", "started_at", "finished_at", "expires_at",
                  "status_url", "download_url", "source_url", "fetching", "options", "queue",
                  "source_available"]

    @extend_schema_field(QueueEstimateSerializer(allow_null=True))
    def get_queue(self, obj) -> dict | None:
        """While `pending`: the place in the queue and the expected wait (null otherwise)."""
        if obj.status != Conversion.Status.PENDING:
            return None
        root = self.root
        if not hasattr(root, "_average_durations"):  # once per response, however many jobs it lists
            root._average_durations = selectors.conversion_average_durations_cached()
        return selectors.conversion_queue_estimate(conversion=obj, averages=root._average_durations)

    def get_source_available(self, obj) -> bool:
        """The uploaded file is still stored (POST …/convert-again can use it without a new upload)."""
        return stored_file_is_available(obj.source)

    def get_expires_at(self, obj) -> str:
        stored = obj.output or obj.source
        return serializers.DateTimeField().to_representation(stored.expires_at)

    def get_status_url(self, obj) -> str:
        return reverse("api:conversions:detail", args=[obj.pk])

    def get_download_url(self, obj) -> str | None:
        if obj.status != Conversion.Status.COMPLETED:
            return None
        return reverse("api:conversions:download", args=[obj.pk])

    def get_error(self, obj) -> str | None:
        """In the caller's language (Accept-Language, the user's language)."""
        return obj.error_text or None

    @extend_schema_field(options_openapi_schema())
    def get_options(self, obj) -> dict:
        """The per-pair options the job was asked with (defaults filled in; an import's as asked until its
        download says what the source is)."""
        return (obj.options or {}).get("params") or (obj.options or {}).get("requested_options") or {}

    def get_source_url(self, obj) -> str | None:
        """The URL an import was downloaded from (null for uploaded files)."""
        return (obj.options or {}).get("source_url")

    def get_fetching(self, obj) -> bool:
        """An import whose download has not finished yet (the job is `pending` meanwhile)."""
        return obj.status == Conversion.Status.PENDING and (obj.options or {}).get("import") == "fetching"


class SupportedFormatsApi(APIView):
    authentication_classes = []
    permission_classes = []

    class PairSerializer(serializers.Serializer):
        engine = serializers.CharField(help_text="the engine that converts this pair here")
        options = serializers.CharField(allow_null=True, help_text="key of `option_schemas` (null: only quality)")

    class FormatSerializer(serializers.Serializer):
        family = serializers.CharField()
        category = serializers.ChoiceField(choices=["image", "document", "audio", "video"],
                                           help_text="pricing category")
        mime_types = serializers.ListField(child=serializers.CharField())
        extension = serializers.CharField()
        aliases = serializers.ListField(child=serializers.CharField())
        output = serializers.BooleanField(help_text="false: accepted as a source only")

    class QualitySerializer(serializers.Serializer):
        name = serializers.CharField()
        label = serializers.CharField()
        multiplier = serializers.DecimalField(max_digits=4, decimal_places=2)

    class MissingSerializer(serializers.Serializer):
        engine = serializers.CharField()
        formats = serializers.ListField(child=serializers.CharField(),
                                        help_text="formats it would add (none offered without it)")
        pairs = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX, help_text="pairs it would add")

    class OutputSerializer(serializers.Serializer):
        supported_conversions = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
        format_categories = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
        targets = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
        total_conversions = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
        pairs = serializers.DictField(child=serializers.DictField(), help_text="\"src->dst\": {engine, options}")
        option_schemas = serializers.DictField(child=serializers.DictField(),
                                               help_text="JSON Schema of each option set")
        formats = serializers.DictField(child=serializers.DictField(), help_text="every offered format")
        quality_levels = serializers.ListField(child=serializers.DictField())
        missing = serializers.ListField(child=serializers.DictField(),
                                        help_text="engines not installed here, and codec packages an installed "
                                                  "engine lacks (e.g. pillow-jxl-plugin): {engine, kind "
                                                  "(engine|codec), formats, pairs}")

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        report = supported_formats_report()
        for level in report["quality_levels"]:
            level["label"] = _(level["label"])
        for schema in report["option_schemas"].values():
            for option in schema["properties"].values():
                option["description"] = _(option["description"])
        return Response(report)


@extend_schema_field(options_openapi_schema())
class ConversionOptionsField(serializers.Field):
    """Per-pair options: a JSON object (a JSON text in a multipart form)."""

    MAX_CHARS = 4096

    def to_internal_value(self, data):
        if isinstance(data, str):
            # The JSON body's guards, before json.loads: a size limit, and the nesting depth measured
            # without recursion (json recurses once per level: 2,000 nested arrays raise RecursionError).
            if len(data) > self.MAX_CHARS:
                raise serializers.ValidationError(_("Demasiado largo."))
            depth_limit = json_max_depth()
            if json_depth(data) > depth_limit:
                raise serializers.ValidationError(
                    _("El JSON anida más de %(max)d niveles.") % {"max": depth_limit}, code="json_too_deep")
            try:
                data = json.loads(data) if data.strip() else {}
            except (ValueError, RecursionError):
                raise serializers.ValidationError(_("Debe ser un objeto JSON.")) from None
        if not isinstance(data, dict):
            raise serializers.ValidationError(_("Debe ser un objeto JSON."))
        return data

    def to_representation(self, value):
        return value


class QueueStatusApi(APIView):
    authentication_classes = []
    permission_classes = []

    class QueueSerializer(serializers.Serializer):
        pending_conversions = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
        processing_conversions = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
        average_wait_time_minutes = serializers.FloatField()
        server_load = serializers.ChoiceField(choices=["low", "medium", "high"])

    @extend_schema(responses={200: inline_serializer("QueueStatusResponse", {"queue_status": QueueSerializer()})})
    def get(self, request):
        return Response({"queue_status": selectors.queue_status()})


class ConvertApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.ListField(child=serializers.FileField(allow_empty_file=True), min_length=1,
                                     max_length=20, required=False,
                                     help_text="the files; or `source_url`, exactly one of them")
        source_url = serializers.URLField(
            max_length=2048, required=False,
            help_text="import from a public http(s) URL instead of `file`: the worker downloads it "
                      "(plan size limit, time and redirect limits, public addresses only); the job "
                      "stays `pending` with `fetching: true` meanwhile, and payment is decided when "
                      "the download has finished (a refusal fails the job)")
        upload_id = serializers.UUIDField(
            required=False,
            help_text="convert a finished resumable upload (`/api/uploads/`, tus) instead of `file`; "
                      "same checks, price and payment as a multipart upload")
        target_format = serializers.CharField(max_length=16)
        target_formats = serializers.ListField(
            child=serializers.CharField(max_length=16), min_length=1, max_length=20, required=False,
            help_text="one target per `file`, in the same order (a batch whose files go to different "
                      "formats: a JPG to PNG and a DOCX to PDF); without it every file goes to `target_format`")
        quality = serializers.CharField(max_length=16, required=False, default="standard")
        session_id = serializers.UUIDField(required=False, allow_null=True)
        use_credit = serializers.BooleanField(required=False, default=False)
        transaction_id = serializers.UUIDField(required=False, allow_null=True)
        options = ConversionOptionsField(
            required=False,
            help_text="per-pair options beyond quality (resize, trim, codec …), checked against the pair's "
                      "schema in GET /api/conversion/supported-formats; a bad or unknown option is a 400 naming it. "
                      "With `source_url` (or a finished S3 upload) the source is known only after the download: "
                      "options no pair to the target takes are a 400 at once, and the pair's own schema is "
                      "checked when the download has finished (a refusal then fails the job, nothing consumed)")
        webhook_url = serializers.URLField(
            max_length=2048, required=False, allow_blank=True, default="",
            help_text="public http(s) URL told when each job ends (conversion.completed / conversion.failed), "
                      "signed with the caller's secret (Anclora-Signature); events, payload, signature and "
                      "retries: POST /api/webhooks/endpoints (callbacks)")

        SOURCES = ("file", "source_url", "upload_id")

        def to_internal_value(self, data):
            """Exactly one source, said beside any other field's error."""
            one_source = sum(bool(data.get(name)) for name in self.SOURCES) == 1
            missing = {"file": [_("Envía exactamente uno de: %(fields)s.") % {"fields": ", ".join(self.SOURCES)}]}
            try:
                values = super().to_internal_value(data)
            except serializers.ValidationError as exc:
                if not one_source and isinstance(exc.detail, dict):
                    exc.detail.setdefault("file", missing["file"])
                raise
            if not one_source:
                raise serializers.ValidationError(missing)
            return values

    class OutputSerializer(serializers.Serializer):
        session_id = serializers.UUIDField(allow_null=True)
        batch_id = serializers.UUIDField()
        conversions = ConversionOutputSerializer(many=True)

    @extend_schema(request={"multipart/form-data": OpenApiRequest(
                       InputSerializer, encoding={"options": {"contentType": "application/json"}})},
                   responses={202: OutputSerializer},
                   parameters=[IDEMPOTENCY_KEY_PARAMETER],
                   description="One source: `file` (repeatable: a batch), `upload_id` (a finished tus or S3 "
                               "upload) or `source_url` (imported by the worker). Errors are JSON "
                               "`{error, code, details}`: 400 naming the field or option (`output_too_large` "
                               "when the options ask for more pixels than the caps), 402 with how to pay, 413, "
                               "415, and 429 with Retry-After past the caps on URL imports in flight "
                               "(`too_many_imports`) or the anonymous limits.")
    @idempotent
    def post(self, request):
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.MAX_UPLOAD_MB * 1024 * 1024:
            raise ApplicationError(_("El archivo supera el tamaño máximo permitido."),
                                   code="file_too_large", status=413)
        raw = request.data  # a QueryDict, or {} when the request has no body at all
        files = raw.getlist("file") if hasattr(raw, "getlist") else []
        targets = raw.getlist("target_formats") if hasattr(raw, "getlist") else []
        lists = {"file", "target_formats"}
        data = self.InputSerializer(data={**{k: raw.get(k) for k in raw if k not in lists},
                                          **({"file": files} if files else {}),
                                          **({"target_formats": targets} if targets else {})})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if values.get("target_formats") and not values.get("file"):
            message = _("target_formats solo se admite con `file`.")
            raise ApplicationError(message, code="invalid_target_formats", details={"target_formats": [message]})
        owner = owner_from_request(request, create=True)
        request_fields = {"owner": owner, "target_format": values["target_format"], "quality": values["quality"],
                          "use_credit": values["use_credit"], "transaction_id": values.get("transaction_id"),
                          "webhook_url": values["webhook_url"], "options": values.get("options")}
        if values.get("upload_id"):  # a finished resumable upload (uploads/)
            conversions = sources.source_request("upload_id", values["upload_id"], **request_fields)
        elif values.get("source_url"):  # a file to import from a URL (uploads/)
            conversions = sources.source_request("source_url", values["source_url"], **request_fields)
        else:
            conversions = services.conversion_request(
                uploads=[services.Upload(path=Path(f.temporary_file_path()), name=f.name or "archivo",
                                         size=f.size) for f in values["file"]],
                target_formats=values.get("target_formats"), **request_fields,
            )
        return Response({
            "session_id": str(owner.session.pk) if owner.session else None,
            "batch_id": str(conversions[0].batch_id),
            "conversions": ConversionOutputSerializer(conversions, many=True).data,
        }, status=status.HTTP_202_ACCEPTED)


class ConversionDetailApi(APIView):
    @extend_schema(parameters=[SESSION_PARAM], responses={200: ConversionOutputSerializer})
    def get(self, request, conversion_id):
        conversion = selectors.conversion_get_for_owner(owner=owner_from_request(request),
                                                        conversion_id=conversion_id)
        return Response(ConversionOutputSerializer(conversion).data)


class ConversionAgainApi(APIView):
    """"Convert again to …": a new job from the stored source of one of the caller's conversions."""

    class InputSerializer(serializers.Serializer):
        target_format = serializers.CharField(max_length=16)
        quality = serializers.CharField(max_length=16, required=False,
                                        help_text="default: the earlier conversion's quality")
        use_credit = serializers.BooleanField(required=False, default=False)
        transaction_id = serializers.UUIDField(required=False, allow_null=True)
        session_id = serializers.UUIDField(required=False, allow_null=True)

    @extend_schema(parameters=[SESSION_PARAM, IDEMPOTENCY_KEY_PARAMETER], request=InputSerializer,
                   responses={202: ConvertApi.OutputSerializer})
    @idempotent
    def post(self, request, conversion_id):
        data = self.InputSerializer(data=request.data)  # a bad body is a 400 before any lookup
        data.is_valid(raise_exception=True)
        values = data.validated_data
        owner = owner_from_request(request)
        conversion = selectors.conversion_get_for_owner(owner=owner, conversion_id=conversion_id)
        again = services.conversion_request_again(
            owner=owner, conversion=conversion, target_format=values["target_format"],
            quality=values.get("quality"), use_credit=values["use_credit"],
            transaction_id=values.get("transaction_id"))
        return Response({
            "session_id": str(owner.session.pk) if owner.session else None,
            "batch_id": str(again.batch_id),
            "conversions": ConversionOutputSerializer([again], many=True).data,
        }, status=status.HTTP_202_ACCEPTED)


class ConversionCancelApi(APIView):
    @extend_schema(parameters=[SESSION_PARAM], request=None, responses={200: ConversionOutputSerializer})
    def post(self, request, conversion_id):
        conversion = selectors.conversion_get_for_owner(owner=owner_from_request(request),
                                                        conversion_id=conversion_id)
        conversion = services.conversion_cancel(conversion=conversion)
        return Response(ConversionOutputSerializer(conversion).data)


class ConversionDownloadApi(APIView):
    @extend_schema(parameters=[SESSION_PARAM], responses={(200, "application/octet-stream"): bytes})
    def get(self, request, conversion_id) -> FileResponse:
        conversion = selectors.conversion_get_for_owner(owner=owner_from_request(request),
                                                        conversion_id=conversion_id)
        return downloads.conversion_output_response(conversion)


class BatchDownloadApi(APIView):
    @extend_schema(parameters=[SESSION_PARAM], responses={(200, "application/zip"): bytes})
    def get(self, request, batch_id) -> FileResponse:
        conversions = selectors.conversion_list_for_owner(owner=owner_from_request(request)).filter(
            batch_id=batch_id
        )
        return downloads.batch_zip_response(list(conversions), batch_id=batch_id)


class HistoryApi(APIView):
    @extend_schema(operation_id="conversion_history_list", parameters=[SESSION_PARAM],
                   responses={200: paginated_schema(ConversionOutputSerializer)})
    def get(self, request):
        queryset = selectors.conversion_list_for_owner(owner=owner_from_request(request))
        return paginated_response(request, queryset, ConversionOutputSerializer, view=self)
