"""Text in a format outside the catalogue (.svg, .csv, .md, .html) is refused, not converted as its source code."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversions.models import Conversion

pytestmark = pytest.mark.django_db

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'


@pytest.mark.parametrize("name,content", [("dibujo.svg", SVG), ("datos.csv", b"a,b\n1,2\n"),
                                          ("LEEME.md", b"# Hola\n\n*mundo*\n"),
                                          ("pagina.html", b"<html><body><p>hola</p></body></html>")])
def test_unsupported_text_format_is_refused_up_front(api_client, name, content, no_worker):
    response = api_client.post("/api/conversion/convert", {"file": [SimpleUploadedFile(name, content)],
                                                           "target_format": "pdf"}, format="multipart")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "unsupported_format" and name in response.json()["error"]
    assert not Conversion.objects.exists()


@pytest.mark.parametrize("name", ["notas.txt", "notas", "registro.log"])
def test_plain_text_still_converts(api_client, name, no_worker):
    response = api_client.post("/api/conversion/convert", {"file": [SimpleUploadedFile(name, b"hola mundo\n")],
                                                           "target_format": "pdf"}, format="multipart")
    assert response.status_code == 202, response.content
