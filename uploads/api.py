"""tus 1.0 endpoints (core, creation, expiration, termination) and, with STORAGE=s3, presigned S3
multipart uploads (create, part URLs / uploaded parts, complete): parse, call the service."""

from __future__ import annotations

import re

from django.conf import settings
from django.urls import reverse
from django.utils.http import http_date
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.abuse import address_bucket, address_hash
from accounts.owners import owner_from_request
from anclora.core.bounds import BIGINT_MAX
from anclora.core.errors import ApplicationError

from . import resumable, s3multipart
from .resumable import TUS_VERSION

TUS_RESUMABLE = OpenApiParameter("Tus-Resumable", str, OpenApiParameter.HEADER, required=True, enum=[TUS_VERSION],
                                 description="tus protocol version")
BYTES = {"type": "integer", "minimum": 0, "maximum": BIGINT_MAX}
UPLOAD_OFFSET = OpenApiParameter("Upload-Offset", BYTES, OpenApiParameter.HEADER, required=True,
                                 description="bytes already received (from HEAD); must match, else 409")
UPLOAD_LENGTH = OpenApiParameter("Upload-Length", BYTES, OpenApiParameter.HEADER, required=True,
                                 description="the whole file's size in bytes; above the plan's limit → 413")
UPLOAD_METADATA = OpenApiParameter(
    "Upload-Metadata", {"type": "string", "maxLength": 4096}, OpenApiParameter.HEADER, required=False,
    description="`key base64(value)` pairs, comma-separated: `filename`, and `use_credit` / `transaction_id` "
                "when the file needs the larger limit they give",
)
SESSION = OpenApiParameter("session_id", str, description="anonymous session (or X-Session-Id)")


class OffsetOctetStreamParser(BaseParser):
    """Leaves the body unread: the view streams it to disk."""

    media_type = "application/offset+octet-stream"

    def parse(self, stream, media_type=None, parser_context=None):
        return {}


class UploadOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    upload_url = serializers.CharField(max_length=255)
    filename = serializers.CharField(max_length=255)
    length = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
    offset = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
    complete = serializers.BooleanField()
    expires_at = serializers.DateTimeField()
    session_id = serializers.UUIDField(allow_null=True)
    backend = serializers.ChoiceField(choices=["tus", "s3"], help_text="`s3`: parts go to presigned URLs")
    part_size = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX, required=False,
                                         help_text="S3 uploads: bytes of every part but the last")
    part_count = serializers.IntegerField(min_value=1, max_value=s3multipart.S3_MAX_PARTS, required=False)


def _tus_headers(response, upload=None):
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    if upload is not None:
        response["Upload-Offset"] = str(upload.offset)
        response["Upload-Length"] = str(upload.length)
        response["Upload-Expires"] = http_date(upload.expires_at.timestamp())
    return response


def _check_version(request):
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise ApplicationError(_("Versión del protocolo tus no admitida (se admite %(v)s).") % {"v": TUS_VERSION},
                               code="tus_version", status=412, details={"Tus-Resumable": [TUS_VERSION]})


HEADER_NUMBER = re.compile(r"[0-9]{1,18}")


def _header_number(name: str, value: str) -> int:
    """A header number is 1-18 ASCII digits (`"²".isdigit()` is true in Python; `int("²")` raises)."""
    if not HEADER_NUMBER.fullmatch(value):
        raise ApplicationError(_("La cabecera %(name)s debe ser un entero no negativo.") % {"name": name},
                               code="invalid_header", details={name: [value[:32]]})
    return int(value)


def _int_header(request, name) -> int:
    return _header_number(name, request.headers.get(name, ""))


def _body_stream(request):
    """(stream, declared length) of a PATCH body.

    With Content-Length: Django's own stream, bounded by it. Without it, only a server that decodes a
    chunked body and marks where it ends (`wsgi.input_terminated`: gunicorn) can give the bytes;
    Django's dev server cannot (it would read nothing and leave the chunks on the socket), so there
    the answer is 411 rather than a silent 204 with the bytes lost."""
    environ = request._request.META
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared:
        return request._request, _header_number("Content-Length", declared)
    if environ.get("wsgi.input_terminated") and "wsgi.input" in environ:
        return environ["wsgi.input"], None
    raise ApplicationError(_("Falta la cabecera Content-Length: envía el fragmento con su longitud."),
                           code="length_required", status=411, details={"Content-Length": [""]})


