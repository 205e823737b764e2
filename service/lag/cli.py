"""`analogwatch lag …`: lag rows, statistics, plots and the analysis document."""

from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from service.clikit import (
    JsonOpt,
    JurisdictionOpt,
    _as_of,
    _print_json,
    _settings,
    fail,
    friendly,
    out,
)
from service.lag import service
from service.registry.snapshot import Snapshot

lag_app = typer.Typer(
    help="Scheduling lag: from first appearance to first control.",
    invoke_without_command=True,
    no_args_is_help=False,
)

FamilyOpt = Annotated[
    str | None, typer.Option("--family", help="drug family (fentanyl, nitazene, ...)")
]
BasisOpt = Annotated[str, typer.Option("--basis", help="global (first report anywhere) or local")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="count controls up to this day (YYYY-MM-DD)")
]
GroupByOpt = Annotated[
    str, typer.Option("--group-by", help="jurisdiction, family, year or class_law")
]


def _snapshot() -> Snapshot:
    from service import runtime

    with runtime.open_read_only(_settings()) as rt:
        return rt.snapshot()


def _check_choice(name: str, value: str, choices: list[str]) -> None:
    if value not in choices:
        fail(f"{name}: {value!r} is not one of {', '.join(choices)}", code=2)


def _table(
    jurisdiction: list[str] | None, family: str | None, basis: str, as_of: str | None
) -> service.LagTable:
    _check_choice("--basis", basis, [b.value for b in service.Basis])
    day = _as_of(as_of)
    snapshot = _snapshot()
    for code in jurisdiction or ():
        if code.upper() not in snapshot.jurisdictions:
            fail(f"--jurisdiction: unknown jurisdiction {code!r}", code=2)
    return service.lag_rows(
        snapshot, as_of=day, basis=basis, jurisdictions=jurisdiction, family=family
    )


def _months(days: float | None) -> str:
    return "" if days is None else f"{days / service.DAYS_PER_MONTH:.1f}"


