"""The report's pictures (matplotlib, no display needed): where the time goes per tool, and what
the cold index costs as the workspace grows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: files only
import matplotlib.pyplot as plt
import numpy as np

COLOURS = {"forge_lsp": "#2a7ab0", "basedpyright": "#d9822b", "jedi": "#5a9e47"}
PANELS = (
    ("references_ms", "references"),
    ("incoming_ms", "incoming calls"),
    ("keystroke_ms", "keystroke → answer"),
    ("impact_ms", "impact, depth 3"),
)


def latency_plot(corpus: dict[str, Any], path: Path) -> str:
    """Box plots (log scale) of every latency sample, one panel per request kind, one box per
    tool that answered it. Returns the file name, for the report's link."""
    figures = corpus["figures"]
    panels = [(k, t) for k, t in PANELS if any(figures[tool].get(k) for tool in figures)]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6), squeeze=False)
    for ax, (key, title) in zip(axes[0], panels, strict=True):
        tools = [t for t in figures if figures[t].get(key)]
        data = [figures[t][key] for t in tools]
        parts = ax.boxplot(data, whis=(5, 95), showfliers=True, patch_artist=True)
        for patch, tool in zip(parts["boxes"], tools, strict=True):
            patch.set_facecolor(COLOURS.get(tool, "#999999"))
            patch.set_alpha(0.7)
        ax.set_xticks(range(1, len(tools) + 1), [t.replace("_lsp", "") for t in tools])
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("ms")
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{corpus['name']}: latency per request (whiskers: p5–p95)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def _fitted(ax: Any, sizes: list[int], values: list[float], unit: str) -> None:
    """The measured points and the power law fitted to them (a straight line in log-log)."""
    ax.plot(sizes, values, "o", color=COLOURS["forge_lsp"], label="measured")
    if len(sizes) >= 2:
        slope, intercept = np.polyfit(np.log(sizes), np.log(values), 1)
        xs = np.geomspace(min(sizes), max(sizes), 50)
        fit = np.exp(intercept) * xs**slope
        ax.plot(
            xs,
            fit,
            "-",
            color=COLOURS["forge_lsp"],
            alpha=0.6,
            label=f"fit: {unit} ∝ n^{slope:.2f}",
        )


def scale_plot(scale: list[dict[str, Any]], path: Path) -> str:
    """Cold index time and peak RSS against workspace size (log-log) with a fitted power law
    each, and the 100k bars."""
    sizes = [s["files"] for s in scale]
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.5, 3.6))
    _fitted(left, sizes, [s["cold_s"] for s in scale], "time")
    left.axhline(150, color="#b03030", linestyle="--", linewidth=1, label="bar at 100k: 150 s")
    left.set_ylabel("cold index, seconds (2 jobs)")
    _fitted(right, sizes, [s["cold_peak_rss_mb"] for s in scale], "memory")
    right.axhline(500, color="#b03030", linestyle="--", linewidth=1, label="bar at 100k: 500 MB")
    right.set_ylabel("peak RSS of the index, MB")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("files")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle("forge_lsp cold index against workspace size (synthetic)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name