def _body(upload, owner):
    body = {"id": str(upload.pk), "upload_url": reverse("api:uploads:detail", args=[upload.pk]),
            "filename": upload.filename, "length": upload.length, "offset": upload.offset,
            "complete": upload.is_complete, "expires_at": serializers.DateTimeField().to_representation(
                upload.expires_at),
            "session_id": str(owner.session.pk) if owner and owner.session and not owner.user else None,
            "backend": upload.backend}
    if upload.backend == upload.Backend.S3:
        body.update(part_size=upload.part_size, part_count=s3multipart.part_count(upload))
    return body


class UploadCreateApi(APIView):
    parser_classes = [OffsetOctetStreamParser]

    def options(self, request, *args, **kwargs):
        response = Response(status=status.HTTP_204_NO_CONTENT)
        response["Tus-Version"] = TUS_VERSION
        response["Tus-Extension"] = "creation,expiration,termination"
        response["Tus-Max-Size"] = str(settings.MAX_UPLOAD_MB * 1024 * 1024)
        return _tus_headers(response)

    @extend_schema(operation_id="uploads_create", parameters=[TUS_RESUMABLE, UPLOAD_LENGTH, UPLOAD_METADATA, SESSION],
                   request=None, responses={201: UploadOutputSerializer},
                   description="tus creation: an empty upload of Upload-Length bytes; `Location` is its URL. "
                               "Expires after RESUMABLE_UPLOAD_EXPIRE_HOURS unless converted. Past the caps on "
                               "open uploads (UNFINISHED_UPLOADS_*: per owner and per client address, count and "
                               "reserved bytes): 429 with Retry-After, nothing reserved.")
    def post(self, request):
        _check_version(request)
        length = _int_header(request, "Upload-Length")
        metadata = resumable.parse_metadata(request.headers.get("Upload-Metadata", "")[:4096])
        owner = owner_from_request(request, create=True)
        upload = resumable.upload_create(owner=owner, length=length, metadata=metadata,
                                         address_key=address_hash(address_bucket(request), "uploads"))
        response = Response(_body(upload, owner), status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(reverse("api:uploads:detail", args=[upload.pk]))
        if owner.session and not owner.user:
            response["X-Session-Id"] = str(owner.session.pk)
        return _tus_headers(response, upload)


class UploadDetailApi(APIView):
    parser_classes = [OffsetOctetStreamParser]

    @extend_schema(operation_id="uploads_retrieve", parameters=[SESSION], responses={200: UploadOutputSerializer},
                   description="The upload's state as JSON (tus clients use HEAD: Upload-Offset, Upload-Length).")
    def get(self, request, upload_id):
        owner = owner_from_request(request)
        upload = resumable.upload_get_for_owner(owner=owner, upload_id=upload_id)
        return _tus_headers(Response(_body(upload, owner)), upload)

    def head(self, request, upload_id):
        owner = owner_from_request(request)
        try:
            upload = resumable.upload_get_for_owner(owner=owner, upload_id=upload_id)
        except ApplicationError as exc:
            return _tus_headers(Response(status=exc.status))
        return _tus_headers(Response(status=status.HTTP_200_OK), upload)

    @extend_schema(operation_id="uploads_append", parameters=[TUS_RESUMABLE, UPLOAD_OFFSET, SESSION],
                   request={"application/offset+octet-stream": OpenApiTypes.BINARY},
                   responses={204: OpenApiResponse(description="appended; Upload-Offset is the new offset")},
                   description="Append bytes at Upload-Offset (409 if it is not the stored offset, 409 "
                               "`upload_locked` while another PATCH of the upload is in flight, 413 beyond "
                               "Upload-Length or RESUMABLE_UPLOAD_CHUNK_MAX_MB, 410 once expired, 411 without "
                               "Content-Length unless the server decodes a chunked body). One PATCH lasts at most "
                               "RESUMABLE_UPLOAD_PATCH_DEADLINE_SECONDS: then what arrived is kept and the answer "
                               "is 204 with the new Upload-Offset. After a dropped connection, HEAD gives the "
                               "offset to resume from.")
    def patch(self, request, upload_id):
        _check_version(request)
        if request.content_type.split(";")[0].strip() != OffsetOctetStreamParser.media_type:
            raise ApplicationError(_("El cuerpo debe ser application/offset+octet-stream."),
                                   code="unsupported_media_type", status=415)
        offset = _int_header(request, "Upload-Offset")
        owner = owner_from_request(request)
        stream, declared = _body_stream(request)
        upload = resumable.upload_append(owner=owner, upload_id=upload_id, offset=offset, stream=stream,
                                         content_length=declared,
                                         client_socket=resumable.client_socket_of(request._request.META))
        return _tus_headers(Response(status=status.HTTP_204_NO_CONTENT), upload)

    @extend_schema(operation_id="uploads_destroy", parameters=[TUS_RESUMABLE, SESSION], request=None,
                   responses={204: OpenApiResponse(description="deleted (tus termination)")})
    def delete(self, request, upload_id):
        _check_version(request)
        resumable.upload_delete(owner=owner_from_request(request), upload_id=upload_id)
        return _tus_headers(Response(status=status.HTTP_204_NO_CONTENT))


# --- S3 presigned multipart uploads (STORAGE=s3) -------------------------------------------------

class S3UploadCreateInputSerializer(serializers.Serializer):
    filename = serializers.CharField(max_length=255)
    length = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX, help_text="the whole file, in bytes")
    use_credit = serializers.BooleanField(default=False)
    transaction_id = serializers.UUIDField(required=False, allow_null=True)


