"""Tests for d2lnotes.plotting: d2l's figure helpers and the Animator in notebook, script and headless use."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image

import d2lnotes as d2l

from d2lnotes import plotting as dplot

REPO = Path(__file__).resolve().parents[1]
plt = d2l.plt


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test made, and restore rcParams it changed."""
    with matplotlib.rc_context():
        yield
    plt.close("all")


def test_plot_without_axes_draws_on_the_figure_the_book_made_with_plt():
    fig = d2l.plt.figure(figsize=(4, 3))  # the book: d2l.plt.figure(...), then d2l.plot(...) on it
    d2l.plot([1, 2], [[3, 4], [5, 6]], legend=["a", "b"])
    assert len(d2l.plt.get_fignums()) == 1 and fig.axes[0].lines[1].get_ydata().tolist() == [5, 6]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["a", "b"]


def test_set_lines_replaces_every_line_and_the_legend():
    anim = d2l.Animator(legend=["old"], live=False)
    anim.add(1, 0.5)
    anim.set_lines([[1, 2], [1, 2, 3]], [[0.5, 0.4], [0.1, 0.2, 0.3]], ["C0-", "C1--"], legend=["loss", "acc"])
    ax = anim.axes[0]
    assert [line.get_ydata().tolist() for line in ax.get_lines()] == [[0.5, 0.4], [0.1, 0.2, 0.3]]
    assert ax.get_lines()[1].get_linestyle() == "--"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["loss", "acc"]


def test_set_figsize_sets_the_default_size_only():
    fmt = plt.rcParams["savefig.format"]
    d2l.set_figsize((4.0, 3.0))
    assert tuple(plt.rcParams["figure.figsize"]) == (4.0, 3.0)
    assert plt.rcParams["savefig.format"] == fmt
    assert plt.figure().get_size_inches().tolist() == [4.0, 3.0]


def test_svg_is_identical_across_renders_after_use_svg_display(tmp_path):
    d2l.use_svg_display()
    texts = []
    for i in range(2):
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3], [3, 1, 2])
        fig.savefig(tmp_path / f"{i}.svg", metadata={"Date": None})
        texts.append((tmp_path / f"{i}.svg").read_text())
    assert texts[0] == texts[1]
    assert "<dc:date>" not in texts[0]


def test_set_axes_sets_labels_limits_scales_legend_and_grid():
    fig, ax = plt.subplots()
    ax.plot([1, 10], [1, 100])
    ax.plot([1, 10], [2, 50])
    d2l.set_axes(ax, "x", "y", [1, 10], [1, 100], "log", "log", ["a", "b"])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    assert ax.get_xlim() == (1, 10) and ax.get_ylim() == (1, 100)
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert all(line.get_visible() for line in ax.xaxis.get_gridlines())


def test_plot_one_series_against_x():
    x = torch.arange(0, 3, 0.5)
    ax = plt.gca()
    assert d2l.plot(x, x**2, "x", "f(x)", axes=ax) is None  # like d2l: nothing shown as a cell result
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_xdata(), x.numpy())
    np.testing.assert_allclose(line.get_ydata(), (x**2).numpy())
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "f(x)"


def test_plot_several_series_with_legend_and_formats():
    x = np.arange(4.0)
    d2l.plot(x, [x, 2 * x, 3 * x], legend=["1x", "2x", "3x"], fmts=("-", "m--", "g-."))
    ax = plt.gca()
    lines = ax.get_lines()
    assert len(lines) == 3
    np.testing.assert_allclose(lines[2].get_ydata(), 3 * x)
    assert lines[1].get_linestyle() == "--"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["1x", "2x", "3x"]


def test_plot_y_only_and_lists():
    d2l.plot([3.0, 1.0, 2.0])
    (line,) = plt.gca().get_lines()
    assert line.get_xdata().tolist() == [0, 1, 2]
    assert line.get_ydata().tolist() == [3.0, 1.0, 2.0]


def test_plot_accepts_tensors_that_require_grad():
    x = torch.arange(0.0, 1.0, 0.25, requires_grad=True)
    d2l.plot(x, [torch.sin(x), torch.cos(x)], "x", legend=["sin", "cos"])
    lines = plt.gca().get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), np.sin(x.detach().numpy()), rtol=1e-6)


def test_plot_sets_figsize():
    d2l.plot([1.0, 2.0], figsize=(2.0, 1.5))
    assert tuple(plt.rcParams["figure.figsize"]) == (2.0, 1.5)


def test_show_images_from_tensors_returns_the_axes_with_titles():
    imgs = torch.rand(6, 28, 28)
    axes = d2l.show_images(imgs, 2, 3, titles=list("abcdef"))
    assert isinstance(axes, np.ndarray) and axes.shape == (6,)
    assert [ax.get_title() for ax in axes] == list("abcdef")
    np.testing.assert_allclose(axes[4].get_images()[0].get_array(), imgs[4].numpy())
    assert not axes[0].get_xaxis().get_visible()


