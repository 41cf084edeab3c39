"""The catalogue is the one source of formats, quality levels, supported pairs and options."""

from __future__ import annotations

import pytest

from conversions import catalog
from conversions.catalog import options as opts
from conversions.engines import Engine, Registry

pytestmark = pytest.mark.django_db


# --- formats -------------------------------------------------------------------------------------
def test_every_format_has_family_category_mime_and_extension():
    names = set(catalog.ALL_FORMATS)
    assert len(names) == len(catalog.FORMATS) >= 40
    for f in catalog.FORMATS:
        assert f.family in catalog.FAMILIES
        assert f.category in catalog.PRICING_CATEGORIES
        assert f.mime and all("/" in m for m in f.mime)
        assert f.extension == f.name == catalog.canonical(f.name)
        assert catalog.CONTENT_TYPES[f.name] == f.mime[0]
        for alias in f.aliases:
            assert alias not in names and catalog.canonical(alias) == f.name
    families = [f.family for f in catalog.FORMATS]
    assert set(families) == set(catalog.FAMILIES)


@pytest.mark.parametrize("name, expected", [
    ("JPEG", "jpg"), (".tif", "tiff"), ("heif", "heic"), ("mpg", "mpeg"), ("htm", "html"),
    ("m4a", "m4a"), ("m4v", "m4v"), ("aif", "aiff"), ("markdown", "md"), ("exe", None), ("", None), (None, None),
])
def test_canonical_names(name, expected):
    assert catalog.canonical(name) == expected


def test_new_families_price_as_their_category():
    assert catalog.family_of("xlsx") == "spreadsheets" and catalog.category_of("xlsx") == "document"
    assert catalog.family_of("pptx") == "presentations" and catalog.category_of("odp") == "document"
    assert catalog.family_of("epub") == "ebooks" and catalog.category_of("epub") == "document"
    assert catalog.category_of("m4a") == "audio" and catalog.category_of("webm") == "video"
    assert catalog.conversion_type("xlsx", "pdf") == "document_to_document"
    assert catalog.conversion_type("heic", "jpg") == "image_to_image"
    assert catalog.conversion_type("mkv", "m4a") == "complex"
    assert not catalog.is_output("svg") and not catalog.is_output("doc") and catalog.is_output("png")


# --- quality levels: one list everywhere ----------------------------------------------------------
def test_quality_levels_have_one_source():
    from billing import pricing
    from conversions.forms import QUALITY_CHOICES
    from conversions.models import Conversion

    names = [level.name for level in catalog.QUALITY_LEVELS]
    assert [value for value, _label in Conversion.Quality.choices] == names
    assert [str(label) for _value, label in Conversion.Quality.choices] == [lv.label for lv in catalog.QUALITY_LEVELS]
    assert [value for value, _label in QUALITY_CHOICES] == names
    assert pricing.QUALITY_MULTIPLIERS == catalog.quality_multipliers()
    assert list(pricing.QUALITY_MULTIPLIERS) == names


# --- pairs: one answer ---------------------------------------------------------------------------
class ClaimsEverything(Engine):
    name, priority = "greedy", 1

    def pairs(self):
        return {("png", "svg"), ("png", "jpg"), ("png", "png"), ("exe", "png")}


def test_pairs_keep_only_known_sources_and_producible_targets():
    pairs = catalog.supported_pairs(Registry([ClaimsEverything()]))
    assert pairs == {("png", "jpg"): "greedy"}


