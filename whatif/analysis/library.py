"""The team scenario library: saved scenarios as TOML files next to the model.

A model's library is the folder ``models/NAME/scenarios``; each saved scenario is one file,
``<slug>.toml``, an ordinary scenario file (``whatif simulate --scenario`` reads it as it is)
whose first comment lines say who saved it and when. Every planner session and every command
reads the same folder, so a colleague sees the plan you saved, and it outlives a reload or a
restart of the server.

Files are written atomically (a temporary file in the same folder, then a rename), so a reader
never sees half a file. A new name is claimed with a hard link, which fails when the file exists:
of two people saving one name at once, one saves and the other is told the name is taken, and
neither loses a scenario. Overwriting happens only when asked for (``overwrite=True``).

A name becomes a file name by :func:`scenario_slug`: letters and digits (accents dropped, other
scripts kept apart by a hash), joined by ``-``; a name can never point outside the library
(``../x``, ``/etc/passwd`` and the like become plain file names there), and empty, overlong or
control-character names are refused.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
import re
import tempfile
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from whatif.analysis.scenario import Scenario, load_scenario, parse_scenario
from whatif.errors import ScenarioError

__all__ = [
    "LIBRARY_FOLDER",
    "MAX_NAME_LENGTH",
    "MAX_SCENARIO_BYTES",
    "LibraryEntry",
    "ScenarioExists",
    "ScenarioLibrary",
    "check_name",
    "resolve_scenario",
    "scenario_slug",
]

#: The library's folder inside a model artefact folder.
LIBRARY_FOLDER = "scenarios"
#: The longest scenario name accepted (characters).
MAX_NAME_LENGTH = 120
#: The largest scenario file read (bytes): a scenario is a few lines; anything bigger is not one.
MAX_SCENARIO_BYTES = 64_000
_MAX_SLUG = 60
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10))}
_RESERVED |= {f"lpt{i}" for i in range(10)}
_HEADER = {"saved-by": "saved_by", "saved-at": "saved_at"}


def _hash(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


def check_name(name: str) -> str:
    """``name`` stripped, or :class:`~whatif.errors.ScenarioError` saying why it cannot be saved."""
    stripped = name.strip() if isinstance(name, str) else ""
    if not stripped:
        raise ScenarioError("the scenario has no name; type a name before saving it")
    if len(stripped) > MAX_NAME_LENGTH:
        raise ScenarioError(
            f"the scenario name is {len(stripped)} characters long; shorten it to at most "
            f"{MAX_NAME_LENGTH}"
        )
    if any(
        unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in stripped
    ):
        raise ScenarioError(
            "the scenario name holds control or invisible characters; type it with letters, "
            "digits, spaces and punctuation only"
        )
    return stripped


def scenario_slug(name: str) -> str:
    """The file name (without ``.toml``) a scenario name is saved under.

    Lower-case letters and digits joined by ``-``; accents are dropped (``Été`` -> ``ete``).
    Characters with no ASCII form (``计划``), or a name cut to the length limit, add a short hash
    of the whole name, so different names stay different files. Names differing only in case,
    spaces or punctuation share a file: they are one scenario to the library.

    Raises
    ------
    ScenarioError
        For an empty or overlong name, or one with control characters (:func:`check_name`).
    """
    name = check_name(name)
    decomposed = unicodedata.normalize("NFKD", name)
    lost = any(ord(ch) > 127 and unicodedata.category(ch) != "Mn" for ch in decomposed)
    ascii_name = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")
    if len(slug) > _MAX_SLUG:
        slug, lost = slug[:_MAX_SLUG].strip("-"), True
    if lost or not slug:
        slug = f"{slug}-{_hash(name)}" if slug else f"scenario-{_hash(name)}"
    if slug in _RESERVED:
        slug += "-scenario"
    return slug


@dataclass(frozen=True)
class LibraryEntry:
    """One saved scenario of a library.

    Attributes
    ----------
    scenario
        The scenario as saved.
    path
        Its file.
    saved_by
        Who saved it (the signed-in user), ``""`` when not known.
    saved_at
        When, as an ISO 8601 UTC timestamp (the file's modification time when not written down).
    """

    scenario: Scenario
    path: Path
    saved_by: str
    saved_at: str

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def slug(self) -> str:
        return self.path.stem

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "file": str(self.path),
            "saved_by": self.saved_by,
            "saved_at": self.saved_at,
            "scenario": self.scenario.to_dict(),
        }


class ScenarioExists(ScenarioError):
    """Saving would replace a saved scenario: the caller asks to overwrite or to rename.

    Attributes
    ----------
    existing
        The saved scenario in the way.
    suggestion
        A free name to save under instead (``Plan (2)``).
    """

    def __init__(self, existing: LibraryEntry, name: str, suggestion: str):
        self.existing = existing
        self.suggestion = suggestion
        who = f" by {existing.saved_by}" if existing.saved_by else ""
        super().__init__(
            f"a scenario named '{existing.name}' is already saved{who} ({existing.saved_at}); "
            f"overwrite it, or save '{name}' under another name such as '{suggestion}'"
        )


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _clean_user(user: str | None) -> str:
    text = "".join(ch for ch in str(user or "") if unicodedata.category(ch)[0] != "C")
    return text.strip()[:100]


class ScenarioLibrary:
    """The saved scenarios of one model: ``<model>/scenarios/<slug>.toml``.

    Parameters
    ----------
    folder
        The library folder (created on the first save).
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    @classmethod
    def for_model(cls, model_path: str | Path) -> ScenarioLibrary:
        """The library of the model artefact at ``model_path``."""
        return cls(Path(model_path) / LIBRARY_FOLDER)

    def path_for(self, name: str) -> Path:
        """The file a scenario name is saved in; always directly inside the library folder."""
        path = self.folder / f"{scenario_slug(name)}.toml"
        if path.parent != self.folder or path.name.startswith("."):  # slugs rule it out; be sure
            raise ScenarioError(f"the scenario name '{name}' cannot be used as a file name")
        return path

    # -- reading --------------------------------------------------------------------------------

    def _files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(
            p for p in self.folder.glob("*.toml") if not p.name.startswith(".") and p.is_file()
        )

    def signature(self) -> tuple:
        """What changes when a scenario is saved or deleted (cheap: file names, times, sizes)."""
        out = []
        for path in self._files():
            with contextlib.suppress(OSError):
                stat = path.stat()
                out.append((path.name, stat.st_mtime_ns, stat.st_size))
        return tuple(out)

    def read(self, path: Path) -> LibraryEntry:
        """One saved file as an entry.

        Raises
        ------
        ScenarioError
            When the file is too large, not TOML or not a scenario (the message names it).
        """
        try:
            size = path.stat().st_size
            if size > MAX_SCENARIO_BYTES:
                raise ScenarioError(
                    f"{path}: {size:,} bytes, more than a scenario file can be "
                    f"({MAX_SCENARIO_BYTES:,}); remove it from the library"
                )
            text = path.read_text(encoding="utf-8")
            raw = tomllib.loads(text)
        except OSError as err:
            raise ScenarioError(f"{path}: cannot be read ({err.strerror or err})") from None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise ScenarioError(f"{path}: not valid TOML ({err}); fix or remove it") from None
        scenario = parse_scenario(raw, source=str(path))
        meta = {"saved_by": "", "saved_at": ""}
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            key, _, value = line[1:].partition(":")
            if key.strip() in _HEADER:
                meta[_HEADER[key.strip()]] = value.strip()
        if not meta["saved_at"]:
            stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)
            meta["saved_at"] = stamp.isoformat().replace("+00:00", "Z")
        return LibraryEntry(scenario, path, **meta)

    def scan(self) -> tuple[list[LibraryEntry], list[str]]:
        """Every readable saved scenario (oldest first) and one problem per unreadable file."""
        entries, problems = [], []
        for path in self._files():
            try:
                entries.append(self.read(path))
            except ScenarioError as err:
                problems.extend(err.problems)
        entries.sort(key=lambda e: (e.saved_at, e.name))
        return entries, problems

    def entries(self) -> list[LibraryEntry]:
        """Every readable saved scenario, oldest first."""
        return self.scan()[0]

    def find(self, name: str) -> LibraryEntry | None:
        """The saved scenario ``name`` would be saved over (same file), or ``None``."""
        try:
            path = self.path_for(name)
        except ScenarioError:
            return None
        if not path.is_file():
            return None
        try:
            return self.read(path)
        except ScenarioError:
            return None

    def get(self, name: str) -> LibraryEntry:
        """The saved scenario called ``name``.

        Raises
        ------
        ScenarioError
            When there is none, naming the library and what it holds.
        """
        entry = self.find(name)
        if entry is not None:
            return entry
        names = [e.name for e in self.entries()]
        match = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
        hint = f" (did you mean '{match[0]}'?)" if match else ""
        saved = f"saved: {', '.join(names)}" if names else "none saved yet"
        raise ScenarioError(f"no saved scenario '{name}' in {self.folder}{hint}; {saved}")

    def suggest_name(self, name: str) -> str:
        """``name (2)``, ``name (3)`` ...: the first such name no saved scenario uses."""
        base = re.sub(r"\s*\(\d+\)$", "", check_name(name))
        for n in range(2, 1000):
            candidate = f"{base} ({n})"
            if len(candidate) <= MAX_NAME_LENGTH and not self.path_for(candidate).exists():
                return candidate
        return f"{base[: MAX_NAME_LENGTH - 12]} {_hash(_now() + base)}"

    # -- writing --------------------------------------------------------------------------------

    def save(
        self, scenario: Scenario, *, user: str | None = None, overwrite: bool = False
    ) -> LibraryEntry:
        """Save a scenario under its name.

        Parameters
        ----------
        scenario
            What to save (its ``name`` names the file).
        user
            Who saves it (shown to the team); ``None`` when not known.
        overwrite
            Replace a saved scenario of that name; without it such a save raises
            :class:`ScenarioExists` and writes nothing.

        Raises
        ------
        ScenarioError
            For a name that cannot be saved, or a folder that cannot be written.
        ScenarioExists
            When the name is taken and ``overwrite`` is false.
        """
        name = check_name(scenario.name)
        path = self.path_for(name)
        saved_at, saved_by = _now(), _clean_user(user)
        header = "# whatif scenario library\n"
        header += f"# saved-by: {saved_by}\n" if saved_by else ""
        header += f"# saved-at: {saved_at}\n"
        text = (
            header + Scenario(name, scenario.levers, scenario.year, scenario.description).to_toml()
        )
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{path.stem}.", suffix=".tmp")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(text)
                    out.flush()
                    os.fsync(out.fileno())
                if overwrite:
                    os.replace(tmp, path)
                else:
                    self._claim(Path(tmp), path, name)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        except OSError as err:
            raise ScenarioError(
                f"{self.folder}: cannot save the scenario there ({err.strerror or err}); "
                "ask whoever runs the planner to make the folder writable"
            ) from None
        return LibraryEntry(
            parse_scenario(tomllib.loads(text), str(path)), path, saved_by, saved_at
        )

    def _claim(self, tmp: Path, path: Path, name: str) -> None:
        """Put ``tmp`` at ``path`` only if nothing is there, atomically (a hard link)."""
        try:
            os.link(tmp, path)
        except FileExistsError:
            existing = self.find(name) or LibraryEntry(Scenario(name), path, "", "")
            raise ScenarioExists(existing, name, self.suggest_name(name)) from None

    def delete(self, name: str) -> LibraryEntry:
        """Delete the saved scenario ``name``; returns what was deleted.

        Raises
        ------
        ScenarioError
            When there is no such saved scenario, or it cannot be deleted.
        """
        entry = self.get(name)
        try:
            entry.path.unlink()
        except FileNotFoundError:
            raise ScenarioError(f"'{name}' was deleted meanwhile by someone else") from None
        except OSError as err:
            raise ScenarioError(f"{entry.path}: cannot delete it ({err.strerror or err})") from None
        return entry


def resolve_scenario(value: str, model_path: str | Path) -> Scenario:
    """A ``--scenario`` value: a scenario file, else a scenario saved in the model's library.

    A value naming an existing file is that file. A value that looks like a path (it holds a
    ``/`` or ends in ``.toml``) is a file that must exist. Anything else is the name of a saved
    scenario of the model (``models/NAME/scenarios``).

    Raises
    ------
    ScenarioError
        When the file is missing or invalid, or no saved scenario has that name.
    """
    path = Path(value)
    if path.is_file():
        return load_scenario(path)
    library = ScenarioLibrary.for_model(model_path)
    if "/" in value or os.sep in value or value.endswith(".toml"):
        raise ScenarioError(
            f"{value}: scenario file not found; give an existing .toml file, or the name of a "
            f"scenario saved in {library.folder}"
        )
    try:
        return library.get(value).scenario
    except ScenarioError as err:
        raise ScenarioError(f"--scenario '{value}': no such file, and {err.problems[0]}") from None
