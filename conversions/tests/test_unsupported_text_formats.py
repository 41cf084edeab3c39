"""Text under a name outside the catalogue (.json, .xml, .py) is refused, not converted as its source code;
the text formats of the catalogue (.svg, .csv, .md, .html) are accepted as themselves."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversions.models import Conversion

pytestmark = pytest.mark.django_db

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'


@pytest.mark.parametrize("name,content", [("datos.json", b'{"a": [1, 2]}\n'),
                                          ("feed.xml", b"<?xml version='1.0'?><feed><entry/></feed>"),
                                          ("script.py", b"print('hola')\n")])
def test_unsupported_text_format_is_refused_up_front(api_client, name, content, no_worker):
    response = api_client.post("/api/conversion/convert", {"file": [SimpleUploadedFile(name, content)],
                                                           "target_format": "pdf"}, format="multipart")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "unsupported_format" and name in response.json()["error"]
    assert not Conversion.objects.exists()


@pytest.mark.parametrize("name,content,fmt", [("dibujo.svg", SVG, "svg"), ("datos.csv", b"a,b\n1,2\n", "csv"),
                                              ("LEEME.md", b"# Hola\n\n*mundo*\n", "md"),
                                              ("pagina.html", b"<html><body><p>hola</p></body></html>", "html")])
def test_catalogue_text_formats_are_themselves(api_client, name, content, fmt, no_worker):
    target = "png" if fmt == "svg" else "pdf"
    response = api_client.post("/api/conversion/convert", {"file": [SimpleUploadedFile(name, content)],
                                                           "target_format": target}, format="multipart")
    assert response.status_code == 202, response.content
    assert Conversion.objects.get().original_format == fmt


@pytest.mark.parametrize("name", ["notas.txt", "notas", "registro.log"])
def test_plain_text_still_converts(api_client, name, no_worker):
    response = api_client.post("/api/conversion/convert", {"file": [SimpleUploadedFile(name, b"hola mundo\n")],
                                                           "target_format": "pdf"}, format="multipart")
    assert response.status_code == 202, response.content
    assert Conversion.objects.get().original_format == "txt"