@lag_app.callback(invoke_without_command=True)
@friendly
def lag(
    ctx: typer.Context,
    jurisdiction: JurisdictionOpt = None,
    family: FamilyOpt = None,
    basis: BasisOpt = "global",
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="print CSV instead of a table")] = False,
) -> None:
    """List lag rows: first appearance to first control per substance and jurisdiction."""
    if ctx.invoked_subcommand is not None:
        return
    if as_json and as_csv:
        fail("give --json or --csv, not both", code=2)
    table = _table(jurisdiction, family, basis, as_of)
    if as_json:
        _print_json([r.as_dict() for r in table.rows])
        return
    if as_csv:
        writer = csv.DictWriter(
            sys.stdout, fieldnames=service.ROW_FIELDS, extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        for r in table.rows:
            writer.writerow(r.as_dict())
        return
    t = Table(
        "jurisdiction",
        "substance",
        "first appearance",
        "controlled",
        "outcome",
        "lag (months)",
        "range",
        title=f"scheduling lag, {table.basis} basis, as of {table.as_of}",
    )
    for r in table.rows:
        t.add_row(
            r.jurisdiction,
            r.name,
            f"{r.start_date} {r.start_place}",
            r.end_date.isoformat() if r.event else "—",
            r.outcome + (f" ({r.class_key})" if r.class_key else ""),
            _months(r.lag_days),
            f"{_months(r.lag_days_min)} to {_months(r.lag_days_max)}",
        )
    out.print(t)
    out.print(
        f"{len(table.without_appearance)} NPS substances have no recorded appearance (no lag row)"
    )


@lag_app.command("summary")
@friendly
def summary_cmd(
    jurisdiction: JurisdictionOpt = None,
    family: FamilyOpt = None,
    basis: BasisOpt = "global",
    as_of: AsOfOpt = None,
    group_by: Annotated[
        str | None, typer.Option("--group-by", help="one grouping (default all four)")
    ] = None,
    compare: Annotated[
        tuple[str, str] | None,
        typer.Option("--compare", help="log-rank test between two groups: A B"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Statistics: n, censored, medians, quartiles, Kaplan-Meier; optional log-rank test."""
    if group_by is not None:
        _check_choice("--group-by", group_by, [g.value for g in service.GroupBy])
    if compare is not None and group_by is None:
        fail("--compare needs --group-by", code=2)
    table = _table(jurisdiction, family, basis, as_of)
    data = service.summary(table, group_by=[group_by] if group_by else None, compare=compare)
    if as_json:
        _print_json(data)
        return
    out.print(
        f"as of {data['as_of']}, {data['basis']} basis: {data['n_rows']} rows, "
        f"{data['n_substances']} substances; {data['n_without_appearance']} NPS substances without an "
        f"appearance; {data['overall']['n_interval_censored']} rows interval-censored (controlled by "
        "a consolidated list's date, since when unknown); "
        f"{data['overall'].get('n_censored_unencoded', 0)} censored rows may be controlled under a "
        "generic law the registry does not encode",
        highlight=False,
    )
    for by, groups in data["groups"].items():
        t = Table(
            by,
            "n",
            "controlled",
            "pre-emptive",
            "censored",
            "of which by list",
            "median (months)",
            "IQR",
            "KM median",
            "KM 95% CI",
            title=f"by {by}",
        )
        for g in [{"group": "all", **data["overall"]}, *groups] if by == "jurisdiction" else groups:
            ci = g["km_median_ci_days"]
            t.add_row(
                str(g["group"]),
                str(g["n"]),
                str(g["n_controlled"]),
                str(g["n_pre_emptive"]),
                str(g["n_censored"]),
                str(g["n_interval_censored"]),
                _months(g["observed_median_days"]),
                f"{_months(g['observed_q1_days'])} to {_months(g['observed_q3_days'])}",
                _months(g["km_median_days"]) or "not reached",
                f"{_months(ci[0])} to {_months(ci[1])}",
            )
        out.print(t)
    if data["logrank"]:
        lr = data["logrank"]
        out.print(
            f"log-rank {lr['group_by']} {lr['a']} vs {lr['b']}: statistic {lr['test_statistic']:.3f}, "
            f"p = {lr['p_value']:.3g} (n = {lr['n_a']} vs {lr['n_b']})",
            highlight=False,
        )


@lag_app.command("plot")
@friendly
def plot_cmd(
    out_file: Annotated[Path, typer.Option("--out", help="FILE.svg or FILE.png")],
    jurisdiction: JurisdictionOpt = None,
    family: FamilyOpt = None,
    basis: BasisOpt = "global",
    as_of: AsOfOpt = None,
    group_by: GroupByOpt = "jurisdiction",
) -> None:
    """Draw Kaplan-Meier curves of time to control, one line per group, to an SVG or PNG file."""
    from service.lag import plot

    fmt = out_file.suffix.lower().lstrip(".")
    _check_choice("--out", fmt, list(plot.FORMATS))
    _check_choice("--group-by", group_by, [g.value for g in service.GroupBy])
    table = _table(jurisdiction, family, basis, as_of)
    title = f"Time to control by {group_by}, {table.basis} basis, as of {table.as_of}"
    data = plot.render(service.curves(table.rows, by=group_by), fmt=fmt, title=title)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_bytes(data)
    out.print(f"wrote {out_file} ({len(data)} bytes)")


def analysis_snapshot(registry: Path) -> Snapshot:
    """Read a registry directory through a throw-away database (the configured one is untouched)."""
    from service import runtime

    with runtime.open_scratch(_settings(), registry) as rt:
        return rt.snapshot()


@lag_app.command("analysis")
@friendly
def analysis_cmd(
    out_file: Annotated[Path, typer.Option("--out", help="Markdown file to write")] = Path(
        "docs/lag-analysis.md"
    ),
    registry: Annotated[
        Path | None,
        typer.Option("--registry", help="registry directory (default: the shipped schedules/)"),
    ] = None,
    as_of: AsOfOpt = None,
    figure: Annotated[
        bool,
        typer.Option("--figure/--no-figure", help="also draw the curves beside the document (SVG)"),
    ] = True,
) -> None:
    """Regenerate the lag analysis document from the registry (loaded into a temporary database)."""
    from service.lag import plot
    from service.lag.analysis import write_analysis
    from service.paths import schedules_dir

    day: date = _as_of(as_of)
    snapshot = analysis_snapshot(registry or schedules_dir())
    fig_name: str | None = None
    out_file.parent.mkdir(parents=True, exist_ok=True)
    if figure:
        fig_path = out_file.with_suffix(".svg")
        table = service.lag_rows(snapshot, as_of=day, basis="global")
        curves: list[dict[str, Any]] = service.curves(table.rows, by="jurisdiction")
        title = f"Time to control by jurisdiction, global basis, as of {day}"
        fig_path.write_bytes(plot.render(curves, fmt="svg", title=title))
        fig_name = fig_path.name
    out_file.write_text(write_analysis(snapshot, as_of=day, figure=fig_name), encoding="utf-8")
    out.print(f"wrote {out_file}" + (f" and {out_file.with_suffix('.svg')}" if figure else ""))
