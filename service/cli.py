"""The `analogwatch` command line; the only module that prints."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from service import migrate, runtime
from service.backtest.cli import backtest_app
from service.clikit import (
    JsonOpt,
    JurisdictionOpt,
    _as_of,
    _print_json,
    _settings,
    err,
    fail,
    friendly,
    out,
)
from service.config import Settings
from service.db import make_engine
from service.errors import RegistryInvalid
from service.lag.cli import lag_app
from service.paths import schedules_dir

app = typer.Typer(
    name="analogwatch",
    help="Controlled-substance analog watchlist.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
registry_app = typer.Typer(help="The loaded registry.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(registry_app, name="registry")
app.add_typer(lag_app, name="lag")
app.add_typer(backtest_app, name="backtest")
report_app = typer.Typer(help="Periodic reports, run on demand.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@app.command()
@friendly
def serve(
    host: Annotated[
        str | None, typer.Option(help="address to bind (default from settings)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="port (default from settings)")] = None,
    workers: Annotated[int, typer.Option(min=1, help="API worker processes")] = 1,
) -> None:
    """Start the API: migrate the embedded database, load schedules/, serve on HTTP."""
    import uvicorn

    settings = _settings()
    # migrate and load once here, before workers start, so workers never race on it
    runtime.open_writable(settings).close()
    # each worker builds its app with create_served_app: the periodic report runs unless
    # ANALOGWATCH_SCHEDULER says otherwise; a lease in the database keeps workers to one run
    uvicorn.run(
        "service.app:create_served_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level="info",
    )


@app.command()
@friendly
def load(
    directory: Annotated[
        Path | None, typer.Argument(help="registry directory (default: the shipped schedules/)")
    ] = None,
    check: Annotated[bool, typer.Option("--check", help="validate only; change nothing")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="reload even if the files are unchanged")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Validate every registry file, then load them in one transaction."""
    from service.registry.formats import read_registry

    directory = directory or _settings().schedules_dir or schedules_dir()
    if check:
        reg = read_registry(directory)
        if reg.problems:
            raise RegistryInvalid(reg.problems)
        summary = {
            "substances": len(reg.substances),
            "actions": len(reg.actions),
            "appearances": len(reg.appearances),
            "classes": len(reg.classes),
            "unencoded": len(reg.unencoded),
            "exclusions": len(reg.exclusions),
            "digest": reg.digest,
        }
        _print_json(summary) if as_json else out.print(f"valid: {summary}")
        return
    settings = _settings()
    with runtime.open_writable(settings, auto_load=False) as rt:
        result = runtime.load(settings, rt.engine, directory, force=force)
    if as_json:
        _print_json(result.as_dict())
    elif not result.changed:
        out.print(f"registry unchanged (digest {result.digest[:12]})")
    else:
        out.print(f"registry loaded (digest {result.digest[:12]})")
        for table, counts in result.counts.items():
            if table != "files":
                out.print(f"  {table}: {counts}")


@db_app.command("upgrade")
@friendly
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Upgrade the database schema (default: to head)."""
    migrate.upgrade(_settings().database_url, revision)
    out.print(f"database at {revision}")


@db_app.command("downgrade")
@friendly
def db_downgrade(revision: Annotated[str, typer.Argument()] = "-1") -> None:
    """Downgrade the database schema by one revision, or to REVISION (`base` empties it)."""
    migrate.downgrade(_settings().database_url, revision)
    out.print(f"database downgraded to {revision}")


@db_app.command("current")
@friendly
def db_current() -> None:
    """Print the database's schema revision and the code's head revision."""
    settings = _settings()
    engine = make_engine(settings.database_url)
    current = migrate.current_revision(engine)
    head = migrate.head_revision(settings.database_url)
    out.print(f"current: {current or '(empty database)'}  head: {head}")


@db_app.command("backup")
@friendly
def db_backup(file: Annotated[Path, typer.Argument(help="where to write the copy")]) -> None:
    """Copy the embedded SQLite database to FILE (online: safe while the service runs)."""
    from service.backup import backup

    rev = backup(_settings().database_url, file)
    out.print(f"backed up to {file} (schema {rev})")


@db_app.command("restore")
@friendly
def db_restore(file: Annotated[Path, typer.Argument(help="a file written by `db backup`")]) -> None:
    """Replace the embedded SQLite database's content with a backup, then migrate it to head."""
    from service.backup import restore

    settings = _settings()
    rev = restore(settings.database_url, file)
    migrate.upgrade(settings.database_url)
    out.print(f"restored {file} (schema {rev}, now at head)")


