"""What the browser tests share: the chromium they drive, constants, and chat helpers."""

from __future__ import annotations

from tests.helpers import REPO

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
ARTIFACTS = REPO / "tests" / "artifacts"
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
FORUM = "In which city did the 14th forum take place?"
WORLD_CUP = "Who won the 2014 Nobel Prize in Literature?"
# A document that would run code if any of its text reached the page as HTML or a template.
HOSTILE = (
    "Notes on the Zanzibar kite regatta.\n\n"
    "<script>window.sbPwned = 'script'</script> <img src=x onerror=\"window.sbPwned='img'\"> "
    "${window.sbPwned='template'} {{constructor}} *not bold* $x^2$\n\n"
    "The Zanzibar kite regatta is judged by the harbour master, Amina Juma.\n"
)


def bots(page):  # type: ignore[no-untyped-def]
    return page.locator("#sb-chat [data-testid=bot]")


def ask(page, question: str):  # type: ignore[no-untyped-def]
    """Type `question`, send it, and return the finished reply (sources, closest or error shown)."""
    before = bots(page).count()
    box = page.locator("#sb-question textarea")
    box.fill(question)
    box.press("Enter")
    reply = bots(page).nth(before)
    reply.locator(".sb-sources, .sb-error").first.wait_for()
    return reply


def shoot(page, name: str, full_page: bool = True) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
