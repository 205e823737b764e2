"""HTML routes for analysts; the JSON API is untouched and the pages call the same services.

Pages: `/` search, `/s/{id}` substance, `/check-page` check (GET: pasted; POST: upload),
`/lag-page` lag dashboard (with `/lag-page/plot.svg` and `/lag-page/rows.csv`),
`/reports-page` and `/reports-page/{id}`, `/backtest-page`; static files under `/static`.
Every page parameter is read as text and validated here, so bad input is a message on the
page (status 422), never FastAPI's JSON error or a trace.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from service.check import service, tabular
from service.check.index import IndexHolder, WatchIndex
from service.check.schemas import MAX_BATCH
from service.chem.errors import StructureError
from service.chem.inputs import MAX_SMILES
from service.config import Settings
from service.deps import MAX_ROW_ID, SessionDep
from service.errors import NotFound, UnprocessableInput
from service.lag import plot
from service.lag import service as lag
from service.lag.csvout import rows_csv
from service.limits import RateLimited, rate_limit
from service.web import pages
from service.web.render import STATIC_DIR, PageInputError, download, error_page, page

router = APIRouter(include_in_schema=False)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # 10,000 molfiles of ~2 kB
UPLOAD_SUFFIXES = (".smi", ".smiles", ".txt", ".csv", ".sdf", ".sd")
MAX_PASTE = 12_000  # characters in the GET form; longer lists are uploaded as a file
LAG_ROWS_SHOWN = 1000
_batch_limit = rate_limit("check_batch", "rate_limit_batch")
Text = Annotated[str, Query()]
Codes = Annotated[list[str] | None, Query()]


def _index(request: Request) -> WatchIndex:
    holder: IndexHolder = request.app.state.index_holder
    return holder.get()


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _date(value: str | None, field: str, *, future_ok: bool = True) -> date:
    """A YYYY-MM-DD day from a form (default today)."""
    if not value or not value.strip():
        return date.today()
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise PageInputError(
            field, f"{value.strip()[:40]!r} is not a date; write YYYY-MM-DD"
        ) from None
    if not future_ok and day > date.today():
        raise PageInputError(field, f"{field} cannot be in the future")
    return day


def _bounded(value: str | None, field: str, limit: int) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise PageInputError(field, f"{field} is {len(text)} characters; the limit is {limit}")
    return text


def _codes(index: WatchIndex, values: list[str] | None, field: str = "jurisdiction") -> list[str]:
    codes = list(dict.fromkeys(v.strip().upper() for v in values or [] if v.strip()))
    for code in codes:
        if code not in index.snapshot.jurisdictions:
            known = ", ".join(sorted(index.snapshot.jurisdictions))
            raise PageInputError(field, f"unknown jurisdiction {code[:20]!r}; known: {known}")
    return codes


def _choice(value: str | None, field: str, allowed: tuple[str, ...], default: str = "") -> str:
    v = (value or "").strip() or default
    if v and v not in allowed:
        raise PageInputError(field, f"{field} must be one of {', '.join(allowed)}")
    return v


def _families(index: WatchIndex) -> list[str]:
    return sorted({s.family for s in index.snapshot.substances if s.family})


def _family(index: WatchIndex, value: str | None) -> str | None:
    v = (value or "").strip()
    if v and v not in _families(index):
        raise PageInputError("family", f"unknown family {v[:40]!r}")
    return v or None


def _common(index: WatchIndex) -> dict[str, Any]:
    return {"jurisdictions": index.snapshot.jurisdictions, "families": _families(index)}


# --------------------------------------------------------------------------- search


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    q: Text = "",
    family: Text = "",
    jurisdiction: Text = "",
    offset: Text = "0",
) -> HTMLResponse:
    """Search substances by name, synonym, CAS, InChIKey or SMILES."""
    index = _index(request)
    ctx: dict[str, Any] = {
        **_common(index),
        "title": "Search",
        "q": q[:MAX_SMILES],
        "family": family,
        "jurisdiction": jurisdiction,
        "outcome": None,
        "error": None,
    }
    try:
        text = _bounded(q, "q", MAX_SMILES)
        fam = _family(index, family)
        codes = _codes(index, [jurisdiction] if jurisdiction else None)
        start = int(offset) if offset.strip().isdigit() else 0
        today = date.today()
        outcome = pages.search(
            index,
            q=text,
            family=fam,
            jurisdiction=codes[0] if codes else None,
            on=today,
            offset=start,
        )
    except PageInputError as exc:
        return page(request, "search.html", {**ctx, "error": exc}, exc.status_code)
    threshold = _settings(request).similarity_threshold
    shown = outcome.found if (text or fam or codes) else []
    ctx.update(
        outcome=outcome,
        searched=bool(text or fam or codes),
        results=[(s, pages.verdicts(index, s, today, threshold)) for s in shown],
        offset=start,
        page_size=pages.PAGE_SIZE,
        next_url="/?"
        + urlencode(
            {
                "q": text,
                "family": fam or "",
                "jurisdiction": jurisdiction,
                "offset": start + pages.PAGE_SIZE,
            }
        ),
    )
    return page(request, "search.html", ctx)


# --------------------------------------------------------------------------- substance


@router.get("/s/{substance_id}", response_class=HTMLResponse)
def substance_page(request: Request, substance_id: str, as_of: Text = "") -> HTMLResponse:
    """One substance: identifiers, timeline and lag per jurisdiction, nearest neighbours."""
    index = _index(request)
    s = (
        index.by_id.get(int(substance_id))
        if substance_id.isdigit() and len(substance_id) < 12
        else None
    )
    if s is None:
        return error_page(
            request, "Not found", f"There is no substance with id {substance_id[:20]!r}.", 404
        )
    try:
        day = _date(as_of, "as_of")
    except PageInputError as exc:
        return error_page(request, "Bad date", exc.reason, exc.status_code)
    view = pages.substance_view(index, s, day, _settings(request).similarity_threshold)
    return page(request, "substance.html", {"title": s.name, "s": s, "as_of": day, **view})


# --------------------------------------------------------------------------- check


def _check_context(index: WatchIndex) -> dict[str, Any]:
    return {
        **_common(index),
        "title": "Check structures",
        "structures": "",
        "as_of": "",
        "chosen": [],
        "rows": None,
        "error": None,
        "csv_url": None,
        "max_paste": MAX_PASTE,
        "max_batch": MAX_BATCH,
        "picture_limit": pages.PICTURE_LIMIT,
    }


async def _rate_limited(request: Request) -> None:
    """The API's batch limit applies to the page too (one bucket per client)."""
    try:
        await _batch_limit(request)
    except RateLimited as exc:
        raise PageInputError("structures", exc.message, 429, retry_after=exc.retry_after) from None


