"""The tutorial notebook runs from top to bottom and shows what it promises.

docs/notebooks/tutorial_222.ipynb walks the 2-2-2 network (build, draw inline, backward, verify a
hand-derived gradient). It is executed here with nbclient on a Jupyter kernel running this very
python (the one with autograd_lite installed), in a scratch folder, outputs kept in memory only.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is in the dev extra: make test")
nbclient = pytest.importorskip("nbclient", reason="nbclient is in the dev extra: make test")
pytest.importorskip("ipykernel", reason="ipykernel (dev extra) runs the notebook's kernel")

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebooks" / "tutorial_222.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # Not in the file: which python the kernel ran, so a kernel of another environment is caught.
    notebook.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    client = nbclient.NotebookClient(
        notebook,
        timeout=60,
        # "python3" is ipykernel's own kernel, started with this process's sys.executable.
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path_factory.mktemp("notebook"))}},
    )
    client.execute()
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> list[dict]:
    return [output for cell in notebook.cells for output in cell.get("outputs", [])]


def text_of(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for output in outputs(notebook):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_the_committed_notebook_is_valid_and_has_no_stored_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    # Outputs are made by running it; stored ones would go stale without anyone noticing.
    assert not outputs(notebook)


def test_the_kernel_is_this_environments_python(executed):
    ran = outputs(executed)[-1]["text"].strip()
    assert Path(ran).resolve() == Path(sys.executable).resolve()


def test_no_cell_raised(executed):
    errors = [output for output in outputs(executed) if output["output_type"] == "error"]
    assert not errors, errors


def test_the_tutorials_numbers_come_out(executed):
    text = text_of(executed)
    assert "E_total = 0.298371109" in text
    assert "∂E/∂w5 = 0.082167041" in text  # by autodiff
    assert "∂E/∂w5 by hand = 0.082167041" in text
    assert "PASS: all 2 gradients match autodiff" in text


def test_the_graph_is_drawn_inline_before_and_after_backward(executed):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz): no inline SVG")
    pictures = [
        output["data"]["image/svg+xml"]
        for output in outputs(executed)
        if "image/svg+xml" in output.get("data", {})
    ]
    assert len(pictures) == 2
    before, after = pictures
    assert "<svg" in before and "E_total" in before and "w5..w8" in before
    assert "grad [" not in before
    # after backward(retain_graph=True): gradients shown, values kept (∂E/∂w5 to 4 digits)
    assert "grad [[0.08217" in after and "data released" not in after
