"""`analogwatch backtest …`: the early-warning backtest, its sweep, counterfactual and document."""

from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from service.backtest import service
from service.clikit import JurisdictionOpt, _as_of, _print_json, _settings, err, fail, friendly, out
from service.registry.snapshot import Snapshot

backtest_app = typer.Typer(
    help="Early-warning backtest: would the watchlist have flagged compounds before they were scheduled?",
    invoke_without_command=True,
    no_args_is_help=False,
)

FingerprintOpt = Annotated[
    str | None,
    typer.Option(
        "--fingerprint",
        help=f"{', '.join(service.FINGERPRINTS)} (default: the service's Morgan radius)",
    ),
]
ThresholdOpt = Annotated[
    float | None,
    typer.Option(
        "--threshold", min=0.0, max=1.0, help="similarity threshold (default: the service's)"
    ),
]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="count controls up to this day (YYYY-MM-DD)")
]
RegistryOpt = Annotated[
    Path | None,
    typer.Option(
        "--registry",
        help="registry directory loaded into a temporary database (default: the configured database)",
    ),
]

CSV_FIELDS = [
    "jurisdiction",
    "name",
    "inchikey",
    "first_appearance",
    "t",
    "controlled",
    "control",
    "status",
    "warned",
    "signals",
    "lead_months",
    "lead_months_min",
    "lead_months_max",
    "nearest",
    "nearest_similarity",
    "why",
]


def _snapshot(registry: Path | None) -> Snapshot:
    if registry is not None:
        from service.lag.cli import analysis_snapshot

        if not registry.is_dir():
            fail(f"--registry: {registry} is not a directory", code=2)
        return analysis_snapshot(registry)
    from service import runtime

    with runtime.open_read_only(_settings()) as rt:
        return rt.snapshot()


def _defaults(fingerprint: str | None, threshold: float | None) -> tuple[str, float, int]:
    settings = _settings()
    fp = fingerprint or service.fingerprint_name("morgan", settings.fingerprint_radius)
    try:
        service._fp_setting(fp)
    except Exception:
        fail(f"--fingerprint: {fp!r} is not one of {', '.join(service.FINGERPRINTS)}", code=2)
    thr = settings.similarity_threshold if threshold is None else threshold
    return fp, thr, settings.fingerprint_bits


def _codes(snapshot: Snapshot, jurisdiction: list[str] | None) -> list[str] | None:
    for code in jurisdiction or ():
        if code.upper() not in snapshot.jurisdictions:
            fail(f"--jurisdiction: unknown jurisdiction {code!r}", code=2)
    return [j.upper() for j in jurisdiction] if jurisdiction else None


def _sweep_runs(
    snapshot: Snapshot, *, as_of: date, bits: int, codes: list[str] | None
) -> list[service.Run]:
    fps = service.FingerprintCache(bits)
    return [
        service.run(
            snapshot, as_of=as_of, fingerprint=name, bits=bits, jurisdictions=codes, fps=fps
        )
        for name in service.FINGERPRINTS
    ]


def _months(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.2f}%"


