"""Draw the backtest sweep: recall against false-alarm rate per fingerprint, and against threshold."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to bytes only

from matplotlib import pyplot as plt

FORMATS = ("svg", "png")


def render_sweep(
    rows: Sequence[dict[str, Any]],
    *,
    chosen: tuple[str, float] | None = None,
    goal: tuple[float, float] = (0.85, 0.01),
    fmt: str = "svg",
    title: str = "",
) -> bytes:
    """Render sweep rows (as from `service.sweep_rows`) to SVG or PNG bytes.

    Left: recall against the false-alarm rate (percent, time-split), one line per fingerprint,
    a point per threshold, the product goal shaded. Right: recall and false-alarm rate
    against the threshold for the chosen fingerprint. Raises ValueError on a bad format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    fps = list(dict.fromkeys(r["fingerprint"] for r in rows))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5), dpi=100)
    try:
        recall_goal, far_goal = goal
        left.fill_between(
            [0, far_goal * 100],
            recall_goal,
            1.02,
            color="tab:green",
            alpha=0.12,
            label=f"goal: recall ≥ {recall_goal:.2f} at ≤ {far_goal:.0%} false alarms",
        )
        for fp in fps:
            pts = [r for r in rows if r["fingerprint"] == fp and r["recall"] is not None]
            xs = [100 * (r["false_alarm_rate"] or 0.0) for r in pts]
            ys = [r["recall"] for r in pts]
            (line,) = left.plot(xs, ys, marker="o", markersize=3, label=fp)
            if chosen and fp == chosen[0]:
                for r, x, y in zip(pts, xs, ys, strict=True):
                    if round(r["threshold"] * 100) % 10 == 0:
                        left.annotate(
                            f"{r['threshold']:.2f}",
                            (x, y),
                            textcoords="offset points",
                            xytext=(4, -10),
                            fontsize=7,
                            color=line.get_color(),
                        )
        if chosen:
            hit = [
                r
                for r in rows
                if r["fingerprint"] == chosen[0] and abs(r["threshold"] - chosen[1]) < 1e-9
            ]
            if hit:
                left.plot(
                    [100 * (hit[0]["false_alarm_rate"] or 0.0)],
                    [hit[0]["recall"]],
                    marker="*",
                    markersize=14,
                    color="black",
                    linestyle="none",
                    label=f"default: {chosen[0]} at {chosen[1]:.2f}",
                )
        left.set_xscale("symlog", linthresh=1.0)
        left.set_xlabel("false-alarm rate on approved drugs, % (registry frozen at t; symlog)")
        left.set_ylabel("recall at first appearance")
        left.set_ylim(0, 1.02)
        left.set_xlim(left=0)
        left.grid(alpha=0.3)
        left.legend(loc="lower right", fontsize="small")
        left.set_title("Recall against false alarms, thresholds 0.30 to 0.90")

        fp = chosen[0] if chosen else (fps[0] if fps else "")
        pts = [r for r in rows if r["fingerprint"] == fp]
        ts = [r["threshold"] for r in pts]
        right.plot(ts, [r["recall"] or 0.0 for r in pts], marker="o", label="recall (any signal)")
        right.plot(
            ts,
            [r["recall_similarity"] or 0.0 for r in pts],
            marker=".",
            linestyle="--",
            label="recall (similarity signal)",
        )
        ax2 = right.twinx()
        ax2.plot(
            ts,
            [100 * (r["false_alarm_rate"] or 0.0) for r in pts],
            color="tab:red",
            marker="s",
            markersize=3,
            label="false alarms, % (frozen at t)",
        )
        ax2.plot(
            ts,
            [100 * (r["false_alarm_rate_now"] or 0.0) for r in pts],
            color="tab:red",
            linestyle=":",
            label="false alarms, % (registry today)",
        )
        ax2.set_ylabel("false-alarm rate, %")
        ax2.set_ylim(bottom=0)
        if chosen:
            right.axvline(chosen[1], color="black", linewidth=0.8)
        right.set_xlabel("similarity threshold (Tanimoto)")
        right.set_ylabel("recall")
        right.set_ylim(0, 1.02)
        right.grid(alpha=0.3)
        lines = right.get_legend_handles_labels()
        lines2 = ax2.get_legend_handles_labels()
        right.legend(
            lines[0] + lines2[0], lines[1] + lines2[1], loc="upper right", fontsize="small"
        )
        right.set_title(f"{fp}: recall and false alarms by threshold")
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        buf = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else None  # reproducible SVG
        fig.savefig(buf, format=fmt, bbox_inches="tight", metadata=metadata)
        return buf.getvalue()
    finally:
        plt.close(fig)
