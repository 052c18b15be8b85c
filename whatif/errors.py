"""Project exceptions: every user mistake becomes one of these, with a one-line message.

The command line prints ``str(error)`` and exits non-zero; it never shows a traceback for them.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "ArtefactError",
    "DamagedArtefactError",
    "DataError",
    "ScenarioError",
    "SpecError",
    "WhatifError",
    "closest",
    "read_toml",
]


class WhatifError(Exception):
    """Base class of every error caused by a user's input.

    Parameters
    ----------
    problems
        One or more one-line messages. Several are reported together, so that a user fixes
        everything in one pass instead of one problem per run.
    """

    def __init__(self, *problems: str):
        self.problems = [p for p in problems if p]
        super().__init__("\n".join(self.problems))


class SpecError(WhatifError):
    """A survey spec (TOML) is malformed or does not fit the data."""


class DataError(WhatifError):
    """A survey data file cannot be used as it is."""


class ArtefactError(WhatifError):
    """A model artefact folder is missing, broken or from an incompatible version."""


class DamagedArtefactError(ArtefactError):
    """A model artefact's files do not match their checksums, or its manifest is malformed.

    Parameters
    ----------
    file
        The damaged file (or the artefact folder, when a file is missing).
    detail
        What is wrong, in a few words.
    """

    def __init__(self, file: str | Path, detail: str):
        self.file = Path(file)
        self.detail = detail
        super().__init__(f"{self.file}: damaged ({detail}); refit or restore it")


class ScenarioError(WhatifError):
    """A scenario file or lever is invalid."""


def closest(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest valid choice, or ``""`` if none is close."""
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" (did you mean '{match[0]}'?)" if match else ""


def read_toml(path: str | Path, error: type[WhatifError], what: str, hint: str = "") -> dict:
    """Read a TOML file, turning a missing file or bad syntax into ``error`` with one line.

    Parameters
    ----------
    path
        The file.
    error
        The project exception to raise (e.g. :class:`SpecError`).
    what
        What the file is, for the message ("spec file", "scenario file").
    hint
        Appended to the not-found message.
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: {what} not found{hint}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise error(f"{path}: not valid TOML ({err}); fix the syntax at that line") from None
