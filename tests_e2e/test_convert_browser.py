import pytest

from conversions.tests import enginefiles

from .conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def files(tmp_path):
    return {
        "foto.jpg": enginefiles.make_image(tmp_path / "foto.jpg", "jpg", size=(320, 240)),
        "carta.docx": enginefiles.make_office(tmp_path / "carta.docx", "docx"),
        "cancion.mp3": enginefiles.make_audio(tmp_path / "cancion.mp3", "mp3"),
    }


@pytest.mark.parametrize("name,target,magic", [("foto.jpg", "webp", (8, b"WEBP")),
                                               ("carta.docx", "pdf", (0, b"%PDF")),
                                               ("cancion.mp3", "wav", (8, b"WAVE"))])
def test_drop_convert_download(page, files, name, target, magic):
    page.goto("/")
    page.set_input_files("#id_file", str(files[name]))
    page.get_by_text(f"Detectado: {name.split('.')[1].upper()}").wait_for()
    options = page.eval_on_selector_all("#id_target_format option", "els => els.map(e => e.value)")
    assert target in options and name.split(".")[1] not in options
    page.select_option("#id_target_format", target)
    page.get_by_role("button", name="Convertir").click()
    page.locator("#result-list .status-completed").wait_for(timeout=60000)
    assert page.locator("#upload-bar").get_attribute("value") == "100"
    shot(page, f"convert-{target}")
    with page.expect_download() as info:
        page.locator("#result-list a.button").click()
    data = open(info.value.path(), "rb").read()
    offset, expected = magic
    assert data[offset:offset + len(expected)] == expected
    assert info.value.suggested_filename == f"{name.split('.')[0]}.{target}"


def test_wrong_content_shows_error_in_words(page, tmp_path):
    fake = tmp_path / "informe.pdf"
    fake.write_bytes(enginefiles.make_image(tmp_path / "x.png", "png").read_bytes())
    page.goto("/")
    page.set_input_files("#id_file", str(fake))
    page.get_by_text("Detectado: PNG").wait_for()
    page.get_by_role("button", name="Convertir").click()
    error = page.locator("#form-error")
    error.wait_for()
    assert "no coincide" in error.inner_text()
    shot(page, "convert-error")


def test_conversions_survive_reload_and_move_into_new_account(page, files):
    page.goto("/")
    page.set_input_files("#id_file", str(files["foto.jpg"]))
    page.get_by_text("Detectado: JPG").wait_for()
    page.select_option("#id_target_format", "png")
    page.get_by_role("button", name="Convertir").click()
    page.locator("#result-list .status-completed").wait_for()
    page.goto("/conversions/")
    assert page.get_by_text("foto.jpg").is_visible()
    page.goto("/signup/")
    page.get_by_label("Correo electrónico").fill("adopta@example.com")
    page.get_by_label("Contraseña").fill("Anclora-2026x")
    page.get_by_role("button", name="Crear cuenta").click()
    page.get_by_text("se han movido a tu cuenta").wait_for()
    page.goto("/conversions/")
    assert page.get_by_text("foto.jpg").is_visible()
    shot(page, "adopted")