def _input_error(request: Request, ctx: dict[str, Any], exc: PageInputError) -> Response:
    response = page(request, "check.html", {**ctx, "error": exc}, exc.status_code)
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _run_check(
    request: Request,
    index: WatchIndex,
    items: list[Any],
    as_of: date,
    codes: list[str],
    fmt: str,
    ctx: dict[str, Any],
) -> Response:
    if len(items) > MAX_BATCH:
        raise PageInputError(
            "structures", f"more than {MAX_BATCH} structures; the limit is {MAX_BATCH}"
        )
    if not items:
        raise PageInputError(
            "structures", "no structure given: paste one per line or upload a file"
        )
    options = service.CheckOptions(
        as_of=as_of,
        jurisdictions=tuple(codes) or None,
        threshold=_settings(request).similarity_threshold,
        top_k=3,
    )
    rows = pages.check_items(index, items, options, pictures=fmt != "csv")
    if fmt == "csv":
        text = tabular.to_csv(pages.check_csv_rows(rows), tabular.CHECK_CSV_FIELDS)
        return download(text, "text/csv; charset=utf-8", f"check-{as_of.isoformat()}.csv")
    failed = [r for r in rows if r["result"] is None]
    ctx.update(
        rows=rows,
        failed=failed,
        codes=list(options.jurisdictions or sorted(index.snapshot.jurisdictions)),
        verdict_fields=tabular.verdict_fields,
    )
    # every structure unreadable: the request as a whole could not be used
    status = 422 if len(failed) == len(rows) else 200
    if status == 422:
        ctx["error"] = PageInputError(
            "structures", "no structure could be read; see the reasons below"
        )
    return page(request, "check.html", ctx, status)