@app.command()
@friendly
def config(as_json: JsonOpt = False) -> None:
    """Print the effective settings, secrets masked."""
    data = _settings().masked()
    if as_json:
        _print_json(data)
        return
    table = Table("setting", "value", title="effective settings (env prefix ANALOGWATCH_)")
    for k, v in data.items():
        table.add_row(k, str(v))
    out.print(table)


@app.command()
@friendly
def check(
    structure: Annotated[
        str | None,
        typer.Argument(
            help="SMILES, InChI, a name / synonym / CAS number in the registry, or a systematic name"
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help=".smi, .csv or .sdf file: one JSON line per record"),
    ] = None,
    jurisdiction: JurisdictionOpt = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="legal status on this day (YYYY-MM-DD)")
    ] = None,
    input_type: Annotated[
        str | None,
        typer.Option(
            "--input-type",
            "-t",
            help="notation of STRUCTURE: smiles, inchi, molfile, name, cas or inchikey (default: detected)",
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="processes for --file")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Check a structure (or every record of a file): controlled, by class, lookalike, not flagged."""
    if (structure is None) == (file is None):
        fail("give a STRUCTURE or --file FILE (one of them)", code=2)
    if input_type is not None:
        from typing import get_args

        from service.check.schemas import InputType

        if input_type not in get_args(InputType):
            fail(
                f"--input-type: {input_type!r} is not one of {', '.join(get_args(InputType))}",
                code=2,
            )
    settings = _settings()
    day = _as_of(as_of)
    with runtime.open_read_only(settings) as rt:
        _check(
            rt.index(), settings, structure, file, jurisdiction, day, workers, as_json, input_type
        )


def _check(
    index: Any,
    settings: Settings,
    structure: str | None,
    file: Path | None,
    jurisdiction: list[str] | None,
    day: date,
    workers: int,
    as_json: bool,
    input_type: str | None = None,
) -> None:
    from service.check import service as check_service
    from service.check.verdict import SCOPE, Status
    from service.chem.errors import StructureError

    options = _check_options(index, settings, jurisdiction, day)
    if file is not None:
        if not file.is_file():
            fail(f"--file: {file} does not exist", code=2)
        _check_file(index, file, options, workers)
        return
    assert structure is not None
    try:
        result = check_service.check(index, structure, options, input_type)
    except StructureError as exc:
        fail(f"structure: {exc}", code=2)
    if as_json:
        _print_json(result.model_dump(mode="json"))
        return
    if (read := result.interpreted_as) is not None:
        how = {
            "brand": f"brand name of {read.generic} (FDA GSRS), read as",
            "chembl": "read from ChEMBL's approved drugs as",
            "law": "named in a legal text as excluded from a schedule; read as",
        }.get(read.by, "read by OPSIN as")
        out.print(f"{how}: {read.smiles}", markup=False, highlight=False)
    # SMILES and names hold brackets ("[nH]") that rich would read as markup and drop
    out.print(
        f"{result.smiles}  {result.inchikey}  as of {result.as_of.isoformat()}",
        markup=False,
        highlight=False,
    )
    if result.registry_substance:
        out.print(f"registry substance: {result.registry_substance.name}", markup=False)
    t = Table("jurisdiction", "status", "why", "nearest controlled (similarity)")
    for v in result.verdicts:
        if v.substance:
            why = f"{v.substance.name}: {v.substance.citation} ({v.substance.effective_date})"
        elif v.class_match:
            cm = v.class_match
            why = f"{cm.name} clauses {','.join(c.key for c in cm.clauses)}: {cm.citation}"
        else:
            why = ", ".join(v.reasons)
        if v.alternatives:
            why += "; or, stereo left open: " + ", ".join(
                f"{a.name}: {a.citation} ({a.schedule})" for a in v.alternatives
            )
        if v.listed_later:
            later = v.listed_later
            why += (
                f"{'; ' if why else ''}status unknown on the day: listed by "
                f"{later.effective_date} ({later.citation}), not said since when"
            )
        for c in v.caveats:
            why += (
                f"{'; ' if why else ''}may be controlled under {c.name}, which the registry does "
                f"not encode (in force by {c.known_in_force_by}; {c.citation}): legal review"
            )
        for x in v.exclusions:
            why += (
                f"{'; ' if why else ''}{x.name} is expressly excluded from {x.excluded_from} "
                f"(in force by {x.in_force_by}; {x.citation})"
            )
        near = v.neighbors[0] if v.neighbors else None
        t.add_row(
            v.jurisdiction,
            v.status.value,
            escape(why),
            escape(f"{near.name} ({near.similarity:.2f})") if near else "",
        )
    out.print(t)
    if any(v.status == Status.NOT_FLAGGED for v in result.verdicts):
        out.print(f"Note: {SCOPE}", highlight=False)


def _check_options(
    index: Any, settings: Settings, jurisdiction: list[str] | None, day: date
) -> Any:
    """The check's options from the command line (an unknown --jurisdiction is a usage error)."""
    from service.check import service as check_service

    codes = tuple(dict.fromkeys(j.upper() for j in jurisdiction)) if jurisdiction else None
    for code in codes or ():
        if code not in index.snapshot.jurisdictions:
            fail(f"--jurisdiction: unknown jurisdiction {code!r}", code=2)
    return check_service.CheckOptions(
        as_of=day,
        jurisdictions=codes,
        threshold=settings.similarity_threshold,
        elsewhere_threshold=settings.elsewhere_threshold,
    )


def _check_file(index: Any, file: Path, options: Any, workers: int) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from service.check import batch

    items = list(batch.read_items(file))
    results = batch.check_many(index, items, options, processes=workers, as_json=True)
    with Progress(
        TextColumn("checking"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("check", total=len(items))
        for line in results:
            sys.stdout.write(line + "\n")
            progress.advance(task)


@app.command()
@friendly
def screen(
    library: Annotated[Path, typer.Argument(help="library: .smi, .csv, .sdf or .parquet")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="results file (.parquet), one row per record")
    ],
    jurisdiction: JurisdictionOpt = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="legal status on this day (YYYY-MM-DD)")
    ] = None,
    engine: Annotated[str, typer.Option("--engine", help="local (this machine) or dask")] = "local",
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="local processes, or LocalCluster workers (default: every core)"),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, max=100_000, help="records per chunk")
    ] = 1000,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="discard an unfinished run's parts")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Screen a whole library against the watchlist into Parquet; resumes an interrupted run."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from service.screen import io as screen_io
    from service.screen.run import ScreenJob, run_screen

    if engine not in ("local", "dask"):
        fail(f"--engine: {engine!r} is not local or dask", code=2)
    if scheduler and engine != "dask":
        fail("--scheduler needs --engine dask", code=2)
    if not library.is_file():
        fail(f"LIBRARY: {library} does not exist", code=2)
    if library.suffix.lower() not in screen_io.SUFFIXES:
        fail(
            f"LIBRARY: unknown file type {library.suffix!r} (use .smi, .csv, .sdf or .parquet)",
            code=2,
        )
    if out.suffix.lower() != ".parquet":
        fail("--out: the results file must end in .parquet", code=2)
    settings = _settings()
    day = _as_of(as_of)
    with runtime.open_read_only(settings.model_copy(update={"search_backend": "memory"})) as rt:
        index = rt.index()
    options = _check_options(index, settings, jurisdiction, day)
    job = ScreenJob(
        source=library,
        out=out,
        options=options,
        chunk_size=chunk_size,
        engine=engine,
        workers=workers,
        scheduler=scheduler,
        fresh=fresh,
    )
    rate = TextColumn("{task.fields[rate]:>9,.0f} mol/s")
    with Progress(
        TextColumn("screening"),
        BarColumn(),
        MofNCompleteColumn(),
        rate,
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("screen", total=screen_io.count_records(library), rate=0.0)

        def advance(n: int) -> None:
            progress.advance(task, n)
            speed = progress.tasks[task].speed
            progress.update(task, rate=speed or 0.0)

        summary = run_screen(index, job, progress=advance)
    data = summary.as_dict()
    if as_json:
        _print_json(data)
        return
    err.print(
        f"{data['rows']} rows ({data['errors']} unreadable) -> {out}; "
        f"{data['mol_per_s']:,.0f} mol/s on {data['workers']} {engine} workers"
        + (
            f"; resumed, {data['chunks_skipped']} chunks already done"
            if data["chunks_skipped"]
            else ""
        ),
        highlight=False,
    )
    for code, n in data["flagged"].items():
        caveats = data["caveats"].get(code, 0)
        note = f" ({caveats} may be controlled under an unencoded generic law)" if caveats else ""
        if excluded := data.get("excluded", {}).get(code, 0):
            note += f" ({excluded} named by its law as excluded from a schedule)"
        err.print(f"  {code}: {n} flagged{note}", highlight=False)


@registry_app.command("stats")
@friendly
def registry_stats(
    as_json: JsonOpt = False,
    markdown: Annotated[
        bool,
        typer.Option(
            "--markdown",
            help="print the table of files of the schedules directory (as in schedules/README.md); "
            "reads the files, not the database",
        ),
    ] = False,
) -> None:
    """Counts per table, jurisdiction, family and file; NPS coverage; rows to review."""
    from service.registry.formats import read_registry
    from service.registry.service import files_markdown
    from service.registry.service import registry_stats as stats

    settings = _settings()
    if markdown:
        reg = read_registry(settings.schedules_dir or schedules_dir())
        sys.stdout.write(files_markdown(reg))
        return
    with runtime.open_read_only(settings) as rt, Session(rt.engine) as session:
        data = stats(session)
    if as_json:
        _print_json(data)
        return
    t = Table("table", "rows", title="tables")
    for k, v in data["tables"].items():
        t.add_row(k, str(v))
    out.print(t)
    t = Table("jurisdiction", "substances", "actions", "classes", title="per jurisdiction")
    for k, v in data["by_jurisdiction"].items():
        t.add_row(k, str(v["substances"]), str(v["actions"]), str(v["classes"]))
    out.print(t)
    t = Table("family", "substances", title="per family")
    for k, v in data["by_family"].items():
        t.add_row(k, str(v))
    out.print(t)
    t = Table("file", "rows", title="per file")
    for k, v in data["files"].items():
        t.add_row(k, str(v["rows"]))
    out.print(t)
    nps = data["nps"]
    out.print(f"NPS substances: {nps['substances']}, with an appearance: {nps['with_appearance']}")
    if data["review"]:
        t = Table(
            "substance",
            "appearance",
            "place",
            "first control",
            title="to review: reported after control",
        )
        for r in data["review"]:
            t.add_row(r["substance"], r["appearance"], r["place"], r["first_control"])
        out.print(t)


@registry_app.command("export")
@friendly
def registry_export(
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
) -> None:
    """Print the registry as one table: a row per control action, plus class coverage."""
    from service.registry.export import COLUMNS, export_rows, to_csv

    if fmt not in ("csv", "json"):
        fail(f"--format: {fmt!r} is not csv or json", code=2)
    with runtime.open_read_only(_settings()) as rt:
        rows = export_rows(rt.index().snapshot)
    if fmt == "csv":
        sys.stdout.write(to_csv(rows))
    else:
        _print_json([{k: r[k] for k in COLUMNS} for r in rows])


@app.command("import")
@friendly
def import_file(
    file: Annotated[
        Path, typer.Argument(help=".csv or .sdf file of reports (columns in the README)")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="validate only; change nothing")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import reported appearances: every row validated first, then one transaction."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from service.ingest import files
    from service.ingest import service as ingest

    if not file.is_file():
        fail(f"{file}: no such file", code=2)
    rows, problems = files.read_rows(file.read_bytes(), file.name)
    if problems:
        for p in problems:
            err.print(str(p), markup=False, highlight=False)
        fail(f"{len(problems)} problem(s) in {file.name}; nothing imported")
    settings = _settings()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    )
    with runtime.open_writable(settings) as rt:
        index = rt.index()
        with progress:
            task = progress.add_task("validating", total=len(rows))
            prepared, problems = ingest.validate(
                index,
                rows,
                today=date.today(),
                threshold=settings.similarity_threshold,
                progress=lambda n: progress.advance(task, n),
            )
            if not problems and not dry_run:
                task = progress.add_task("importing", total=len(prepared))
                with Session(rt.engine) as session:
                    result = ingest.apply(
                        session, prepared, progress=lambda n: progress.advance(task, n)
                    )
                    session.commit()
    if problems:
        for p in problems:
            err.print(str(p), markup=False, highlight=False)
        fail(f"{len(problems)} problem(s) in {file.name}; nothing imported")
    if dry_run:
        out.print(f"valid: {len(prepared)} row(s); nothing imported (--dry-run)")
        return
    if as_json:
        _print_json(result.as_dict())
    else:
        out.print(
            f"imported {file.name}: {result.inserted} new appearance(s), {result.unchanged} already stored, "
            f"{result.new_substances} new substance(s)"
        )


@report_app.command("lookalikes")
@friendly
def report_lookalikes(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="report date (YYYY-MM-DD; default today)")
    ] = None,
    jurisdiction: JurisdictionOpt = None,
    top: Annotated[int, typer.Option(min=0, help="rows shown per jurisdiction in the table")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Run the unscheduled-lookalike report now, store it, and print it."""
    from service.reports import service as reports

    settings = _settings()
    day = _as_of(as_of)
    with runtime.open_writable(settings) as rt:
        report = reports.run_lookalikes(
            rt.engine,
            settings,
            as_of=day,
            jurisdictions=tuple(j.upper() for j in jurisdiction) if jurisdiction else None,
            trigger="cli",
            index=rt.index,
        )
    data = reports.report_public(report)
    if report.status != "succeeded":
        if as_json:
            _print_json(data)
        fail(f"report {report.id} failed: {report.error}")
    if as_json:
        _print_json(data)
        return
    out.print(
        f"lookalike report {report.id} as of {report.as_of} (compared with report {report.previous_id or '-'})"
    )
    for code, section in data["jurisdictions"].items():
        counts = data["summary"]["jurisdictions"][code]
        t = Table(
            "#",
            "name",
            "reason",
            "nearest controlled (similarity)",
            "days",
            "new",
            title=f"{section['name']} ({code}): {counts['rows']} rows, {counts['new']} new, {counts['resolved']} resolved",
        )
        for r in section["rows"][:top]:
            near = r["neighbors"][0] if r["neighbors"] else None
            t.add_row(
                str(r["rank"]),
                r["name"],
                r["reason"],
                f"{near['name']} ({near['similarity']:.2f})" if near else "",
                str(r["days_since_first_appearance"]),
                "new" if r["new_since_previous"] else "",
            )
        out.print(t)


def main() -> None:
    """Entry point for `python -m service`."""
    app()


if __name__ == "__main__":
    main()
