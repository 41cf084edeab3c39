"""GET /api/conversion/supported-formats: the seed's shape, plus engine and options per pair and what is missing."""

from __future__ import annotations

import pytest

from conversions import catalog

pytestmark = pytest.mark.django_db

SEED_IMAGES = ["jpg", "png", "gif", "bmp", "tiff", "webp"]


def test_seed_shape_and_counts(api_client):
    body = api_client.get("/api/conversion/supported-formats").json()
    assert set(body["supported_conversions"]) == {"image_to_image", "document_to_document", "audio_to_audio",
                                                  "video_to_video", "complex"}
    assert "jpg->png" in body["supported_conversions"]["image_to_image"]
    assert "docx->pdf" in body["supported_conversions"]["document_to_document"]
    assert "mp4->mp3" in body["supported_conversions"]["complex"]
    assert body["format_categories"]["images"][:6] == SEED_IMAGES
    assert {"images", "documents", "audio", "video"} <= set(body["format_categories"])
    listed = [pair for pairs in body["supported_conversions"].values() for pair in pairs]
    assert body["total_conversions"] == len(listed) == len(set(listed)) == len(body["pairs"]) >= 144
    assert "png" in body["targets"]["jpg"]


def test_every_pair_names_its_engine_and_option_schema(api_client):
    body = api_client.get("/api/conversion/supported-formats").json()
    engines = {name for name in catalog.supported_pairs().values()}
    for key, detail in body["pairs"].items():
        src, dst = key.split("->")
        assert detail["engine"] in engines
        assert detail["engine"] == catalog.engine_name_for(src, dst)
        assert detail["options"] is None or detail["options"] in body["option_schemas"]
        assert src in body["formats"] and dst in body["formats"] and body["formats"][dst]["output"]
    assert body["pairs"]["png->jpg"] == {"engine": "pillow", "options": "image"}
    image = body["option_schemas"]["image"]
    assert image["additionalProperties"] is False
    width = image["properties"]["width"]
    assert (width["type"], width["minimum"], width["maximum"]) == ("integer", 1, 16384) and width["description"]
    assert image["properties"]["strip_metadata"]["default"] is True
    audio = body["option_schemas"][body["pairs"]["wav->mp3"]["options"]]
    assert {"bitrate", "sample_rate", "channels", "trim_start", "trim_end"} == set(audio["properties"])
    assert body["pairs"]["docx->pdf"]["options"] is None
    assert body["formats"]["xlsx" if "xlsx" in body["formats"] else "png"]["category"] in ("document", "image")
    assert [q["name"] for q in body["quality_levels"]] == ["basic", "standard", "high", "premium"]


def test_missing_libreoffice_is_said(api_client, registry_override):
    full = api_client.get("/api/conversion/supported-formats").json()
    registry_override(missing=["libreoffice"])
    body = api_client.get("/api/conversion/supported-formats").json()
    missing = {m["engine"]: m for m in body["missing"]}
    assert "libreoffice" in missing
    offered = {f for fmts in body["format_categories"].values() for f in fmts}
    assert not set(missing["libreoffice"]["formats"]) & offered
    assert all(detail["engine"] != "libreoffice" for detail in body["pairs"].values())
    only_libreoffice = {k for k, d in full["pairs"].items() if d["engine"] == "libreoffice"} - set(body["pairs"])
    assert missing["libreoffice"]["pairs"] == len(only_libreoffice)
    assert body["total_conversions"] == full["total_conversions"] - len(only_libreoffice)


def test_missing_ffmpeg_takes_audio_and_video_away(api_client, registry_override):
    registry_override(missing=["ffmpeg"])
    body = api_client.get("/api/conversion/supported-formats").json()
    assert body["supported_conversions"]["audio_to_audio"] == []
    assert body["format_categories"]["audio"] == [] and body["format_categories"]["video"] == []
    missing = {m["engine"]: m for m in body["missing"]}
    assert {"mp3", "wav", "mp4", "avi"} <= set(missing["ffmpeg"]["formats"])
    assert missing["ffmpeg"]["pairs"] > 100


def test_nothing_missing_when_every_engine_is_there(registry_override):
    from conversions.engines import Engine

    class Tiny(Engine):
        name = "tiny"

        def pairs(self):
            return {("png", "jpg")}

    registry_override(engines=[Tiny()])
    report = catalog.supported_formats_report()
    assert report["missing"] == [] and report["total_conversions"] == 1
    assert report["pairs"] == {"png->jpg": {"engine": "tiny", "options": "image"}}


def test_summary_lines_say_what_is_missing(registry_override):
    registry_override(missing=["ffmpeg"])
    lines = catalog.summary_lines()
    assert lines[0].startswith("Formats: ") and "pillow" in lines[0]
    assert any(line.startswith("Missing engine ffmpeg: would add ") and "mp3" in line for line in lines)


def test_a_missing_codec_package_is_said_and_its_format_absent(api_client, registry_override, monkeypatch):
    """Without pillow-jxl-plugin the Pillow engine still runs: jxl is absent and `missing` names the package."""
    import sys

    from conversions.engines import pillow

    registry_override()  # a fresh registry: pairs are asked again
    body = api_client.get("/api/conversion/supported-formats").json()
    assert "jxl" in body["formats"] and "png->jxl" in body["pairs"] and "pdf->jxl" in body["pairs"]
    assert all(m["engine"] != "pillow-jxl-plugin" for m in body["missing"])

    monkeypatch.setitem(sys.modules, "pillow_jxl", None)  # the import fails as if it were not installed
    monkeypatch.setattr(pillow, "_jxl", {"registered": False})
    registry_override()
    without = api_client.get("/api/conversion/supported-formats").json()
    assert "jxl" not in without["formats"] and not [k for k in without["pairs"] if "jxl" in k]
    missing = {m["engine"]: m for m in without["missing"]}
    lost = {k for k in body["pairs"] if "jxl" in k.split("->")}
    assert missing["pillow-jxl-plugin"] == {"engine": "pillow-jxl-plugin", "kind": "codec", "formats": ["jxl"],
                                            "pairs": len(lost)}
    assert without["total_conversions"] == body["total_conversions"] - len(lost)
    assert "Missing codec pillow-jxl-plugin: would add jxl" in catalog.summary_lines()
