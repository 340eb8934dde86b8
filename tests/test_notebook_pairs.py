"""Every course notebook is paired with a jupytext ``py:percent`` twin, and the two are in sync.

``notebooks/NN_name.ipynb`` is what JupyterLab opens (committed without outputs);
``notebooks/NN_name.py`` is the same notebook as text (markdown cells as ``# %% [markdown]``
comments), for review and for editing in any editor. After editing either, run
``jupytext --sync notebooks/*.ipynb`` (see the README, "Editing the course notebooks").
"""

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
TWINS = sorted(NOTEBOOK_DIR.glob("*.py"))
FORMATS = "ipynb,py:percent"
SYNC_HINT = "run `jupytext --sync notebooks/*.ipynb` (the newer file of each pair wins)"


def pair_differences(ipynb_path, py_path):
    """List how the cells of a notebook and of its text twin differ (empty when in sync).

    Compares the number of cells, then each cell's type and source, as jupytext reads them.
    """
    nb = jupytext.read(ipynb_path)
    text = jupytext.read(py_path)
    a = [(c.cell_type, c.source) for c in nb.cells]
    b = [(c.cell_type, c.source) for c in text.cells]
    problems = []
    if len(a) != len(b):
        problems.append(f"{len(a)} cells in {Path(ipynb_path).name} but {len(b)} in {Path(py_path).name}")
    for i, (ca, cb) in enumerate(zip(a, b)):
        if ca[0] != cb[0]:
            problems.append(f"cell {i}: {ca[0]} in the notebook, {cb[0]} in the text file")
        elif ca[1] != cb[1]:
            first = next((k for k, (x, y) in enumerate(zip(ca[1].splitlines(), cb[1].splitlines())) if x != y),
                         min(len(ca[1].splitlines()), len(cb[1].splitlines())))
            problems.append(f"cell {i} ({ca[0]}) differs from its line {first + 1}")
    return problems


def test_there_are_course_notebooks():
    assert len(NOTEBOOKS) >= 1


def test_every_notebook_has_a_text_twin_and_every_twin_a_notebook():
    stems_nb = {p.stem for p in NOTEBOOKS}
    stems_py = {p.stem for p in TWINS}
    assert stems_nb - stems_py == set(), f"notebooks without a .py twin ({SYNC_HINT})"
    assert stems_py - stems_nb == set(), f".py files without a notebook ({SYNC_HINT})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_and_twin_are_paired_and_in_sync(path):
    twin = path.with_suffix(".py")
    assert twin.is_file(), f"{twin.name} is missing: {SYNC_HINT}"
    nb = nbformat.read(str(path), as_version=4)
    assert nb.metadata.get("jupytext", {}).get("formats") == FORMATS, f"{path.name} is not paired with {FORMATS}"
    assert twin.read_text(encoding="utf-8").startswith("# ---\n# jupyter:\n#   jupytext:\n#     formats: " + FORMATS)
    problems = pair_differences(path, twin)
    assert problems == [], f"{path.name} and {twin.name} are out of sync: {problems}; {SYNC_HINT}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(str(path), as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name} cell {i} has outputs: clear them (JupyterLab: Edit > Clear Outputs of All Cells, "
                "or `jupyter nbconvert --clear-output --inplace notebooks/*.ipynb`) before committing")
    assert "widgets" not in nb.metadata, f"{path.name} stores widget state; save without it"


def _write_pair(tmp_path, sources):
    nb = nbformat.v4.new_notebook(metadata={"jupytext": {"formats": FORMATS}})
    nb.cells = [nbformat.v4.new_markdown_cell(sources[0])] + [nbformat.v4.new_code_cell(s) for s in sources[1:]]
    ipynb = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(ipynb))
    jupytext.write(nb, tmp_path / "nb.py", fmt="py:percent")
    return ipynb, tmp_path / "nb.py"


def test_pair_check_sees_an_edit_an_added_cell_and_a_changed_type(tmp_path):
    ipynb, py = _write_pair(tmp_path, ["# Title\n\nSome prose.", "x = 1\nprint(x)", "y = 2"])
    assert pair_differences(ipynb, py) == []
    text = py.read_text()
    py.write_text(text.replace("print(x)", "print(x + 1)"))
    assert pair_differences(ipynb, py) == ["cell 1 (code) differs from its line 2"]
    py.write_text(text + "\n# %%\nz = 3\n")
    assert pair_differences(ipynb, py) == ["3 cells in nb.ipynb but 4 in nb.py"]
    py.write_text(text.replace("# %%\ny = 2", "# %% [markdown]\n# y = 2"))
    assert pair_differences(ipynb, py) == ["cell 2: code in the notebook, markdown in the text file"]
