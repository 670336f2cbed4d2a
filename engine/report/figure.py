"""The matplotlib figure and PNG writing of replay's charts (matplotlib is imported only
when one is drawn; a segment's tiers.png is drawn by chart.py without it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def new_figure(width: float, height: float) -> Figure:
    """A Figure drawn by the Agg canvas directly: pyplot (its backends and global figure
    manager) is not imported, which halves the chart's import time, and no process-wide
    backend is chosen for whoever else uses matplotlib."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Figure, path: str) -> None:
    """The figure laid out tight, as a PNG whose bytes depend on the figure alone."""
    fig.tight_layout()
    # tight_layout leaves a placeholder layout engine on the figure, and savefig first
    # draws a figure that has one (so the engine can run) before drawing it again into
    # the file; without it the figure is drawn once, into the same pixels
    fig.set_layout_engine(None)
    fig.savefig(path, format="png", metadata={"Software": None})  # (no version in the file)