@router.get("/check-page", response_model=None)
async def check_page(
    request: Request,
    structures: Text = "",
    as_of: Text = "",
    jurisdiction: Codes = None,
    format: Text = "",
) -> Response:
    """Check pasted structures (one per line) per jurisdiction as of a day; CSV with format=csv."""
    index = _index(request)
    ctx = _check_context(index)
    ctx.update(
        structures=structures[:MAX_PASTE],
        as_of=as_of[:10],
        chosen=[c.upper() for c in jurisdiction or []],
    )
    try:
        text = _bounded(structures, "structures", MAX_PASTE)
        day = _date(as_of, "as_of")
        codes = _codes(index, jurisdiction)
        fmt = _choice(format, "format", ("csv", "html"), "html")
        if not text:
            return page(request, "check.html", ctx)
        await _rate_limited(request)
        query = {
            "structures": text,
            "as_of": day.isoformat(),
            "jurisdiction": codes,
            "format": "csv",
        }
        ctx["csv_url"] = "/check-page?" + urlencode(query, doseq=True)
        items = pages.pasted_items(index, text)
        return await run_in_threadpool(_run_check, request, index, items, day, codes, fmt, ctx)
    except PageInputError as exc:
        return _input_error(request, ctx, exc)


@router.post("/check-page", response_model=None)
async def check_upload(
    request: Request,
    file: Annotated[UploadFile | None, File()] = None,
    as_of: Annotated[str, Form()] = "",
    jurisdiction: Annotated[list[str] | None, Form()] = None,
    format: Annotated[str, Form()] = "",
) -> Response:
    """Check the records of an uploaded .smi, .csv or .sdf file; CSV with format=csv."""
    index = _index(request)
    ctx = _check_context(index)
    ctx.update(as_of=as_of[:10], chosen=[c.upper() for c in jurisdiction or []], uploaded=True)
    try:
        day = _date(as_of, "as_of")
        codes = _codes(index, jurisdiction)
        fmt = _choice(format, "format", ("csv", "html"), "html")
        if file is None or not file.filename:
            raise PageInputError("file", "choose a .smi, .csv or .sdf file to upload")
        await _rate_limited(request)
        suffix = Path(file.filename).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise PageInputError(
                "file", f"unknown file type {suffix[:10]!r}; use .smi, .csv or .sdf"
            )
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"upload{suffix}"
            size = 0
            with path.open("wb") as out:
                while chunk := await file.read(1 << 20):
                    size += len(chunk)
                    if size > MAX_UPLOAD_BYTES:
                        raise PageInputError(
                            "file", f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB"
                        )
                    out.write(chunk)
            try:
                items = pages.file_items(path, MAX_BATCH)
            except StructureError as exc:
                raise PageInputError(
                    "file", str(exc).replace(path.name, file.filename[:100])
                ) from None
        ctx["filename"] = file.filename
        return await run_in_threadpool(_run_check, request, index, items, day, codes, fmt, ctx)
    except PageInputError as exc:
        return _input_error(request, ctx, exc)


# --------------------------------------------------------------------------- lag


def _lag_filters(
    index: WatchIndex,
    jurisdiction: list[str] | None,
    family: str,
    basis: str,
    class_law: str,
    group_by: str,
    as_of: str,
) -> dict[str, Any]:
    return {
        "jurisdiction": _codes(index, jurisdiction),
        "family": _family(index, family) or "",
        "basis": _choice(basis, "basis", ("global", "local"), "global"),
        "class_law": _choice(class_law, "class_law", pages.CLASS_LAW),
        "group_by": _choice(
            group_by, "group_by", tuple(g.value for g in lag.GroupBy), "jurisdiction"
        ),
        "as_of": _date(as_of, "as_of", future_ok=False).isoformat(),
    }


def _plain_error(exc: PageInputError) -> Response:
    response = download(f"{exc.field}: {exc.reason}\n", "text/plain; charset=utf-8")
    response.status_code = exc.status_code
    return response


