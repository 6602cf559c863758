"""d2l 1.0's small utilities: ``add_to_class``, ``HyperParameters`` and the ``ProgressBoard`` that plots training.

These keep the book's names, call shapes and meaning (d2l 1.0.3, section "Object-Oriented Design for
Implementation"). ``ProgressBoard`` draws through :class:`d2lnotes.plotting.Animator`, so it behaves like every other
live plot of the course: updated in place in a notebook, a non-blocking window in a script with a GUI backend,
silent with Agg (the figure stays in pyplot for a final ``plt.show()``/``plt.savefig()``), and saved once by
``finish()`` when it has a ``save_path``. The book's board only draws inside Jupyter; elsewhere each point printed
``<Figure size 350x250 with 1 Axes>``.
"""

from __future__ import annotations

import collections
import inspect
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence, TypeVar

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from d2lnotes.numerics import to_float
from d2lnotes.plotting import Animator, ipython_shell

__all__ = ["add_to_class", "HyperParameters", "ProgressBoard"]

F = TypeVar("F", bound=Callable[..., Any])


def add_to_class(Class: type) -> Callable[[F], F]:  # noqa: N803 - the book's argument name
    """Return a decorator that attaches the decorated function to ``Class`` as a method (and returns it)."""

    def wrapper(obj: F) -> F:
        setattr(Class, obj.__name__, obj)
        return obj

    return wrapper


class HyperParameters:
    """Base class whose ``save_hyperparameters()`` turns the caller's ``__init__`` arguments into attributes."""

    def save_hyperparameters(self, ignore: Sequence[str] = ()) -> None:
        """Set each local variable of the calling function (its arguments) as an attribute, and keep them in
        ``self.hparams``; names in ``ignore``, ``self`` and names starting with ``_`` are left out."""
        frame = inspect.currentframe().f_back
        try:
            local_vars = dict(frame.f_locals)
        finally:
            del frame
        skip = set(ignore) | {"self"}
        self.hparams = {k: v for k, v in local_vars.items() if k not in skip and not k.startswith("_")}
        for k, v in self.hparams.items():
            setattr(self, k, v)


class Point(NamedTuple):
    """One point of a ProgressBoard line."""

    x: float
    y: float


class ProgressBoard(HyperParameters):
    """Plot named lines point by point during training (d2l 1.0's board), live wherever a figure can be shown.

    In a notebook each redraw renders the whole figure, so it is redrawn at most every ``refresh_seconds``; points
    in between are shown by the next redraw, by ``finish()``, or at the end of the cell. Windows and Agg figures
    are redrawn for every point, as in the book.
    """

    #: Least time between two renderings of the figure in a notebook.
    refresh_seconds: float = 0.5

    def __init__(
        self,
        xlabel: str | None = None,
        ylabel: str | None = None,
        xlim: Sequence[float] | None = None,
        ylim: Sequence[float] | None = None,
        xscale: str = "linear",
        yscale: str = "linear",
        ls: Sequence[str] = ("-", "--", "-.", ":"),
        colors: Sequence[str] = ("C0", "C1", "C2", "C3"),
        fig: Figure | None = None,
        axes: Axes | None = None,
        figsize: tuple[float, float] = (3.5, 2.5),
        display: bool = True,
        *,
        save_path: str | os.PathLike | None = None,
    ) -> None:
        """Keep the settings; ``display=False`` draws nothing; ``save_path`` is where ``finish()`` saves the plot."""
        self.save_hyperparameters()
        self.raw_points: collections.OrderedDict[str, list[Point]] = collections.OrderedDict()
        self.data: collections.OrderedDict[str, list[Point]] = collections.OrderedDict()
        self.animator: Animator | None = None
        self._made: Figure | None = None  # the last figure this board created itself
        self._pending = False  # points plotted since the figure was last shown
        self._shown_at = -math.inf

    def draw(self, x: Any, y: Any, label: str, every_n: int = 1) -> None:
        """Add point ``(x, y)`` to line ``label``; every ``every_n`` points, plot their mean as one point."""
        points = self.raw_points.setdefault(label, [])
        line = self.data.setdefault(label, [])
        points.append(Point(to_float(x), to_float(y)))
        if len(points) < every_n:
            return
        line.append(Point(sum(p.x for p in points) / len(points), sum(p.y for p in points) / len(points)))
        points.clear()
        if self.display or self.save_path is not None:
            self._redraw()

    def _style(self, i: int) -> tuple[str, str]:
        """Return (line style, color) of the i-th line, cycling through ``ls`` and ``colors``."""
        return self.ls[i % len(self.ls)], self.colors[i % len(self.colors)]

    def _start(self) -> Animator:
        """Create the Animator that shows this board, with its settings (on ``fig``/``axes`` if the caller set them)."""
        # fig/axes set by the caller (not those of this board's previous figure): draw there instead.
        axes = self.axes if self.axes is not None and self.axes.figure is not self._made else None
        fig = None if axes is not None or self.fig is self._made else self.fig
        anim = Animator(xlabel=self.xlabel, ylabel=self.ylabel, xlim=self.xlim, ylim=self.ylim, xscale=self.xscale,
                        yscale=self.yscale, figsize=self.figsize, save_path=self.save_path, live=self.display,
                        fig=fig, axes=axes)
        if fig is None and axes is None:
            self._made = anim.fig
        self.fig, self.axes = anim.fig, anim.axes[0]  # like the book: board.fig is the figure drawn on
        return anim

    def _redraw(self) -> None:
        """Show the new point now, or later where redrawing now would cost more than it shows (see ``flush``)."""
        if self.animator is None:
            self.animator = self._start()
        mode = self.animator.mode
        recently = time.monotonic() - self._shown_at < self.refresh_seconds
        if mode == "off" or (mode == "notebook" and recently):
            self._defer()
        else:
            self._render()

    def _render(self) -> None:
        """Plot every line's points and refresh the figure where it is shown."""
        lines = list(self.data.values())
        fmts = [color + linestyle for linestyle, color in map(self._style, range(len(lines)))]
        self.animator.set_lines([[p.x for p in line] for line in lines], [[p.y for p in line] for line in lines],
                                fmts, legend=list(self.data))
        self._pending = False
        self._shown_at = time.monotonic()

    def _defer(self) -> None:
        """Mark points as not yet shown; in IPython, show them at the latest when the cell ends."""
        if self._pending:
            return
        self._pending = True
        shell = ipython_shell()
        if shell is not None:
            shell.events.register("post_run_cell", self._flush_at_cell_end)

    def _flush_at_cell_end(self, result: Any = None) -> None:
        """IPython callback: show the points not shown yet, once."""
        shell = ipython_shell()
        if shell is not None:
            shell.events.unregister("post_run_cell", self._flush_at_cell_end)
        self.flush()

    def flush(self) -> None:
        """Show the points that are plotted but not shown yet (a notebook redraws at most every refresh_seconds)."""
        if self._pending and self.animator is not None:
            self._render()

    def finish(self) -> Path | None:
        """End this figure: show all points, save it to ``save_path`` if set and return that path (else None).

        Points drawn after ``finish()`` start a new figure.
        """
        self.flush()
        anim, self.animator = self.animator, None
        return anim.finish() if anim is not None else None
