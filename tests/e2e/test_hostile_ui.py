"""Hostile *user* text in the real browser: a question or an upload's name carrying markup is
shown as text and runs nothing (hostile documents: test_ui.test_document_markup_is_shown_as_text).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.chat import ask

pytestmark = pytest.mark.e2e

MARKUP = (
    "<img src=x onerror=\"window.sbPwned='q-img'\"><script>window.sbPwned='q-script'</script>"
    "${window.sbPwned='q-template'} [link](javascript:window.sbPwned='q-md')"
)


def test_question_markup_is_shown_as_text(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, f"Where was the forum held? {MARKUP}")
    question = page.locator("#sb-chat [data-testid=user]").last.inner_text()
    assert "<img src=x onerror=" in question and "<script>" in question
    assert "${window.sbPwned='q-template'}" in question
    page.locator("#sb-chat a[href^='javascript']").wait_for(state="detached")
    assert page.evaluate("window.sbPwned") is None
    assert page.locator("#sb-chat img[src=x], #sb-chat script").count() == 0


def test_oversized_question_is_a_message(page) -> None:  # type: ignore[no-untyped-def]
    reply = ask(page, "why " * 600)
    assert "the limit is 2000" in reply.locator(".sb-error").inner_text()
    assert "Traceback" not in page.content()


def test_upload_with_markup_in_its_name_is_text(page, server) -> None:  # type: ignore[no-untyped-def]
    name = "<img src=x onerror=alert(1)>.exe"
    bad = Path(str(server["root"])) / "named"
    bad.mkdir(exist_ok=True)
    (bad / name).write_bytes(b"MZ")
    page.locator("#sb-upload input[type=file]").set_input_files([str(bad / name)])
    error = page.locator("#sb-status .sb-error")
    error.wait_for()
    # Gradio drops "<" and ">" from uploaded names; what is left is shown as text, inert.
    assert "img src=x onerror=alert(1)" in error.inner_text()
    assert page.locator("#sb-status img").count() == 0
    assert page.evaluate("window.sbPwned") is None


def test_a_hand_made_viewer_link_is_a_user_error(page) -> None:  # type: ignore[no-untyped-def]
    """Regression: offsets that are not numbers showed "Something went wrong on our side
    (ValueError)" and logged a traceback (the server fixture checks its log)."""
    for start, end in (("'abc'", "12"), ("null", "{}"), ("'1e400'", "'x'")):
        page.evaluate(f"window.sbOpen({{source: 'hostile.txt', start: {start}, end: {end}}})")
        error = page.locator("#sb-viewer .sb-error")
        error.wait_for()
        assert "its start and end are not numbers" in error.inner_text()
        assert "on our side" not in error.inner_text()
        page.locator("#sb-new").click()  # back to the placeholder for the next one
        error.wait_for(state="detached")


def test_names_with_control_characters_are_shown_escaped(page, server) -> None:  # type: ignore[no-untyped-def]
    """An upload's name loses its direction override; a file already in the folder with one
    is listed with it escaped (it would reverse the text after it)."""
    page.locator("#sb-upload input[type=file]").set_input_files(
        [{"name": "tide\u202etxt.exe.txt", "mimeType": "text/plain", "buffer": b"Tides.\n"}]
    )
    note = page.locator("#sb-status .sb-note")
    note.wait_for()
    assert note.inner_text() == (
        "tide\\u202etxt.exe.txt is stored as tide_txt.exe.txt: its name held control or "
        "direction characters"
    )
    docs = Path(str(server["docs"]))
    assert (docs / "uploads" / "tide_txt.exe.txt").exists()
    (docs / "kite\u202eLOG.txt").write_text("The kite regatta ends at the lighthouse.\n")
    page.locator("#sb-reingest").click()
    page.locator("#sb-status").get_by_text("1 added").wait_for(timeout=120_000)
    page.locator("#sb-filter input").click()
    page.get_by_role("option", name="kite\\u202eLOG.txt").wait_for()
    assert "\u202e" not in page.locator("body").inner_text()
