"""Draw Kaplan-Meier curves of time to control: one line per group, censoring marks, months."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to files and bytes only

from matplotlib import pyplot as plt

from service.lag.service import DAYS_PER_MONTH

FORMATS = ("svg", "png")


def _survival_at(points: Sequence[dict[str, Any]], days: float) -> float:
    value = 1.0
    for p in points:
        if p["days"] > days:
            break
        if p["survival"] is not None:
            value = p["survival"]
    return value


def render(curves: Sequence[dict[str, Any]], *, fmt: str = "svg", title: str = "") -> bytes:
    """Render curves (as from `service.curves`) to SVG or PNG bytes; raise ValueError on a bad format.

    A drawing takes about 0.1 s and the lag page asks for the same one on every view: the bytes
    are remembered per curves, format and title (bounded).
    """
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    return _render(json.dumps(list(curves), sort_keys=True), fmt, title)


@lru_cache(maxsize=32)
def _render(curves_json: str, fmt: str, title: str) -> bytes:
    curves: list[dict[str, Any]] = json.loads(curves_json)
    fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
    try:
        for curve in curves:
            pts = curve["points"]
            if not pts:
                continue
            xs = [0.0] + [p["days"] / DAYS_PER_MONTH for p in pts]
            ys = [1.0] + [p["survival"] if p["survival"] is not None else 1.0 for p in pts]
            lo = [1.0] + [p["ci_lower"] if p["ci_lower"] is not None else 0.0 for p in pts]
            hi = [1.0] + [p["ci_upper"] if p["ci_upper"] is not None else 1.0 for p in pts]
            label = f"{curve['group']} (n={curve['n']}, censored {curve['n_censored']})"
            (line,) = ax.step(xs, ys, where="post", label=label)
            ax.fill_between(xs, lo, hi, step="post", alpha=0.15, color=line.get_color())
            cens = curve.get("censored_days", [])
            if cens:
                ax.plot(
                    [d / DAYS_PER_MONTH for d in cens],
                    [_survival_at(pts, d) for d in cens],
                    linestyle="none",
                    marker="|",
                    markersize=10,
                    color=line.get_color(),
                )
        ax.set_xlabel("months since first appearance")
        ax.set_ylabel("share not yet controlled")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
        ax.set_title(
            title or "Time from first appearance to control (Kaplan-Meier, 95% band; | censored)"
        )
        if curves:
            ax.legend(loc="upper right", fontsize="small")
        buf = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else None  # reproducible SVG
        fig.savefig(buf, format=fmt, bbox_inches="tight", metadata=metadata)
        return buf.getvalue()
    finally:
        plt.close(fig)
