"""A newcomer's first hour (issue 14): imports from anywhere, a set-up that says what it does, the
2-2-2 graph drawn by the demo, and progress that stays readable in a log file.

The import tests run this environment's python in fresh processes, from three places: the folder
that holds the clone (the natural place after ``git clone``: a folder containing a directory named
``autograd_lite`` that is the clone, made here as a symlink), the clone itself, and an unrelated
folder. They pass with the Makefile's compat-mode editable install; with setuptools' default
editable mode the first one failed with "ImportError ... (unknown location)".
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
IMPORT_CHECK = (
    "import autograd_lite, nn\n"
    "from autograd_lite import Tensor\n"
    "print(autograd_lite.__file__)\n"
    "print(nn.__file__)\n"
    "print((Tensor([3.0]) * 2).item())\n"
)
# What setuptools' default editable install adds: a finder consulted only after the normal path
# search (appended to sys.meta_path), and no sys.path entry for the clone.
DEFAULT_EDITABLE_FINDER = """
import importlib.machinery, os, sys
ROOT = {root!r}
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != ROOT]
class EditableFinder:
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name in ("autograd_lite", "nn"):
            return importlib.machinery.PathFinder.find_spec(name, [ROOT])
        return None
sys.meta_path.append(EditableFinder)
"""


def run_python(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    # PYTHONPATH would hide the very problem under test (it puts the clone ahead of everything).
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def assert_imports_the_clone(result: subprocess.CompletedProcess, where: str) -> None:
    assert result.returncode == 0, f"import failed from {where}:\n{result.stderr}"
    package_file, nn_file, value = result.stdout.split()
    assert Path(package_file).resolve() == ROOT / "autograd_lite" / "__init__.py", where
    assert Path(nn_file).resolve() == ROOT / "nn" / "__init__.py", where
    assert value == "6.0"


@pytest.fixture
def parent_folder(tmp_path: Path) -> Path:
    """A folder holding the clone under the package's own name, as after ``git clone``."""
    (tmp_path / "autograd_lite").symlink_to(ROOT, target_is_directory=True)
    return tmp_path


def test_the_parent_folder_is_a_trap_for_an_import_hook_that_runs_after_the_path(parent_folder):
    """Reproduces issue 14's failure: an installed package found only after the path search (as
    setuptools' default editable finder is) loses to the clone folder, an empty namespace package.
    """
    code = DEFAULT_EDITABLE_FINDER.format(root=str(ROOT)) + IMPORT_CHECK
    result = run_python(["-c", code], cwd=parent_folder)
    assert result.returncode != 0
    assert "cannot import name 'Tensor' from 'autograd_lite' (unknown location)" in result.stderr
    # The same hook works from an unrelated folder: the failure is the folder's doing.
    elsewhere = parent_folder / "elsewhere"
    elsewhere.mkdir()
    assert_imports_the_clone(run_python(["-c", code], cwd=elsewhere), "elsewhere")


def test_python_c_in_the_folder_that_holds_the_clone(parent_folder):
    assert_imports_the_clone(run_python(["-c", IMPORT_CHECK], parent_folder), "python -c")


def test_a_script_in_the_folder_that_holds_the_clone(parent_folder):
    (parent_folder / "my_script.py").write_text(IMPORT_CHECK, encoding="utf-8")
    assert_imports_the_clone(run_python(["my_script.py"], parent_folder), "a script")


def test_python_m_in_the_folder_that_holds_the_clone(parent_folder):
    (parent_folder / "my_module.py").write_text(IMPORT_CHECK, encoding="utf-8")
    assert_imports_the_clone(run_python(["-m", "my_module"], parent_folder), "python -m")


def test_inside_the_clone_and_in_an_unrelated_folder(tmp_path):
    assert_imports_the_clone(run_python(["-c", IMPORT_CHECK], ROOT), "the clone")
    assert_imports_the_clone(run_python(["-c", IMPORT_CHECK], tmp_path), "an unrelated folder")


