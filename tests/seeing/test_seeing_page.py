"""docs/seeing_backprop.md shows real output: every ```text block on the page is what its python
blocks print (tests/test_docs.py runs the blocks; this checks what readers are told they print)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "seeing_backprop.md"
BLOCK = re.compile(r"^```(python|text)[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def test_every_text_block_is_printed_by_the_code_before_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "docs_seeing_backprop"}
    printed = io.StringIO()
    texts = []
    for kind, body in BLOCK.findall(PAGE.read_text(encoding="utf-8")):
        if kind == "python":
            with contextlib.redirect_stdout(printed):
                exec(compile(body, f"{PAGE.name} block", "exec"), namespace)
        else:
            texts.append(body.rstrip("\n"))
            assert body.rstrip("\n") in printed.getvalue(), f"not printed:\n{body}"
    assert len(texts) >= 4