def _lag_table(index: WatchIndex, f: dict[str, Any]) -> lag.LagTable:
    try:
        return pages.lag_table(
            index,
            jurisdictions=f["jurisdiction"] or None,
            family=f["family"] or None,
            basis=f["basis"],
            as_of=date.fromisoformat(f["as_of"]),
            class_law=f["class_law"] or None,
        )
    except UnprocessableInput as exc:
        raise PageInputError(str(exc.loc[-1]), exc.message) from None


@router.get("/lag-page", response_class=HTMLResponse)
def lag_page(
    request: Request,
    jurisdiction: Codes = None,
    family: Text = "",
    basis: Text = "",
    class_law: Text = "",
    group_by: Text = "",
    as_of: Text = "",
) -> HTMLResponse:
    """The lag dashboard: Kaplan-Meier curves, summary and rows under filters kept in the URL."""
    index = _index(request)
    ctx: dict[str, Any] = {
        **_common(index),
        "title": "Scheduling lag",
        "group_bys": [g.value for g in lag.GroupBy],
        "class_laws": pages.CLASS_LAW,
        "error": None,
        "f": {
            "jurisdiction": jurisdiction or [],
            "family": family,
            "basis": basis or "global",
            "class_law": class_law,
            "group_by": group_by or "jurisdiction",
            "as_of": as_of[:10],
        },
    }
    try:
        f = _lag_filters(index, jurisdiction, family, basis, class_law, group_by, as_of)
        table = _lag_table(index, f)
    except PageInputError as exc:
        return page(request, "lag.html", {**ctx, "error": exc}, exc.status_code)
    qs = urlencode({k: v for k, v in f.items() if v}, doseq=True)
    stats = lag.summary(table, group_by=[f["group_by"]])
    ctx.update(
        f=f,
        table=table,
        stats=stats,
        rows=table.rows[:LAG_ROWS_SHOWN],
        rows_shown=LAG_ROWS_SHOWN,
        ids={s.key: s.id for s in index.snapshot.substances},
        plot_url="/lag-page/plot.svg?" + qs,
        csv_url="/lag-page/rows.csv?" + qs,
        months=lambda days: None if days is None else round(days / lag.DAYS_PER_MONTH, 1),
    )
    return page(request, "lag.html", ctx)


@router.get("/lag-page/plot.svg")
def lag_page_plot(
    request: Request,
    jurisdiction: Codes = None,
    family: Text = "",
    basis: Text = "",
    class_law: Text = "",
    group_by: Text = "",
    as_of: Text = "",
) -> Response:
    """The Kaplan-Meier curves of the lag page's filters as SVG."""
    index = _index(request)
    try:
        f = _lag_filters(index, jurisdiction, family, basis, class_law, group_by, as_of)
        table = _lag_table(index, f)
    except PageInputError as exc:
        return _plain_error(exc)
    parts = [f"{f['basis']} basis", f"as of {f['as_of']}"]
    if f["class_law"]:
        parts.insert(
            0,
            f"appeared {f['class_law']} class laws" if f["class_law"] != "none" else "no class law",
        )
    title = f"Time to control by {f['group_by']}, " + ", ".join(parts)
    svg = plot.render(lag.curves(table.rows, by=f["group_by"]), fmt="svg", title=title)
    return download(svg, "image/svg+xml")


@router.get("/lag-page/rows.csv")
def lag_page_csv(
    request: Request,
    jurisdiction: Codes = None,
    family: Text = "",
    basis: Text = "",
    class_law: Text = "",
    group_by: Text = "",
    as_of: Text = "",
) -> Response:
    """The lag rows of the lag page's filters as CSV."""
    index = _index(request)
    try:
        f = _lag_filters(index, jurisdiction, family, basis, class_law, group_by, as_of)
        table = _lag_table(index, f)
    except PageInputError as exc:
        return _plain_error(exc)
    return download(
        rows_csv(table.rows), "text/csv; charset=utf-8", f"lag-{f['basis']}-{f['as_of']}.csv"
    )


# --------------------------------------------------------------------------- reports, backtest

REPORTS_PER_PAGE = 50


