"""docs/notebooks/seeing_backprop.ipynb runs top to bottom and shows the explanation and the
pictures inline. Executed with nbclient on a kernel running this python, as tests/test_notebook.py
does for the tutorial notebook (its helpers are reused)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is in the dev extra: make test")
nbclient = pytest.importorskip("nbclient", reason="nbclient is in the dev extra: make test")
pytest.importorskip("ipykernel", reason="ipykernel (dev extra) runs the notebook's kernel")

TESTS = Path(__file__).resolve().parents[1]
NOTEBOOK = TESTS.parent / "docs" / "notebooks" / "seeing_backprop.ipynb"
_spec = importlib.util.spec_from_file_location(
    "tutorial_notebook_helpers", TESTS / "test_notebook.py"
)
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=60,
        kernel_name="python3",  # ipykernel's own kernel: this process's python
        resources={"metadata": {"path": str(tmp_path_factory.mktemp("seeing"))}},
    )
    client.execute()
    return notebook


def test_the_committed_notebook_is_valid_and_has_no_stored_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    assert not helpers.outputs(notebook)


def test_it_runs_and_prints_the_tutorials_chain_rule(executed):
    assert not [o for o in helpers.outputs(executed) if o["output_type"] == "error"]
    text = helpers.text_of(executed)
    assert "E_total = 0.298371109" in text
    assert "= 1 × 0.74136507 × 0.186815602 × 0.593269992" in text
    assert "∂E_total/∂w5 = 0.082167041" in text
    assert "sum: 0.055399425 + (-0.019049118) = 0.036350306" in text
    assert "δ_o1 = ∂E/∂net_o1 = 0.138498562" in text  # retain_grad: 0.74136507 × 0.186815602
    assert "'Sqrt' created 1 NaN" in text and "y = (x - 2).sqrt()" in text


def test_the_explanation_shows_inline_as_a_table(executed):
    tables = [
        o["data"]["text/html"]
        for o in helpers.outputs(executed)
        if "text/html" in o.get("data", {})
    ]
    assert len(tables) == 1
    assert "<caption>∂E_total/∂w5 = 0.082167041</caption>" in tables[0]
    assert "<td>0.186815602</td>" in tables[0]


def test_the_pictures_show_inline(executed):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz): no inline SVG")
    pictures = [
        o["data"]["image/svg+xml"]
        for o in helpers.outputs(executed)
        if "image/svg+xml" in o.get("data", {})
    ]
    assert len(pictures) == 2
    path, gradients = pictures
    assert "∂E_total/∂·" in path and "#d7301f" in path  # adjoints, the marked path
    assert "grad 0.1385" in gradients  # δ_o1 on net_o1, kept by retain_grad