@backtest_app.callback(invoke_without_command=True)
@friendly
def backtest(
    ctx: typer.Context,
    jurisdiction: JurisdictionOpt = None,
    fingerprint: FingerprintOpt = None,
    threshold: ThresholdOpt = None,
    as_of: AsOfOpt = None,
    registry: RegistryOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print JSON data instead of a table")
    ] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="print one CSV row per test")] = False,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="also draw the threshold and fingerprint sweep to FILE.svg"),
    ] = None,
) -> None:
    """Check each substance, at its first appearance, against the registry as it stood then."""
    if ctx.invoked_subcommand is not None:
        return
    if as_json and as_csv:
        fail("give --json or --csv, not both", code=2)
    if plot is not None and plot.suffix.lower() not in (".svg", ".png"):
        fail(f"--plot: {plot} must end in .svg or .png", code=2)
    fp, thr, bits = _defaults(fingerprint, threshold)
    day: date = _as_of(as_of)
    snapshot = _snapshot(registry)
    codes = _codes(snapshot, jurisdiction)
    if plot is not None:
        from service.backtest.plot import render_sweep

        runs = _sweep_runs(snapshot, as_of=day, bits=bits, codes=codes)
        run = next(r for r in runs if r.fingerprint == fp) if fp in service.FINGERPRINTS else None
        if run is None:
            run = service.run(snapshot, as_of=day, fingerprint=fp, bits=bits, jurisdictions=codes)
        data = render_sweep(
            service.sweep_rows(runs), chosen=(fp, thr), fmt=plot.suffix.lower().lstrip(".")
        )
        plot.parent.mkdir(parents=True, exist_ok=True)
        plot.write_bytes(data)
        err.print(f"wrote {plot} ({len(data)} bytes)")
    else:
        run = service.run(snapshot, as_of=day, fingerprint=fp, bits=bits, jurisdictions=codes)
    summary = service.summarize(run, threshold=thr, jurisdictions=codes)
    if as_json:
        summary["counterfactual"] = service.counterfactual(snapshot, as_of=day, jurisdictions=codes)
        _print_json(summary)
        return
    if as_csv:
        writer = csv.DictWriter(
            sys.stdout, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        for j in summary["jurisdictions"]:
            for tr in [*j["warned"], *j["misses"]]:
                near = tr["nearest"] or {}
                writer.writerow(
                    {
                        **tr,
                        "signals": "|".join(tr["signals"]),
                        "nearest": near.get("name", ""),
                        "nearest_similarity": near.get("similarity", ""),
                        "why": tr.get("why") or "",
                    }
                )
        return
    t = Table(
        "jurisdiction",
        "tested",
        "warned",
        "recall",
        "median lead (months)",
        "IQR",
        "false alarms (at t)",
        "false alarms (today)",
        title=f"early-warning backtest: {fp}, threshold {thr:.2f}, as of {day}",
    )
    for j in [*summary["jurisdictions"], summary["overall"]]:
        t.add_row(
            j["jurisdiction"],
            str(j["n_later_controlled"]),
            str(j["n_warned"]),
            "—" if j["recall"] is None else f"{j['recall']:.2f}",
            _months(j["median_lead_months"]),
            f"{_months(j['lead_q1_months'])} to {_months(j['lead_q3_months'])}",
            _pct(j["false_alarm_rate"]),
            _pct(j["false_alarm_rate_now"]),
        )
    out.print(t)
    m = Table(
        "jurisdiction",
        "substance",
        "first reported",
        "controlled",
        "nearest in J at t",
        "why",
        title="misses",
    )
    for j in summary["jurisdictions"]:
        for tr in j["misses"]:
            near = tr["nearest"]
            m.add_row(
                tr["jurisdiction"],
                tr["name"],
                tr["first_appearance"],
                tr["controlled"],
                f"{near['name']} ({near['similarity']:.2f})" if near else "none",
                tr["why"],
            )
    out.print(m)


@backtest_app.command("sweep")
@friendly
def sweep_cmd(
    jurisdiction: JurisdictionOpt = None,
    as_of: AsOfOpt = None,
    registry: RegistryOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print JSON data instead of a table")
    ] = False,
) -> None:
    """Recall against false-alarm rate for every fingerprint and threshold 0.30 to 0.90."""
    _, _, bits = _defaults(None, None)
    day: date = _as_of(as_of)
    snapshot = _snapshot(registry)
    codes = _codes(snapshot, jurisdiction)
    rows = service.sweep_rows(_sweep_runs(snapshot, as_of=day, bits=bits, codes=codes))
    if as_json:
        _print_json({"rows": rows, "chosen": service.choose(rows)})
        return
    t = Table(
        "fingerprint",
        "threshold",
        "recall",
        "recall (similarity)",
        "median lead",
        "false alarms (at t)",
        "false alarms (today)",
    )
    for r in rows:
        t.add_row(
            r["fingerprint"],
            f"{r['threshold']:.2f}",
            f"{r['recall']:.2f}" if r["recall"] is not None else "—",
            f"{r['recall_similarity']:.2f}" if r["recall_similarity"] is not None else "—",
            _months(r["median_lead_months"]),
            _pct(r["false_alarm_rate"]),
            _pct(r["false_alarm_rate_now"]),
        )
    out.print(t)


@backtest_app.command("counterfactual")
@friendly
def counterfactual_cmd(
    since: Annotated[
        list[str] | None,
        typer.Option("--since", help="day D the class law is assumed in force from (repeatable)"),
    ] = None,
    jurisdiction: JurisdictionOpt = None,
    as_of: AsOfOpt = None,
    registry: RegistryOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print JSON data instead of a table")
    ] = False,
) -> None:
    """Had the US or Chinese class law been in force from D: listings covered, lag saved."""
    days = [_as_of(d) for d in since] if since else list(service.COUNTERFACTUAL_SINCE)
    day: date = _as_of(as_of)
    snapshot = _snapshot(registry)
    codes = _codes(snapshot, jurisdiction)
    data = service.counterfactual(snapshot, as_of=day, since=days, jurisdictions=codes)
    if as_json:
        _print_json(data)
        return
    t = Table(
        "J",
        "class law",
        "D",
        "listings",
        "covered",
        "months earlier (total)",
        "lag saved, months (total)",
        "covered listings",
    )
    for c in data:
        t.add_row(
            c["jurisdiction"],
            c["class_law_date"],
            c["since"],
            str(c["n_listings"]),
            str(c["n_covered"]),
            f"{c['months_earlier_total']:.1f}",
            f"{c['lag_months_saved_total']:.1f} ({c['n_with_appearance']} with appearance)",
            ", ".join(x["name"] for x in c["substances"] if x["covered"]),
        )
    out.print(t)


@backtest_app.command("doc")
@friendly
def doc_cmd(
    out_file: Annotated[Path, typer.Option("--out", help="Markdown file to write")] = Path(
        "docs/backtest.md"
    ),
    registry: Annotated[
        Path | None,
        typer.Option("--registry", help="registry directory (default: the shipped schedules/)"),
    ] = None,
    as_of: AsOfOpt = None,
) -> None:
    """Regenerate docs/backtest.md and its figure from the registry (loaded into a temporary database)."""
    from service.backtest.analysis import write_analysis
    from service.backtest.plot import render_sweep
    from service.paths import schedules_dir

    fp, thr, bits = _defaults(None, None)
    day: date = _as_of(as_of)
    snapshot = _snapshot(registry or schedules_dir())
    runs = _sweep_runs(snapshot, as_of=day, bits=bits, codes=None)
    if fp not in service.FINGERPRINTS:
        runs.append(service.run(snapshot, as_of=day, fingerprint=fp, bits=bits))
    out_file.parent.mkdir(parents=True, exist_ok=True)
    fig = out_file.with_suffix(".svg")
    fig.write_bytes(render_sweep(service.sweep_rows(runs), chosen=(fp, thr), fmt="svg"))
    text = write_analysis(
        snapshot,
        as_of=day,
        default_fingerprint=fp,
        default_threshold=thr,
        runs=runs,
        figure=fig.name,
    )
    out_file.write_text(text, encoding="utf-8")
    out.print(f"wrote {out_file} and {fig}")