# ----- set-up --------------------------------------------------------------------------------
def test_setup_pins_torch_as_an_extra_and_installs_in_compat_mode():
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11+")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["optional-dependencies"]["torch"] == ["torch==2.13.0"]
    assert not any(d.startswith("torch") for d in project["dependencies"]), "torch is optional"
    assert {"nbclient", "nbformat", "ipykernel"} <= {
        re.split(r"[<>=!~\[ ]", d)[0] for d in project["optional-dependencies"]["dev"]
    }
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    # every editable install, or one would put the default (import hook) mode back
    installs = [line for line in makefile.splitlines() if re.search(r"pip install .*-e ", line)]
    assert len(installs) >= 2, installs
    for line in installs:
        assert "$(COMPAT)" in line or "editable_mode=compat" in line, line
    assert "COMPAT := --config-settings editable_mode=compat" in makefile
    assert re.search(r"pytest -rs\b", makefile), "make test lists skipped tests and why"


# ----- the demo's graph and the progress lines ---------------------------------------------
@pytest.fixture
def examples_path(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))


def test_the_222_stop_draws_its_graph_with_gradients(examples_path, tmp_path, capsys):
    import worked_example_222

    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz): no SVG to check")
    assert worked_example_222.main(2, out_dir=tmp_path) == 0
    path = tmp_path / "worked_example_222_graph.svg"
    assert str(path) in capsys.readouterr().out
    svg = path.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    # ∂E/∂w5 = (out_o1 − t1)·out_o1(1 − out_o1)·out_h1 = 0.082167041 (the tutorial's figure),
    # shown to 4 significant digits, and E_total with its value: backward ran with values kept.
    assert "w5..w8" in svg and "grad [[0.08217" in svg
    assert "E_total" in svg and "0.2984" in svg and "data released" not in svg


def test_make_demo_tour_draws_the_222_graph_into_its_out_dir(examples_path, tmp_path, monkeypatch):
    for name in ("matplotlib", "sklearn", "tqdm"):
        pytest.importorskip(name)
    import demo

    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))  # DOT text: no dot needed
    stops = dict(demo.tour(tmp_path, quick=True))
    [run] = [run for header, run in stops.items() if header.startswith("2-2-2 sigmoid: the worked")]
    assert run() == 0
    assert (tmp_path / "worked_example_222_graph.dot").is_file()


def test_without_dot_the_222_stop_writes_dot_text_and_says_how_to_render(
    examples_path, tmp_path, monkeypatch, capsys
):
    import worked_example_222

    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    path = worked_example_222.draw(tmp_path)
    assert path == tmp_path / "worked_example_222_graph.dot"
    assert path.read_text(encoding="utf-8").startswith("digraph")
    out = capsys.readouterr().out
    assert "apt-get install graphviz" in out and f"dot -Tsvg {path}" in out


def test_progress_is_plain_lines_when_stdout_is_not_a_terminal(examples_path, capsys):
    from _shared import PlainProgress, progress

    bar = progress(range(25), total=25, desc="epochs", unit="epoch")
    assert isinstance(bar, PlainProgress)
    for step in bar:
        bar.set_postfix(loss=f"{1 / (step + 1):.3f}")
    bar.close()
    lines = capsys.readouterr().out.splitlines()
    # every 25 // 10 = 2 items, and the last: 13 lines, each with the postfix set just before it
    assert [line.split(",")[0] for line in lines] == [
        f"epochs: {n}/25 ({100 * n // 25}%)" for n in [*range(2, 25, 2), 25]
    ]
    assert lines[0].endswith("loss=0.500") and lines[-1].endswith("loss=0.040")


def test_progress_stopped_early_says_how_far_it_got(examples_path, capsys):
    from _shared import progress

    bar = progress(range(10), total=10, desc="steps")
    for step in bar:
        if step == 2:
            break
    bar.close()
    assert capsys.readouterr().out.splitlines()[-1].startswith("steps: 2/10 (20%)")


def test_progress_is_a_tqdm_bar_on_a_terminal(examples_path, monkeypatch):
    tqdm = pytest.importorskip("tqdm")
    from _shared import progress

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    bar = progress(range(3), total=3, desc="epochs")
    assert isinstance(bar, tqdm.tqdm)
    bar.close()


def test_digits_log_has_no_carriage_returns(examples_path, tmp_path, capsys):
    pytest.importorskip("sklearn")
    import digits

    assert digits.main(epochs=2, accuracy_floor=0.0, out_dir=tmp_path) == 0
    out = capsys.readouterr().out
    assert "\r" not in out
    assert re.search(r"^epochs: 2/2 \(100%\), [\d.]+ s, loss=\d\.\d{4}, test_acc=", out, re.M)
