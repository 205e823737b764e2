"""The import rules of docs/architecture.md, checked on the source (an AST walk, every import
statement including those inside functions)."""

from __future__ import annotations

import ast
from pathlib import Path

import service

ROOT = Path(service.__file__).parent
DOMAINS = {
    "registry", "check", "lag", "reports", "backtest", "screen", "ingest", "web", "chem", "webhooks"
}


def _imports() -> list[tuple[str, str]]:
    """(importing module, imported module) for every `service.*` import in the package."""
    out = []
    for path in ROOT.rglob("*.py"):
        module = ".".join(("service", *path.relative_to(ROOT).with_suffix("").parts))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                out += [(module, n) for n in names if n.startswith("service")]
            elif isinstance(node, ast.Import):
                out += [(module, a.name) for a in node.names if a.name.startswith("service")]
    return out


def _domain(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in DOMAINS else None


def test_the_walk_sees_the_package() -> None:
    found = _imports()
    assert ("service.app", "service.check.router") in found


def test_no_module_imports_another_domains_router() -> None:
    bad = [
        (a, b)
        for a, b in _imports()
        if b.endswith(".router")
        and _domain(b) is not None
        and a != "service.app"
        and _domain(a) != _domain(b)
    ]
    assert bad == []


def test_chemistry_is_a_library_without_web_or_sql() -> None:
    bad = []
    for path in (ROOT / "chem").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for n in names:
                top = n.split(".")[0]
                if top in {"fastapi", "starlette", "sqlalchemy", "sqlmodel"} or (
                    n.startswith("service.") and not n.startswith("service.chem")
                ):
                    bad.append((path.name, n))
    assert bad == []


def test_the_verdict_is_defined_once() -> None:
    defined = []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name in {"Verdict", "CheckResult", "Status"}:
                defined.append((path.relative_to(ROOT).as_posix(), node.name))
    assert sorted(defined) == [
        ("check/verdict.py", "CheckResult"),
        ("check/verdict.py", "Status"),
        ("check/verdict.py", "Verdict"),
    ]