def test_show_images_channels_first_numpy_and_pil():
    rgb = torch.rand(3, 8, 10)
    gray = torch.rand(1, 8, 10)
    arr = (np.random.default_rng(0).random((8, 10, 3)) * 255).astype(np.uint8)
    pil = Image.fromarray(arr)
    axes = d2l.show_images([rgb, gray, arr, pil], 1, 4)
    shapes = [ax.get_images()[0].get_array().shape for ax in axes]
    assert shapes == [(8, 10, 3), (8, 10), (8, 10, 3), (8, 10, 3)]
    np.testing.assert_array_equal(axes[3].get_images()[0].get_array(), arr)
    np.testing.assert_allclose(axes[0].get_images()[0].get_array(), rgb.permute(1, 2, 0).numpy())


def test_show_images_single_cell_grid():
    axes = d2l.show_images([torch.zeros(4, 4)], 1, 1, titles=["only"])
    assert len(axes) == 1 and axes[0].get_title() == "only"


def test_show_images_fewer_images_than_cells():
    axes = d2l.show_images(torch.rand(2, 5, 5), 2, 2)
    assert [len(ax.get_images()) for ax in axes] == [1, 1, 0, 0]


def test_display_mode_is_static_under_agg():
    fig = plt.figure()
    assert dplot.display_mode(fig) == "static"


def test_animator_collects_points_and_draws_lines_without_warnings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        anim = d2l.Animator(xlabel="epoch", xlim=[1, 3], ylim=[0, 1], legend=["a", "b"])
        for epoch in range(1, 4):
            anim.add(epoch, (0.5 / epoch, torch.tensor(0.1 * epoch, requires_grad=True)))
        assert anim.finish() is None
    assert anim.mode == "static"
    assert anim.X == [[1, 2, 3], [1, 2, 3]]
    np.testing.assert_allclose(anim.Y[1], [0.1, 0.2, 0.3])
    ax = anim.axes[0]
    assert [line.get_ydata().tolist() for line in ax.get_lines()][0] == [0.5, 0.25, 0.5 / 3]
    assert ax.get_xlabel() == "epoch" and ax.get_xlim() == (1, 3)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert list(tmp_path.iterdir()) == []  # nothing written without save_path
    assert plt.fignum_exists(anim.fig.number)  # a script's final plt.show()/savefig still finds it


def test_animator_skips_none_values():
    anim = d2l.Animator(legend=["train", "test"])
    anim.add(1, (0.9, None))
    anim.add(2, (0.8, 0.7))
    assert anim.X == [[1, 2], [2]] and anim.Y == [[0.9, 0.8], [0.7]]


def test_animator_saves_the_final_figure_once(tmp_path):
    path = tmp_path / "curve.png"
    anim = d2l.Animator(save_path=path)
    anim.add(1, 0.5)
    assert not path.exists()  # nothing written during training
    anim.add(2, 0.25)
    assert anim.finish() == path
    assert path.read_bytes().startswith(b"\x89PNG")


def test_animator_live_false_is_never_shown_but_saved(tmp_path):
    anim = d2l.Animator(save_path=tmp_path / "c.svg", live=False)
    anim.add(1, 0.5)
    assert anim.mode == "off" and not plt.fignum_exists(anim.fig.number)
    anim.finish()
    assert (tmp_path / "c.svg").read_text().lstrip().startswith("<?xml")


def test_animator_in_a_window_redraws_without_blocking(monkeypatch):
    """GUI backends: draw_idle + flush_events per point, the window shown once, plt.show never called."""
    anim = d2l.Animator()
    anim.mode = "gui"
    calls = []
    monkeypatch.setattr(anim.fig.canvas, "draw_idle", lambda: calls.append("draw_idle"))
    monkeypatch.setattr(anim.fig.canvas, "flush_events", lambda: calls.append("flush_events"))
    monkeypatch.setattr(anim.fig.canvas.manager, "show", lambda: calls.append("window"))
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show blocks training"))
    monkeypatch.setattr(plt, "pause", lambda *a, **k: pytest.fail("plt.pause blocks training"))
    anim.add(1, 0.5)
    anim.add(2, 0.4)
    anim.finish()
    assert calls == ["window", "draw_idle", "flush_events", "draw_idle", "flush_events"]


@pytest.mark.slow  # starts a Python process
def test_animator_with_tkagg_finishes_in_a_subprocess(tmp_path, virtual_display):
    script = tmp_path / "tk.py"
    script.write_text(
        "import d2lnotes as d2l\n"
        "a = d2l.Animator()\n"
        "assert a.mode == 'gui', a.mode\n"
        "for i in range(5):\n    a.add(i, i * i)\n"
        "a.finish()\n"
        "assert a.fig.canvas.manager.window.winfo_ismapped(), 'no window on screen'\n"
        "assert a.axes[0].get_lines()[0].get_ydata().tolist() == [0, 1, 4, 9, 16]\n"
        "print('done')\n"
    )
    env = dict(os.environ, MPLBACKEND="TkAgg", DISPLAY=virtual_display)
    res = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "done" and res.stderr == ""


