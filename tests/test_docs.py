"""The docs stay true: their code runs, the operations page matches the code, links resolve."""

import importlib.util
import inspect
import re
from pathlib import Path

import pytest

import autograd_lite.ops
from autograd_lite import Function

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
PYTHON_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def make_docs():
    return load(DOCS / "make_docs.py", "make_docs")


def test_there_are_pages_with_code():
    names = {p.name for p in PAGES}
    assert {"backprop_tutorial.md", "verifying_gradients.md", "operations.md"} <= names
    assert sum(len(PYTHON_BLOCK.findall(p.read_text(encoding="utf-8"))) for p in PAGES) >= 8


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_python_blocks_run_in_order(page, tmp_path, monkeypatch, capsys):
    """Each page's ```python blocks run one after another in one namespace, in a scratch cwd."""
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"docs_{page.stem}"}
    for number, block in enumerate(PYTHON_BLOCK.findall(page.read_text(encoding="utf-8")), 1):
        code = compile(block, f"{page.relative_to(ROOT)} (python block {number})", "exec")
        try:
            exec(code, namespace)
        except Exception as error:
            pytest.fail(f"{page.name}, python block {number} raised {error!r}:\n{block}")


def test_block_extraction_finds_blocks_and_only_python_ones():
    text = "x\n```python\na = 1\n```\n```text\nnot code\n```\n```python\nb = 2\n```\n"
    assert PYTHON_BLOCK.findall(text) == ["a = 1\n", "b = 2\n"]


def test_operations_page_is_up_to_date(make_docs):
    committed = (DOCS / "operations.md").read_text(encoding="utf-8")
    assert committed == make_docs.operations_reference(), (
        "docs/operations.md differs from the operations' docstrings: "
        "run `.venv/bin/python docs/make_docs.py` and commit the result"
    )
    assert make_docs.main(["--check"]) == 0


def test_operations_page_lists_every_operation_with_its_docstring():
    """Found independently of make_docs: every Function subclass defined in autograd_lite.ops."""
    page = (DOCS / "operations.md").read_text(encoding="utf-8")
    pending, classes = list(Function.__subclasses__()), []
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith(autograd_lite.ops.__name__ + "."):
            classes.append(cls)
    assert len(classes) >= 20
    for cls in classes:
        assert cls.__doc__, f"{cls.__name__} has no docstring stating its derivative"
        assert f"### {cls.__name__}\n" in page
        assert inspect.cleandoc(cls.__doc__) in page
    assert "`a * b`" in page and "`a.sigmoid()`" in page and "`autograd_lite.where()`" in page


def test_check_mode_notices_a_stale_page(make_docs, tmp_path, monkeypatch, capsys):
    stale = tmp_path / "operations.md"
    stale.write_text("# old\n", encoding="utf-8")
    monkeypatch.setattr(make_docs, "REFERENCE", stale)
    assert make_docs.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().out


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_links_and_images_resolve(page):
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" not in target:
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_committed_pictures_exist_and_are_svg(make_docs):
    for name in make_docs.PICTURES:
        svg = (DOCS / "images" / name).read_text(encoding="utf-8")
        assert "<svg" in svg, name
    assert "w5..w8" in (DOCS / "images" / "worked_example_222.svg").read_text(encoding="utf-8")


def test_the_table_printed_in_the_verification_page_is_the_real_one():
    example = load(ROOT / "examples" / "verify_manual_backprop.py", "verify_example_docs")
    page = (DOCS / "verifying_gradients.md").read_text(encoding="utf-8")
    assert str(example.relu_report()) in page
