"""Real-world files other projects ship as test data (../shared/corpus, see its MANIFEST.tsv).

Every file goes through the real API: a supported, intact file converts; a broken or unsupported
one gets a clear 4xx or a failed job with a message — never a 500, never a hang. The folder is
read in place (never copied into the project); without it this group says so and skips.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from conversions.catalog import canonical, category_of
from conversions.models import Conversion

CORPUS = Path(os.environ.get("ANCLORA_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
MANIFEST = CORPUS / "MANIFEST.tsv"
# A WAV with a header and no samples is valid (it converts to an empty file), though the corpus files it as broken;
# a PDF whose "%PDF-" follows 4 junk bytes is a PDF to every reader (issue 12: detected as PDF, not as text).
VALID_DESPITE_FOLDER = {"broken/pydub_test1_empty_header-only.wav", "broken/paperless_invalid_pdf_leading-junk.pdf"}
TARGET_BY_CATEGORY = {"image": "png", "document": "pdf", "audio": "wav", "video": "mp4"}
ALT_TARGET = {"png": "jpg", "pdf": "txt", "wav": "mp3", "mp4": "avi"}


# Files the corpus gained for the third stage whose format we cannot read yet: each fails cleanly today
# (a failed job with a message); strict, so the day it converts this list must lose it.
NOT_YET = {
    "images/tinydng_colorchart.dng": "camera RAW (a CFA DNG) needs a RAW decoder (rawpy): issue 21",
}
# Codes of a refusal that names the protection (a password-protected input given without its password).
PROTECTED_CODES = {"encrypted_pdf", "encrypted_document", "encrypted_archive", "password_required"}


def _rows():
    if not MANIFEST.exists():
        return [pytest.param(None, marks=pytest.mark.skip(
            reason=f"CORPUS FOLDER ABSENT: {CORPUS} — the real-world file tests did not run"))]
    with open(MANIFEST, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [pytest.param(row, id=row["path"], marks=[pytest.mark.xfail(reason=NOT_YET[row["path"]], strict=True)]
                         if row["path"] in NOT_YET else []) for row in rows]


def _protected(row) -> bool:
    """The MANIFEST says the file needs a password (its notes, in the last column)."""
    notes = " ".join(str(value) for value in row.values()).lower()
    return "password" in notes or "encrypted" in notes


pytestmark = [pytest.mark.corpus, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("row", _rows())
def test_corpus_file_converts_or_is_refused_cleanly(row):
    path = CORPUS / row["path"]
    claimed = canonical(path.suffix)
    target = TARGET_BY_CATEGORY.get(category_of(claimed) or "", "pdf")
    if claimed == target:
        target = ALT_TARGET[target]
    client = APIClient()
    resp = client.post("/api/conversion/convert",
                       {"file": [SimpleUploadedFile(path.name, path.read_bytes())], "target_format": target},
                       format="multipart")
    assert resp.status_code < 500, resp.content[:500]
    if resp.status_code != 202:
        body = resp.json()
        assert body["error"] and body["code"], body
        outcome = f"{resp.status_code} {body['code']}"
    else:
        conversion = Conversion.objects.get(pk=resp.json()["conversions"][0]["id"])
        assert conversion.status in ("completed", "failed"), conversion.status
        if conversion.status == "failed":
            assert conversion.error_message
        outcome = conversion.status
    print(f"CORPUS {row['path']} -> {target}: {outcome}")

    broken = row["path"].startswith("broken/") and row["path"] not in VALID_DESPITE_FOLDER
    if broken:
        assert outcome != "completed", "a broken file must be refused or fail with a message"
    elif _protected(row):
        assert outcome != "completed", "a protected file given without its password cannot convert"
        code = body["code"] if resp.status_code != 202 else conversion.error_code
        assert code in PROTECTED_CODES, f"the refusal names the protection, not {code}"
    elif claimed is None and resp.status_code != 202:
        assert resp.status_code in (400, 415), "a format outside the catalogue is refused up front"
    else:
        # A name outside the catalogue that is accepted (.docm, .xlsm, .ppsx, .dotx, .apng …) was judged by
        # its content and must convert as what it is: a macro Word file as a DOCX (macros never run).
        assert outcome == "completed", f"an intact {claimed or path.suffix} must convert to {target}"
        from django.core.files.storage import default_storage

        from conversions.detection import detect_format

        output = Conversion.objects.select_related("output").get(pk=resp.json()["conversions"][0]["id"]).output
        local = Path(default_storage.path(output.storage_name))
        assert detect_format(local) == target or (target, detect_format(local)) in {("mp4", "mov")}
