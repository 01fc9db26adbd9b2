"""Answers over real-looking documentation: a how-to question is answered with the sentence and
the code block it introduces, quoted whole; headings, section numbers and permalink marks are
never quoted (issue 17)."""

from __future__ import annotations

from typing import Any

import pytest

from app import answer
from app.library import document_text, ingest
from app.settings import Settings

pytestmark = pytest.mark.integration

VENV_PAGE = """<html><head><title>Virtual Environments — Python docs</title></head><body>
<main>
<h1>12. Virtual Environments and Packages<a class="headerlink" href="#venv">¶</a></h1>
<h2>12.2. Creating Virtual Environments<a class="headerlink" href="#creating">¶</a></h2>
<p>The module used to create and manage virtual environments is called venv.</p>
<p>To create a virtual environment, decide upon a directory where you want to place it, and run
the venv module as a script with the directory path:</p>
<div class="highlight"><pre>python3 -m venv tutorial-env
</pre></div>
<p>This will create the tutorial-env directory if it doesn't exist.</p>
<h2>12.3. Managing Packages with pip<a class="headerlink" href="#pip">¶</a></h2>
<p>You can install, upgrade, and remove packages using a program called pip. You can install
the latest version of a package by specifying a package's name:</p>
<div class="highlight"><pre>python -m pip install novas
</pre></div>
<p>The default timeout of pip is 15 seconds.</p>
</main></body></html>
"""


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("howto")
    (root / "docs").mkdir()
    (root / "docs" / "venv.html").write_text(VENV_PAGE)
    settings = Settings(home=root / "home", folder=root / "docs")
    ingest(settings=settings)
    return settings


@pytest.mark.parametrize(
    ("question", "command"),
    [
        ("How do I create a virtual environment?", "python3 -m venv tutorial-env"),
        ("How can I install a package with pip?", "python -m pip install novas"),
    ],
)
def test_a_how_to_question_gets_the_sentence_and_its_code_block(
    docs: Settings, question: str, command: str
) -> None:
    a = answer(question, settings=docs)
    assert a.answered, a.text
    code = [c for c in a.citations if c.code]
    assert code and code[0].quote == command, [(c.quote, c.code) for c in a.citations]
    lead = a.citations[a.citations.index(code[0]) - 1]
    assert lead.quote.rstrip().endswith(":") and not lead.code
    _, text = document_text(code[0].source, docs)
    for c in a.citations:
        assert text[c.start : c.end] == c.quote
    assert command in a.text  # the answer itself carries the command, its lines as they are


@pytest.mark.parametrize(
    "question",
    ["What is the default timeout of pip?", "What is the venv module used for?"],
)
def test_headings_numbers_and_marks_are_never_quoted(docs: Settings, question: str) -> None:
    a = answer(question, settings=docs)
    assert a.answered, a.text
    for c in a.citations:
        assert "¶" not in c.quote
        assert not c.quote.strip().rstrip(".").replace(".", "").isdigit()
        assert not c.quote.startswith(("12.", "Creating Virtual", "Managing Packages"))
