"""Read a systematic (IUPAC) chemical name with OPSIN: name in, SMILES out.

OPSIN is a Java program (the jar shipped by the `py2opsin` package). It is run as
`java -jar opsin.jar -osmi` with the name on stdin: no file is written, no shell is used,
and the call is bounded by OPSIN_TIMEOUT seconds and OPSIN_PARALLEL concurrent JVMs. A JVM
starts in about a second, so answers are cached per name (`functools.lru_cache`); an
unavailable Java runtime or a timeout is not cached.

Failures raise NameUnreadable (a StructureError) with `reason` one of `unknown_name`
(OPSIN cannot parse it), `no_java` (no Java runtime or no OPSIN jar) or `timeout`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import threading
from functools import lru_cache
from pathlib import Path
from typing import Literal

from service.chem.errors import StructureError

MAX_NAME = 1_000  # characters; the longest systematic names in the registry are ~150
OPSIN_TIMEOUT = 30.0  # seconds per call, JVM start included (about 1 s when warm)
OPSIN_PARALLEL = 2  # JVMs at once in one process (each takes ~100 MB)
_JVM_FLAGS = ("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
_PLAUSIBLE = re.compile(r"^[\w ,()\[\]{}'\u2032\u2033\u2034+.:;\u00b1\u2192-]+$")  # primes, ±, →
_LETTERS = re.compile(r"[^\W\d_]{3}")
_SEPARATOR = re.compile(r"[\d\s,()\[\]-]")
_slots = threading.BoundedSemaphore(OPSIN_PARALLEL)

Reason = Literal["unknown_name", "no_java", "timeout"]


class NameUnreadable(StructureError):
    """A name that could not be turned into a structure; `reason` says why."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def looks_systematic(text: str) -> bool:
    """True when text could be a systematic name worth asking OPSIN about unprompted.

    It must use only the characters of names, hold a run of three letters, and have a
    locant, a hyphen, a bracket, a comma or a space (as nearly every systematic name does):
    a bare word is read as a name only when the caller says it is one.
    """
    t = text.strip()
    return (
        0 < len(t) <= MAX_NAME
        and _PLAUSIBLE.match(t) is not None
        and _LETTERS.search(t) is not None
        and _SEPARATOR.search(t) is not None
    )


def java_path() -> str | None:
    """The Java runtime: $JAVA_HOME/bin/java when it exists, else `java` on PATH, else None."""
    home = os.environ.get("JAVA_HOME")
    if home:
        exe = Path(home) / "bin" / "java"
        if exe.is_file() and os.access(exe, os.X_OK):
            return str(exe)
    return shutil.which("java")


def opsin_jar() -> Path | None:
    """The OPSIN jar shipped by py2opsin (found without importing it: its import runs Java)."""
    spec = importlib.util.find_spec("py2opsin")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        jars = sorted(Path(folder).glob("opsin*jar-with-dependencies.jar"))
        if jars:
            return jars[-1]
    return None


def name_to_smiles(name: str) -> str:
    """The SMILES OPSIN reads a name as; raise NameUnreadable with the reason otherwise.

    The name is stripped; it must be one line of at most MAX_NAME characters.
    """
    t = name.strip()
    if not t:
        raise NameUnreadable("unknown_name", "empty name")
    if len(t) > MAX_NAME:
        raise NameUnreadable(
            "unknown_name", f"name is {len(t)} characters; the limit is {MAX_NAME}"
        )
    if any(not c.isprintable() for c in t):
        raise NameUnreadable("unknown_name", "a name is one line of printable characters")
    smiles, why = _read(t)
    if smiles is None:
        raise NameUnreadable(
            "unknown_name", f"OPSIN cannot read {t[:100]!r} as a systematic name ({why})"
        )
    return smiles


@lru_cache(maxsize=4096)
def _read(name: str) -> tuple[str | None, str]:
    """OPSIN's SMILES for one name, or None and OPSIN's reason; raises when OPSIN cannot run."""
    java = java_path()
    if java is None:
        raise NameUnreadable(
            "no_java", "systematic names cannot be read here: no Java runtime (OPSIN unavailable)"
        )
    jar = opsin_jar()
    if jar is None:
        raise NameUnreadable(
            "no_java", "systematic names cannot be read here: OPSIN (py2opsin) is not installed"
        )
    if not _slots.acquire(timeout=OPSIN_TIMEOUT):
        raise NameUnreadable("timeout", "OPSIN is busy with other names; try again shortly")
    try:
        done = subprocess.run(  # noqa: S603  # fixed argv, no shell; the name goes on stdin
            [java, *_JVM_FLAGS, "-jar", str(jar), "-osmi"],
            input=name + "\n",
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=OPSIN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise NameUnreadable(
            "timeout", f"OPSIN did not answer within {OPSIN_TIMEOUT:.0f} s"
        ) from None
    except OSError as exc:
        raise NameUnreadable(
            "no_java", f"systematic names cannot be read here: Java does not start ({exc})"
        ) from None
    finally:
        _slots.release()
    smiles = done.stdout.strip()
    if done.returncode == 0 and smiles:
        return smiles, ""
    return None, _why(done.stderr, name)


def _why(stderr: str, name: str) -> str:
    """OPSIN's own reason, from its stderr: the part of the name it could not parse."""
    text = " ".join(stderr.split())
    _, found, rest = text.partition("The following was not parseable:")
    if found and rest.strip():
        return f"cannot parse {rest.strip()[:100]!r}"
    _, found, rest = text.partition(f"{name} is unparsable")
    if found and rest.strip():
        return rest.strip(" :")[:200]
    return "not a name it knows"
