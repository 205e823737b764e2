"""Capture RDKit's log messages so a failure can say why, instead of spilling on stderr."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rdkit import rdBase

_local = threading.local()
_STAMP = re.compile(r"^\[\d\d:\d\d:\d\d\] ")


class _Capture(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        buffer: list[str] | None = getattr(_local, "buffer", None)
        if buffer is not None:
            for line in record.getMessage().splitlines():
                line = _STAMP.sub("", line).rstrip()
                if line:
                    buffer.append(line)


def _install() -> None:
    rdBase.LogToPythonLogger()
    logger = logging.getLogger("rdkit")
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    logger.handlers = [_Capture()]


_install()


@contextmanager
def captured() -> Iterator[list[str]]:
    """Collect RDKit messages logged by this thread inside the block."""
    previous = getattr(_local, "buffer", None)
    lines: list[str] = []
    _local.buffer = lines
    try:
        yield lines
    finally:
        _local.buffer = previous


def reason(lines: list[str], fallback: str) -> str:
    """The most useful RDKit message: the parser's position hint when there is one."""
    useful = [ln for ln in lines if not ln.startswith("ERROR:") and ln.strip("~^ ")]
    for ln in useful:
        if "check for mistakes around position" in ln:
            pos = ln.rsplit("position", 1)[1].strip(" :")
            head = useful[0].replace("SMILES Parse Error: ", "")
            return f"{head} (near position {pos})"
    if useful:
        return "; ".join(dict.fromkeys(u.replace("SMILES Parse Error: ", "") for u in useful[:2]))
    return fallback