class PartNumbersInputSerializer(serializers.Serializer):
    part_numbers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=s3multipart.S3_MAX_PARTS),
        min_length=1, max_length=s3multipart.MAX_URLS_PER_REQUEST)


class PartUrlSerializer(serializers.Serializer):
    part_number = serializers.IntegerField(min_value=1, max_value=s3multipart.S3_MAX_PARTS)
    method = serializers.CharField(max_length=8)
    size = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX, help_text="the part's exact size")
    url = serializers.CharField(max_length=4096)


class PartUrlsOutputSerializer(serializers.Serializer):
    parts = PartUrlSerializer(many=True)
    expires_in = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)


class UploadedPartSerializer(serializers.Serializer):
    part_number = serializers.IntegerField(min_value=1, max_value=s3multipart.S3_MAX_PARTS)
    size = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
    etag = serializers.CharField(max_length=128)


class UploadedPartsOutputSerializer(serializers.Serializer):
    upload = UploadOutputSerializer()
    parts = UploadedPartSerializer(many=True)
    received = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)


class S3UploadCreateApi(APIView):
    @extend_schema(operation_id="uploads_s3_create", parameters=[SESSION], request=S3UploadCreateInputSerializer,
                   responses={201: UploadOutputSerializer},
                   description="STORAGE=s3 only (else 409 `s3_uploads_unavailable`): open an S3 multipart upload "
                               "of `length` bytes (above the plan's limit → 413). The answer fixes `part_size` and "
                               "`part_count`; then ask for part URLs, PUT the parts, complete, and convert with "
                               "`upload_id`. Same caps on open uploads as tus creation (429 with Retry-After).")
    def post(self, request):
        data = S3UploadCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        owner = owner_from_request(request, create=True)
        upload = s3multipart.multipart_create(owner=owner, **data.validated_data,
                                              address_key=address_hash(address_bucket(request), "uploads"))
        response = Response(_body(upload, owner), status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(reverse("api:uploads:detail", args=[upload.pk]))
        if owner.session and not owner.user:
            response["X-Session-Id"] = str(owner.session.pk)
        return response


class S3UploadPartsApi(APIView):
    @extend_schema(operation_id="uploads_s3_parts", parameters=[SESSION],
                   responses={200: UploadedPartsOutputSerializer},
                   description="The parts S3 already holds (number, size, ETag): after a dropped connection, "
                               "send only the others.")
    def get(self, request, upload_id):
        owner = owner_from_request(request)
        upload, parts = s3multipart.multipart_parts(owner=owner, upload_id=upload_id)
        return Response({"upload": _body(upload, owner), "parts": parts,
                         "received": sum(p["size"] for p in parts)})

    @extend_schema(operation_id="uploads_s3_part_urls", parameters=[SESSION], request=PartNumbersInputSerializer,
                   responses={200: PartUrlsOutputSerializer},
                   description="Presigned `PUT` URLs (valid S3_UPLOAD_URL_EXPIRE_SECONDS) for up to 100 parts; "
                               "PUT each part's exact bytes (`size`) to its URL, no other header needed.")
    def post(self, request, upload_id):
        data = PartNumbersInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        parts = s3multipart.multipart_part_urls(owner=owner_from_request(request), upload_id=upload_id,
                                                part_numbers=data.validated_data["part_numbers"])
        return Response({"parts": parts, "expires_in": settings.S3_UPLOAD_URL_EXPIRE_SECONDS})


class S3UploadCompleteApi(APIView):
    @extend_schema(operation_id="uploads_s3_complete", parameters=[SESSION], request=None,
                   responses={200: UploadOutputSerializer},
                   description="Complete from S3's own list of parts: a missing part, or one of the wrong size, "
                               "is 409 `upload_parts_invalid` (`details.missing`, `details.wrong_size`) and the "
                               "upload stays open. Idempotent.")
    def post(self, request, upload_id):
        owner = owner_from_request(request)
        upload = s3multipart.multipart_complete(owner=owner, upload_id=upload_id)
        return Response(_body(upload, owner))
