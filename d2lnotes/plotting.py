"""Plotting: d2l's figure helpers and an Animator that works in notebooks, scripts and headless runs.

This is the one module that knows about matplotlib backends. ``Animator`` picks
how to show a figure that changes during training:

* ``"notebook"`` (Jupyter, VS Code: the inline backend inside a kernel): one
  output that is updated in place through an IPython display handle, so the
  cell keeps exactly one figure, the finished one, and text printed before it
  is never cleared;
* ``"gui"`` (a window: TkAgg, QtAgg, macosx, ... in a script or PyCharm):
  redrawn with ``draw_idle`` + ``flush_events``, never a blocking ``plt.show``;
* ``"widget"`` (ipympl, nbagg): redrawn with ``draw_idle``;
* ``"static"`` (Agg and other non-interactive backends): nothing is drawn
  during training; ``finish()`` saves the figure once if a path was given, and
  the figure stays in pyplot so a script's final ``plt.show()`` or
  ``plt.savefig()`` shows or saves it once;
* ``"off"`` (``live=False``): never shown, only saved by ``finish()``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from d2lnotes.numerics import to_float

__all__ = [
    "plt",
    "use_svg_display",
    "set_figsize",
    "set_axes",
    "plot",
    "show_images",
    "Animator",
    "display_mode",
    "ipython_shell",
]

#: Salt for the ids in SVG output, so that the same figure gives the same SVG text.
SVG_HASHSALT = "d2lnotes"


def use_svg_display() -> None:
    """Show notebook figures as SVG, with no date and fixed ids so that re-runs give identical output."""
    plt.rcParams["svg.hashsalt"] = SVG_HASHSALT
    if ipython_shell() is None:  # plain Python: nothing to configure
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("svg", metadata={"Date": None})


def set_figsize(figsize: tuple[float, float] = (3.5, 2.5)) -> None:
    """Set the default figure size (inches) for the figures that follow; the output format is unchanged."""
    plt.rcParams["figure.figsize"] = figsize


def set_axes(
    axes: Axes,
    xlabel: str | None,
    ylabel: str | None,
    xlim: Sequence[float] | None,
    ylim: Sequence[float] | None,
    xscale: str,
    yscale: str,
    legend: Sequence[str] | None,
) -> None:
    """Set labels, limits, scales and legend of ``axes`` and turn its grid on."""
    axes.set_xlabel(xlabel or "")
    axes.set_ylabel(ylabel or "")
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    axes.set_xlim(xlim)
    axes.set_ylim(ylim)
    if legend:
        axes.legend(legend)
    axes.grid(True)


def _as_plottable(data: Any) -> Any:
    """Return ``data`` with tensors turned into numpy arrays (detached, on the CPU)."""
    if isinstance(data, torch.Tensor):
        return data.detach().cpu().numpy()
    return data


def _has_one_axis(X: Any) -> bool:
    """Return True if ``X`` is a single series (a 1-D tensor/array or a flat list)."""
    return (hasattr(X, "ndim") and X.ndim == 1) or (
        isinstance(X, list) and not hasattr(X[0], "__len__")
    )


def plot(
    X: Any,
    Y: Any = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    legend: Sequence[str] | None = None,
    xlim: Sequence[float] | None = None,
    ylim: Sequence[float] | None = None,
    xscale: str = "linear",
    yscale: str = "linear",
    fmts: Sequence[str] = ("-", "m--", "g-.", "r:"),
    figsize: tuple[float, float] = (3.5, 2.5),
    axes: Axes | None = None,
) -> None:
    """Plot one or more series of ``Y`` against ``X`` (lists, arrays or tensors), like d2l.plot."""
    set_figsize(figsize)
    axes = axes if axes else plt.gca()
    if _has_one_axis(X):
        X = [X]
    if Y is None:
        X, Y = [[]] * len(X), X
    elif _has_one_axis(Y):
        Y = [Y]
    if len(X) != len(Y):
        X = X * len(Y)
    axes.cla()
    for x, y, fmt in zip(X, Y, fmts):
        x, y = _as_plottable(x), _as_plottable(y)
        if len(x):
            axes.plot(x, y, fmt)
        else:
            axes.plot(y, fmt)
    set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)


def _as_image(img: Any) -> np.ndarray:
    """Return an image (tensor [C,H,W] or [H,W], numpy array, PIL image) as an array imshow accepts."""
    if isinstance(img, torch.Tensor):
        img = img.detach().cpu()
        if img.ndim == 3:  # torchvision's layout: channels first
            img = img.permute(1, 2, 0)
        img = img.numpy()
    else:
        img = np.asarray(img)
        if img.ndim == 3 and img.shape[0] in (1, 3, 4) and img.shape[-1] not in (1, 3, 4):
            img = img.transpose(1, 2, 0)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    return img


def show_images(
    imgs: Iterable[Any],
    num_rows: int,
    num_cols: int,
    titles: Sequence[str] | None = None,
    scale: float = 1.5,
) -> np.ndarray:
    """Show images in a grid of ``num_rows`` x ``num_cols`` and return the flat array of axes."""
    figsize = (num_cols * scale, num_rows * scale)
    _, axes = plt.subplots(num_rows, num_cols, figsize=figsize, squeeze=False)
    axes = axes.flatten()
    for i, (ax, img) in enumerate(zip(axes, imgs)):
        ax.imshow(_as_image(img))
        ax.axes.get_xaxis().set_visible(False)
        ax.axes.get_yaxis().set_visible(False)
        if titles:
            ax.set_title(titles[i])
    return axes


def ipython_shell() -> Any:
    """Return the running IPython shell (a terminal or a Jupyter kernel), or None in plain Python."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _in_kernel() -> bool:
    """Return True when running inside a Jupyter kernel (notebook, JupyterLab, VS Code)."""
    return getattr(ipython_shell(), "kernel", None) is not None