SCRIPT = """\
import sys
import torch
from torch import nn
import d2lnotes as d2l

torch.manual_seed(0)
X = torch.randn(512, 2)
y = (X[:, 0] > X[:, 1]).long()
train_iter = [(X[i:i + 64], y[i:i + 64]) for i in range(0, 512, 64)]
for plot_path in (sys.argv[1], None):
    net = nn.Sequential(nn.Linear(2, 2))
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=0.5)
    history = d2l.train_ch3(net, train_iter, train_iter, loss, 3, trainer, plot_path=plot_path)
    assert len(history) == 3
    print("final test acc", round(history[-1].test_acc, 2))
"""


@pytest.mark.slow  # starts a Python process
def test_training_script_with_agg_finishes_saves_the_plot_once_and_warns_nothing(tmp_path):
    """A plain script (MPLBACKEND=Agg): training ends, no warning, the plot file only where asked."""
    script = tmp_path / "train_script.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(REPO), PYTHONWARNINGS="default")
    res = subprocess.run(
        [sys.executable, str(script), "curves.png"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    lines = res.stdout.splitlines()
    assert len(lines) == 8  # per run: one line per epoch (the plot is not visible), then the result
    assert [line.split(",")[0] for line in lines[:3]] == ["epoch 1", "epoch 2", "epoch 3"]
    assert float(lines[3].split()[-1]) >= 0.9
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")
    # The second run had no plot_path: nothing else was written.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png", "train_script.py"]


NOTEBOOK_CELLS = [
    "import torch\nimport d2lnotes as d2l\nfrom torch import nn",
    # A learner prints something, then animates in the same cell: the text must survive.
    "print('before the plot')\n"
    "anim = d2l.Animator(xlabel='epoch', xlim=[1, 4], ylim=[0, 1], legend=['a', 'b'])\n"
    "for epoch in range(1, 5):\n"
    "    anim.add(epoch, (1 / epoch, epoch / 4))\n"
    "print('after the plot')",
    # The final figure, rendered the way the inline backend renders it.
    "from IPython.core.pylabtools import print_figure\nimport base64\n"
    "print(base64.b64encode(print_figure(anim.fig, 'png')).decode())",
    "torch.manual_seed(0)\n"
    "X = torch.randn(256, 2); y = (X[:, 0] > X[:, 1]).long()\n"
    "it = [(X[i:i + 64], y[i:i + 64]) for i in range(0, 256, 64)]\n"
    "net = nn.Linear(2, 2)\n"
    "d2l.train_ch3(net, it, it, nn.CrossEntropyLoss(reduction='none'), 3,\n"
    "              torch.optim.SGD(net.parameters(), lr=0.5))",
    "d2l.use_svg_display()\nd2l.plot([1.0, 2.0, 3.0])",
    "d2l.plt.figure()\nd2l.plt.plot([1.0, 2.0, 3.0])\nd2l.plt.show()",
]


@pytest.fixture(scope="module")
def executed_notebook(tmp_path_factory, run_notebook):
    """Execute a small notebook with the inline backend (like Jupyter / VS Code); return it and its path."""
    import nbformat

    folder = tmp_path_factory.mktemp("nb")
    nb = run_notebook(NOTEBOOK_CELLS, folder)
    path = folder / "animator.ipynb"
    nbformat.write(nb, path)
    return nb, path


def _images(cell) -> list:
    """Return the outputs of ``cell`` that carry an image."""
    return [o for o in cell.outputs if "data" in o and any(k.startswith("image/") for k in o["data"])]


def test_notebook_animator_leaves_one_figure_the_final_one_and_keeps_printed_text(executed_notebook):
    nb, _ = executed_notebook
    cell = nb.cells[1]
    assert [o.output_type for o in cell.outputs] == ["stream", "display_data", "stream"]
    assert cell.outputs[0].text == "before the plot\n"
    assert cell.outputs[2].text == "after the plot\n"
    (image,) = _images(cell)
    final_png = nb.cells[2].outputs[0].text.strip()
    assert image["data"]["image/png"].strip() == final_png  # the stored figure is the finished plot


def test_notebook_train_ch3_shows_one_figure_and_the_history_table(executed_notebook):
    nb, _ = executed_notebook
    cell = nb.cells[3]
    assert len(_images(cell)) == 1
    # No epoch log printed in notebooks (the plot is live); the returned history shows as a table.
    assert [o.output_type for o in cell.outputs] == ["display_data", "execute_result"]
    table = cell.outputs[1]["data"]["text/plain"].splitlines()
    assert table[0] == "epoch  train loss  train acc  test acc" and len(table) == 4


def test_notebook_figures_are_png_until_use_svg_display(executed_notebook):
    nb, _ = executed_notebook
    (svg,) = _images(nb.cells[4])
    assert "image/svg+xml" in svg["data"] and "image/png" not in svg["data"]
    (png,) = _images(nb.cells[5])  # plt.show() after the animator cells: one figure, no leftovers
    assert "image/svg+xml" in png["data"]
    assert len(_images(nb.cells[1])) == 1 and "image/png" in _images(nb.cells[1])[0]["data"]