def test_pair_support_is_the_same_for_conversions_and_prices(registry_override, api_client):
    assert catalog.pair_supported("wav", "mp3")
    registry_override(missing=["ffmpeg"])
    assert not catalog.pair_supported("wav", "mp3")
    response = api_client.post("/api/payments/estimate", {"source_format": "wav", "target_format": "mp3",
                                                           "file_size_mb": 1, "quality": "standard"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "unsupported_pair"
    assert api_client.post("/api/payments/estimate", {"source_format": "png", "target_format": "jpg",
                                                      "file_size_mb": 1, "quality": "standard"},
                           format="json").status_code == 200


# --- option schemas and validation ----------------------------------------------------------------
def test_option_groups_by_pair():
    assert catalog.options_for("png", "jpg").group == "image"
    assert catalog.options_for("png", "pdf").group == "image"
    assert catalog.options_for("pdf", "png").group == "pages"
    assert catalog.options_for("mp4", "mp3").group == "audio"
    assert catalog.options_for("wav", "flac").group == "audio"
    assert catalog.options_for("avi", "mp4").group == "video"
    assert catalog.options_for("docx", "pdf") is None


def test_codec_choices_follow_the_container_and_the_encoders():
    assert opts.pair_options("avi", "webm", ["h264", "vp9", "av1"]).codecs == ("vp9", "av1")
    assert opts.pair_options("avi", "mp4", ["h264", "h265"]).codecs == ("h264", "h265")
    # One possible codec (or none known): nothing to choose, no codec option.
    only = opts.pair_options("avi", "mp4", ["h264"])
    assert only.codecs == () and "codec" not in {o.name for o in only.options()}
    assert opts.pair_options("mp4", "avi", ["h264", "h265"]).codecs == ()


def test_validate_coerces_and_fills_defaults():
    image = opts.pair_options("png", "jpg")
    assert opts.validate(image, {"width": "320", "strip_metadata": "false"}) == {
        "width": 320, "fit": "contain", "strip_metadata": False, "background": "#ffffff"}
    audio = opts.pair_options("wav", "mp3")
    assert opts.validate(audio, {"trim_start": "0.5", "trim_end": 2, "channels": 1}) == {
        "trim_start": 0.5, "trim_end": 2.0, "channels": 1}
    pages = opts.pair_options("pdf", "png")
    assert opts.validate(pages, {"pages": "1-3, 5", "dpi": 150}) == {"pages": "1-3, 5", "dpi": 150}
    assert opts.parse_pages("1-3, 5,2") == [1, 2, 3, 5]


@pytest.mark.parametrize("pair, raw, bad", [
    (("png", "jpg"), {"width": 0}, "width"),
    (("png", "jpg"), {"width": 1.5}, "width"),
    (("png", "jpg"), {"height": 99999}, "height"),
    (("png", "jpg"), {"fit": "stretch"}, "fit"),
    (("png", "jpg"), {"background": "red"}, "background"),
    (("png", "jpg"), {"strip_metadata": "maybe"}, "strip_metadata"),
    (("png", "jpg"), {"bitrate": 128}, "bitrate"),
    (("png", "jpg"), {"colour": "#fff"}, "colour"),
    (("pdf", "png"), {"pages": "1;2"}, "pages"),
    (("pdf", "png"), {"pages": "3-1"}, "pages"),
    (("pdf", "png"), {"dpi": 5000}, "dpi"),
    (("wav", "mp3"), {"sample_rate": 12345}, "sample_rate"),
    (("wav", "mp3"), {"channels": 6}, "channels"),
    (("wav", "mp3"), {"trim_start": 5, "trim_end": 2}, "trim_end"),
    (("wav", "mp3"), {"trim_start": "nan"}, "trim_start"),
    (("wav", "mp3"), {"bitrate": True}, "bitrate"),
    (("avi", "mp4"), {"fps": 1000}, "fps"),
    (("docx", "pdf"), {"width": 10}, "width"),
])
def test_validate_names_the_bad_option(pair, raw, bad):
    with pytest.raises(catalog.OptionError) as info:
        opts.validate(opts.pair_options(*pair, ["h264", "h265"]), raw)
    assert info.value.name == bad


def test_openapi_schema_covers_every_option():
    schema = opts.openapi_schema()
    names = {o.name for group in opts.GROUPS.values() for o in group}
    assert set(schema["properties"]) == names and schema["additionalProperties"] is False
    assert schema["properties"]["width"]["maximum"] == 16384  # the widest bound of image and video
    assert set(schema["properties"]["codec"]["enum"]) == {"h264", "h265", "vp9", "av1"}


def test_api_schema_documents_the_options(api_client):
    body = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    convert = body["paths"]["/api/conversion/convert"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert convert["encoding"]["options"]["contentType"] == "application/json"
    ref = convert["schema"]["$ref"].rsplit("/", 1)[-1]
    options = body["components"]["schemas"][ref]["properties"]["options"]
    assert {"width", "trim_end", "codec", "mute", "pages"} <= set(options["properties"])


def test_every_engine_has_parameters_for_exactly_the_catalogue_levels():
    from conversions.engines.registry import default_engines

    for engine in default_engines():
        if engine.QUALITY:
            assert set(engine.QUALITY) == set(catalog.QUALITY_NAMES), engine.name