def display_mode(fig: Figure) -> str:
    """Return how ``fig`` can be shown live: "notebook", "gui", "widget" or "static" (see the module doc)."""
    backend = matplotlib.get_backend().lower()
    if "inline" in backend and _in_kernel():
        return "notebook"
    if getattr(fig.canvas, "required_interactive_framework", None):
        return "gui"
    if any(name in backend for name in ("ipympl", "widget", "nbagg", "notebook")):
        return "widget"
    return "static"


class Animator:
    """Plot data points incrementally: live in notebooks and windows, saved once at the end when headless."""

    def __init__(
        self,
        xlabel: str | None = None,
        ylabel: str | None = None,
        legend: Sequence[str] | None = None,
        xlim: Sequence[float] | None = None,
        ylim: Sequence[float] | None = None,
        xscale: str = "linear",
        yscale: str = "linear",
        fmts: Sequence[str] = ("-", "m--", "g-.", "r:"),
        nrows: int = 1,
        ncols: int = 1,
        figsize: tuple[float, float] = (3.5, 2.5),
        *,
        save_path: str | os.PathLike | None = None,
        live: bool = True,
        fig: Figure | None = None,
        axes: Axes | None = None,
    ) -> None:
        """Create the figure, or draw on ``axes`` (or the current axes of ``fig``) if given.

        ``finish()`` saves the figure to ``save_path`` if given; ``live=False`` never shows it. The labels,
        limits, scales and ``legend`` are attributes that ``config_axes`` applies at every redraw.
        """
        if axes is not None or fig is not None:
            self.fig = axes.figure if axes is not None else fig
            self.axes: list[Axes] = [axes if axes is not None else self.fig.gca()]
        else:
            self.fig, grid = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
            self.axes = list(grid.flat)
        self.mode = display_mode(self.fig) if live else "off"
        if self.mode in ("notebook", "off"):
            # Shown through our own display handle, or never: keep pyplot from showing it at cell end.
            plt.close(self.fig)
        self.xlabel, self.ylabel, self.xlim, self.ylim = xlabel, ylabel, xlim, ylim
        self.xscale, self.yscale, self.legend = xscale, yscale, list(legend or [])
        self.X: list[list[Any]] | None = None
        self.Y: list[list[Any]] | None = None
        self.fmts = fmts
        self.save_path = Path(save_path) if save_path is not None else None
        self._handle: Any = None
        self._window_shown = False

    def config_axes(self) -> None:
        """Apply the labels, limits, scales and legend to the first axes."""
        set_axes(self.axes[0], self.xlabel, self.ylabel, self.xlim, self.ylim, self.xscale, self.yscale, self.legend)

    def add(self, x: Any, y: Any) -> None:
        """Append point(s) ``(x, y)`` (one per line; None skips a line) and refresh the figure if live."""
        if not hasattr(y, "__len__"):
            y = [y]
        n = len(y)
        if not hasattr(x, "__len__"):
            x = [x] * n
        if not self.X:
            self.X = [[] for _ in range(n)]
        if not self.Y:
            self.Y = [[] for _ in range(n)]
        for i, (a, b) in enumerate(zip(x, y)):
            if a is not None and b is not None:
                self.X[i].append(to_float(a))
                self.Y[i].append(to_float(b))
        self.redraw()

    def set_lines(self, X: Sequence[Sequence[Any]], Y: Sequence[Sequence[Any]], fmts: Sequence[str] | None = None,
                  legend: Sequence[str] | None = None) -> None:
        """Replace every line by the points ``X[i]``, ``Y[i]`` (format ``fmts[i]``), and the legend; redraw."""
        self.X, self.Y = [list(xs) for xs in X], [list(ys) for ys in Y]
        if fmts is not None:
            self.fmts = list(fmts)
        if legend is not None:
            self.legend = list(legend)
        self.redraw()

    def redraw(self) -> None:
        """Plot every line of ``X``/``Y`` afresh, apply ``config_axes`` and refresh the figure if live."""
        self.axes[0].cla()
        for xs, ys, fmt in zip(self.X or [], self.Y or [], self.fmts):
            self.axes[0].plot(xs, ys, fmt)
        self.config_axes()
        self._refresh()

    def _refresh(self) -> None:
        """Redraw the figure where it is visible; do nothing on a non-interactive backend."""
        if self.mode == "notebook":
            from IPython.display import display

            if self._handle is None:
                self._handle = display(self.fig, display_id=True)
            else:
                self._handle.update(self.fig)
        elif self.mode == "gui":
            manager = getattr(self.fig.canvas, "manager", None)
            if not self._window_shown and manager is not None:
                manager.show()  # non-blocking, unlike plt.show()
                self._window_shown = True
            self.fig.canvas.draw_idle()
            self.fig.canvas.flush_events()
        elif self.mode == "widget":
            self.fig.canvas.draw_idle()

    def finish(self) -> Path | None:
        """End the animation: save the figure if ``save_path`` was given; return that path (else None)."""
        if self.save_path is not None:
            self.fig.savefig(self.save_path)
        return self.save_path
