"""``@idempotent`` on an APIView method: the Idempotency-Key header, scoped to the caller."""

from __future__ import annotations

import functools
import hashlib
import json

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.owners import session_id_from_request
from anclora.core.errors import ApplicationError

from . import services

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER, {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[!-~]+$"},
    OpenApiParameter.HEADER, required=False,
    description=(
        "Repetir la petición con la misma clave (y el mismo cuerpo) devuelve la misma respuesta sin repetir "
        "el trabajo; con otro cuerpo, 409 idempotency_conflict. Se recuerda 24 h, por usuario o sesión. / "
        "Retrying with the same key and body answers the stored response without doing the work again; "
        "another body is 409 idempotency_conflict. Kept 24 h, per user or anonymous session. "
        "1-255 printable ASCII characters."),
)


def _file_digest(upload: UploadedFile) -> dict:
    sha = hashlib.sha256()
    for chunk in upload.chunks():
        sha.update(chunk)
    upload.seek(0)
    return {"name": upload.name, "size": upload.size, "sha256": sha.hexdigest()}


def _canonical(value):
    if isinstance(value, UploadedFile):
        return _file_digest(value)
    if hasattr(value, "lists"):  # QueryDict / MultiValueDict: every value of every field
        return {str(k): [_canonical(v) for v in vs] for k, vs in sorted(value.lists())}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def request_fingerprint(request) -> str:
    body = {"method": request.method, "path": request.path, "query": _canonical(request.query_params),
            "data": _canonical(request.data)}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _owner_key(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        ident = f"user:{user.pk}"
    else:
        session_id = session_id_from_request(request)
        if not session_id:
            raise ApplicationError(
                _("Idempotency-Key necesita saber quién llama: inicia sesión o envía tu session_id."),
                code="idempotency_caller_unknown", status=400)
        ident = f"session:{str(session_id).strip().lower()[:64]}"
    return hashlib.sha256(ident.encode()).hexdigest()


def _valid_key(raw: str) -> str:
    if not (0 < len(raw) <= MAX_KEY_LENGTH) or not all(33 <= ord(c) <= 126 for c in raw):
        raise ApplicationError(
            _("Idempotency-Key debe tener entre 1 y 255 caracteres ASCII imprimibles, sin espacios."),
            code="invalid_idempotency_key", status=400)
    return raw


def _over_upload_cap(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.MAX_UPLOAD_MB * 1024 * 1024


def idempotent(view_method):
    """Wrap a view's post(): with an Idempotency-Key header, the work happens once per caller and key."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        raw = request.headers.get(HEADER)
        if raw is None or _over_upload_cap(request):
            return view_method(self, request, *args, **kwargs)  # (over the cap: the view's 413, unread)
        key = _valid_key(raw)
        claim = services.idempotency_claim(owner_key=_owner_key(request), key=key,
                                           request_hash=request_fingerprint(request))
        if claim.replay:
            return Response(claim.record.response_json, status=claim.record.response_status,
                            headers={"Idempotent-Replayed": "true"})
        try:
            response = view_method(self, request, *args, **kwargs)
        except BaseException:
            services.idempotency_release(record=claim.record)
            raise
        if response.status_code >= 400 or not isinstance(response, Response):
            services.idempotency_release(record=claim.record)
            return response
        stored = json.loads(JSONRenderer().render(response.data) or b"null")
        services.idempotency_complete(record=claim.record, response_status=response.status_code,
                                      response_json=stored)
        return response

    return wrapper
