"""The API's JSON parser: a size and a nesting-depth limit checked before `json.loads`.

Python's json module recurses once per nesting level, so a body nested ~1,000 levels deep
raises RecursionError (a 500). The depth is measured here without recursion: escapes and
string contents are cut out with linear regular expressions, then the running count of
brackets is taken in C (`itertools.accumulate`). A body larger than the limit is refused
from its Content-Length, or after reading one byte past the limit, never read whole.
"""

from __future__ import annotations

import codecs
import json
import re
from itertools import accumulate

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings

DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_MAX_DEPTH = 32

_ESCAPE = re.compile(r"\\.", re.DOTALL)
_STRING = re.compile(r'"[^"]*"')  # after the escapes are gone a string holds no quote
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DELTA = {"[": 1, "{": 1, "]": -1, "}": -1}


class RequestBodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def max_bytes() -> int:
    return int(getattr(settings, "API_JSON_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_depth() -> int:
    return int(getattr(settings, "API_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of a JSON text nest (0 for a scalar), iteratively.

    Invalid JSON may give a wrong number, but then `json.loads` refuses it anyway."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", _ESCAPE.sub("", text)))
    if not brackets:
        return 0
    return max(0, max(accumulate(map(_DELTA.__getitem__, brackets))))


def _too_large(limit: int) -> RequestBodyTooLarge:
    return RequestBodyTooLarge(
        _("El cuerpo JSON supera el tamaño máximo de %(kb)d KB.") % {"kb": limit // 1024}
    )


class BoundedJSONParser(JSONParser):
    """DRF's JSONParser with a size limit (413) and a nesting-depth limit (400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = max_bytes()
        request = parser_context.get("request")
        if request is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                raise _too_large(limit)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise _too_large(limit)
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(_("El cuerpo no es JSON válido: %(error)s") % {"error": exc}) from None
        depth_limit = max_depth()
        if text.count("[") + text.count("{") > depth_limit and json_depth(text) > depth_limit:
            raise ParseError(
                _("El JSON anida más de %(max)d niveles.") % {"max": depth_limit}, code="json_too_deep"
            )
        strict = getattr(self, "strict", api_settings.STRICT_JSON)
        try:
            return json.loads(text, parse_constant=_reject_constant if strict else None)
        except (ValueError, RecursionError) as exc:
            raise ParseError(_("El cuerpo no es JSON válido: %(error)s") % {"error": exc}) from None


def _reject_constant(value):
    raise ValueError(f'Out of range float values are not JSON compliant: "{value}"')
