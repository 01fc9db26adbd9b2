"""What an answer may quote: sentences, and code blocks whole; never a section number, a bullet
or a permalink mark (issue 17: how-to answers over real documentation came back as fragments)."""

from __future__ import annotations

from app.answering.sentences import code_blocks, quotable_units
from ingest.formats.html import load_html

HOWTO = """12.3. Managing Packages with pip¶

You can install the latest version of a package by typing this into the terminal:

```
python -m pip install novas
```

Then it is ready. See section 4.2 for more.
~~~python
x = 1
y = 2
"""


def units(text: str) -> list[tuple[str, bool]]:
    return [(text[s:e], code) for s, e, code in quotable_units(text)]


def test_a_code_block_is_one_unit_quoted_whole_without_its_fences() -> None:
    found = units(HOWTO)
    assert ("python -m pip install novas", True) in found
    assert ("x = 1\ny = 2", True) in found  # a fence left open (a passage cut it) runs to the end
    assert all("```" not in text and "~~~" not in text for text, _ in found)


def test_sentences_around_code_keep_their_offsets_and_order() -> None:
    found = units(HOWTO)
    lead = "You can install the latest version of a package by typing this into the terminal:"
    texts = [t for t, _ in found]
    assert texts.index(lead) + 1 == texts.index("python -m pip install novas")
    assert "Then it is ready." in texts and "See section 4.2 for more." in texts
    shifted = quotable_units(HOWTO, 1000)
    assert [(s - 1000, e - 1000, c) for s, e, c in shifted] == quotable_units(HOWTO)


def test_section_numbers_alone_are_never_units() -> None:
    texts = [t for t, _ in units(HOWTO)]
    assert "12.3." not in texts
    assert not any(t.strip(" .") == "12.3" for t in texts)


def test_code_blocks_report_block_and_code_offsets() -> None:
    text = "Run:\n\n```sh\nls -l\n```\nDone."
    ((start, end, code_start, code_end),) = code_blocks(text)
    assert text[start:end] == "```sh\nls -l\n```"
    assert text[code_start:code_end] == "ls -l"


def test_html_pre_becomes_a_fenced_block_and_permalinks_are_dropped() -> None:
    page = (
        b"<html><body><main><h2>Creating<a class='headerlink' href='#x'>\xc2\xb6</a></h2>"
        b"<p>Run the venv module as a script with the directory path:</p>"
        b"<div class='highlight'><pre><span>python3 -m venv tutorial-env</span>\n</pre></div>"
        b"<p>This creates the directory.</p></main></body></html>"
    )
    doc = load_html(page, "venv")
    assert "¶" not in doc.text
    assert "path:\n\n```\npython3 -m venv tutorial-env\n```\n\nThis creates" in doc.text
    assert ("python3 -m venv tutorial-env", True) in units(doc.text)
