"""The chat window in a real browser (Debian's chromium, Playwright) against `sourcebook serve`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.chat import FORUM, LAPTOP, PHONE, WORLD_CUP, ask, shoot

pytestmark = pytest.mark.e2e


def test_question_gets_a_cited_answer(page) -> None:  # type: ignore[no-untyped-def]
    assert page.locator("#sb-chat").get_by_text(FORUM).count() == 1, "example questions shown"
    reply = ask(page, FORUM)
    assert "Forum" in reply.locator(".sb-answer").inner_text()  # answer quality is tested elsewhere
    assert reply.locator("a.sb-ref").count() >= 1, "[n] markers link to sources"
    first = reply.locator("li.sb-source").first
    assert "Dushanbe" in reply.locator(".sb-answer").inner_text()
    assert ".txt" in first.inner_text()  # the cited document, by file name
    assert "score" in first.inner_text()
    assert page.locator("#sb-status").get_by_text("all-MiniLM-L6-v2").count() == 1
    shoot(page, "answer")


def test_source_opens_with_the_quote_highlighted(page) -> None:  # type: ignore[no-untyped-def]
    reply = ask(page, FORUM)
    quote = " ".join(reply.locator("blockquote.sb-quote").first.inner_text().split())
    reply.locator("a.sb-open").first.click()
    mark = page.locator("#sb-viewer mark")
    mark.wait_for()
    assert " ".join(mark.inner_text().split()) == quote
    assert mark.evaluate(
        "m => { const r = m.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }"
    )
    shoot(page, "source-opened")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    reply.locator("button.sb-copy-quote").first.click()
    assert " ".join(page.evaluate("navigator.clipboard.readText()").split()) == quote


def test_filter_asks_only_the_chosen_documents(page) -> None:  # type: ignore[no-untyped-def]
    choose = page.locator("#sb-filter input")
    choose.click()
    choose.fill("hostile")
    page.get_by_role("option", name="hostile.txt").click()
    reply = ask(page, FORUM)
    sources = reply.locator("li.sb-source").all_inner_texts()
    assert sources and all("hostile" in s for s in sources)
    shoot(page, "filter")


def test_follow_up_uses_the_conversation(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, FORUM)
    reply = ask(page, "On what date was it held?")
    assert "November 30" in reply.locator(".sb-answer").inner_text()
    shoot(page, "follow-up")
    reply.locator("li.sb-source", has_text="November 30").locator("a.sb-open").click()
    page.locator("#sb-viewer mark", has_text="November 30").wait_for()
    question = page.locator("#sb-chat [data-testid=user]").last
    question.evaluate("q => q.scrollIntoView({block: 'start'})")
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "answer-view", full_page=False)  # the README's picture


def test_unanswerable_question_is_refused(page) -> None:  # type: ignore[no-untyped-def]
    reply = ask(page, WORLD_CUP)
    assert "The documents don't say" in reply.locator(".sb-refusal").inner_text()
    assert "not an answer" in reply.locator(".sb-not-answer .sb-label").text_content()
    assert reply.locator("a.sb-ref").count() == 0
    shoot(page, "refusal")


def test_error_is_a_message_and_the_app_keeps_running(page) -> None:  # type: ignore[no-untyped-def]
    reply = ask(page, " ")
    assert "question is empty" in reply.locator(".sb-error").inner_text()
    assert "Traceback" not in page.content()
    shoot(page, "error-message")
    assert ask(page, FORUM).locator("li.sb-source").count() >= 1


def test_upload_then_ask_about_it(page, server) -> None:  # type: ignore[no-untyped-def]
    new = Path(str(server["root"])) / "lighthouse.txt"
    new.write_text(
        "The Kestrel Point lighthouse was designed by the engineer Marta Olsen in 1874.\n"
    )
    bad = Path(str(server["root"])) / "notes.exe"
    bad.write_bytes(b"MZ")
    page.locator("#sb-upload input[type=file]").set_input_files([str(new), str(bad)])
    status = page.locator("#sb-status")
    status.get_by_text("1 added").wait_for()
    assert "notes.exe" in status.locator(".sb-error").inner_text()
    assert (Path(str(server["docs"])) / "uploads" / "lighthouse.txt").exists()
    shoot(page, "upload")
    reply = ask(page, "Who designed the Kestrel Point lighthouse?")
    assert "Marta Olsen" in reply.locator(".sb-answer").inner_text()


def test_reingest_shows_progress_and_status(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("#sb-reingest").click()
    page.locator("#sb-status").get_by_text("Ingested:").wait_for()
    assert "Last ingest" in page.locator("#sb-status").inner_text()


def test_two_sessions_keep_separate_conversations(browser, server) -> None:  # type: ignore[no-untyped-def]
    pages = []
    for _ in range(2):
        context = browser.new_context(viewport=LAPTOP)
        pages.append(context.new_page())
        pages[-1].goto(str(server["url"]))
    first, second = pages
    ask(first, FORUM)
    ask(second, WORLD_CUP)
    reply = ask(first, "On what date was it held?")
    assert "November 30" in reply.inner_text()
    asked = [p.locator("#sb-chat [data-testid=user]").all_inner_texts() for p in pages]
    assert asked == [[FORUM, "On what date was it held?"], [WORLD_CUP]]
    assert "Nobel" not in first.locator("#sb-chat").inner_text()
    shoot(first, "session-a")
    shoot(second, "session-b")
    for p in pages:
        p.context.close()


def test_document_markup_is_shown_as_text(page) -> None:  # type: ignore[no-untyped-def]
    reply = ask(page, "Who judges the Zanzibar kite regatta?")
    reply.locator("a.sb-open").first.click()
    viewer = page.locator("#sb-viewer .sb-doc")
    viewer.wait_for()
    shown = viewer.inner_text()
    assert "<script>window.sbPwned = 'script'</script>" in shown
    assert (
        "onerror=" in shown
        and "${window.sbPwned='template'}" in shown
        and "{{constructor}}" in shown
    )
    assert page.evaluate("window.sbPwned") is None
    assert page.locator("#sb-viewer img, #sb-chat img[src=x]").count() == 0
    shoot(page, "hostile-document")


def test_phone_width_has_no_sideways_scroll(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(str(server["url"]))
    page.locator("#sb-question textarea").wait_for()
    ask(page, FORUM)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shoot(page, "phone")
    context.close()


def test_gradio_client_asks(server) -> None:  # type: ignore[no-untyped-def]
    from gradio_client import Client

    client = Client(str(server["url"]), verbose=False)
    result = client.predict(FORUM, api_name="/ask")
    assert result["answered"] is True
    assert "[1]" in result["answer"]
    cite = result["citations"][0]
    assert cite["source"].endswith(".txt") and "Dushanbe" in cite["quote"]
    assert cite["end"] > cite["start"]
    refused = client.predict(WORLD_CUP, api_name="/ask")
    assert refused["answered"] is False and refused["closest"]