def _missing(request: Request, title: str, what: str, active: str) -> HTMLResponse:
    return page(request, "unavailable.html", {"title": title, "what": what, "active": active})


@router.get("/reports-page", response_class=HTMLResponse)
def reports_page(request: Request, session: SessionDep, offset: Text = "0") -> HTMLResponse:
    """The list of periodic lookalike reports, newest first."""
    try:
        from service.reports import service as reports
    except ImportError:  # the reports are a separate part of the service
        return _missing(request, "Reports", "Periodic lookalike reports", "reports")
    start = int(offset) if offset.strip().isdigit() and len(offset) < 9 else 0
    count, found = reports.list_reports(session, limit=REPORTS_PER_PAGE, offset=start)
    data = [reports.report_public(r, with_results=False) for r in found]
    ctx = {
        "title": "Reports",
        "reports": data,
        "count": count,
        "offset": start,
        "per_page": REPORTS_PER_PAGE,
    }
    return page(request, "reports.html", ctx)


@router.get("/reports-page/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, session: SessionDep, report_id: str) -> HTMLResponse:
    """One report: ranked rows with pictures per jurisdiction, what is new, what was resolved."""
    try:
        from service.reports import service as reports
    except ImportError:
        return _missing(request, "Reports", "Periodic lookalike reports", "reports")
    if not report_id.isdigit() or len(report_id) > 12 or int(report_id) > MAX_ROW_ID:
        return error_page(
            request, "Not found", f"There is no report with id {report_id[:20]!r}.", 404
        )
    try:
        data = reports.report_public(reports.get(session, report_id=int(report_id)))
    except NotFound:
        return error_page(request, "Not found", f"There is no report with id {report_id}.", 404)
    pictures = {
        r["inchikey"]: pages.picture_of(r["smiles"])
        for section in data.get("jurisdictions", {}).values()
        for r in section["resolved"]
    }
    return page(
        request,
        "report.html",
        {"title": f"Report {data['id']}", "report": data, "pictures": pictures},
    )


@router.get("/backtest-page", response_class=HTMLResponse)
def backtest_page(request: Request) -> HTMLResponse:
    """The backtest: how early the watchlist would have warned, the false alarms, and the misses."""
    try:
        from service.backtest import service as backtest
        from service.backtest.cache import cache_of
    except ImportError:
        return _missing(request, "Backtest", "The backtest", "backtest")
    settings, index = _settings(request), _index(request)
    fp = backtest.fingerprint_name("morgan", settings.fingerprint_radius)
    # the API's summary, from the API's cache: computed once per registry version
    summary = cache_of(request.app.state).summary(
        index.snapshot,
        version=index.version,
        fingerprint=fp,
        bits=settings.fingerprint_bits,
        threshold=settings.similarity_threshold,
        jurisdictions=None,
        as_of=date.today(),
    )
    return page(request, "backtest.html", {"title": "Backtest", "b": summary, "months": _months})


@router.get("/backtest-page/curve.svg")
def backtest_curve(request: Request) -> Response:
    """Recall against false-alarm rate over thresholds for the service's fingerprint, as SVG."""
    from service.backtest import plot as backtest_plot
    from service.backtest import service as backtest

    settings, index = _settings(request), _index(request)
    fp = backtest.fingerprint_name("morgan", settings.fingerprint_radius)
    key = (
        index.version,
        fp,
        settings.fingerprint_bits,
        settings.similarity_threshold,
        date.today(),
    )
    cached: tuple[Any, bytes] | None = getattr(request.app.state, "web_backtest_curve", None)
    if cached is None or cached[0] != key:
        run = backtest.run(
            index.snapshot,
            as_of=date.today(),
            fingerprint=fp,
            bits=settings.fingerprint_bits,
            jurisdictions=None,
        )
        svg = backtest_plot.render_sweep(
            backtest.sweep_rows([run]),
            chosen=(fp, settings.similarity_threshold),
            fmt="svg",
            title=f"Backtest of {fp}: recall against false alarms over thresholds",
        )
        cached = request.app.state.web_backtest_curve = (key, svg)
    return download(cached[1], "image/svg+xml")


def _months(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def install(app: FastAPI) -> None:
    """Add the pages and their static files to the app."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
