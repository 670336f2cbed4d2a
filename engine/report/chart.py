"""tiers.png: accounts and ARR per tier, side by side, drawn with matplotlib (imported
only when a chart is drawn); and the figure and PNG writing the replay's charts share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..assess.result import SegmentResult

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


def tier_chart_png(result: SegmentResult, path: str) -> None:
    rs = result.ruleset
    summary = result.tier_summary()
    labels = [t.label for t in rs.tiers]
    accounts = [summary[t.id]["accounts"] for t in rs.tiers]
    arr = [summary[t.id]["arr"] / 1e6 for t in rs.tiers]
    fig = new_figure(11, 4.2)
    ax1, ax2 = fig.subplots(1, 2)
    colors = ["#1b4f72", "#2e86c1", "#85c1e9", "#d6eaf8", "#aab7b8", "#566573"][: len(labels)]
    for ax, data, title, fmt in (
        (ax1, accounts, "Accounts per tier", "{:,.0f}"),
        (ax2, arr, "ARR per tier ($M)", "${:,.2f}M"),
    ):
        bars = ax.bar(range(len(labels)), data, color=colors, edgecolor="#333333", linewidth=0.6)
        ax.set_title(title, fontsize=12)
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=15, ha="right", fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
        for bar, value in zip(bars, data):
            ax.annotate(
                fmt.format(value),
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=9,
                xytext=(0, 2),
                textcoords="offset points",
            )
    fig.suptitle(
        f"{rs.name} {rs.version}: {len(result.evaluation.decisions):,} accounts, "
        f"as of {result.evaluation.as_of.isoformat()}",
        fontsize=11,
    )
    save_png(fig, path)
