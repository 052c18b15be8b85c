"""Reading survey files: CSV, Parquet, Excel workbooks and SPSS ``.sav`` files.

Every reader returns a :class:`Table`: the raw frame with string column names, and one-line notes
on anything it decided for the user. A CSV's field separator (comma, semicolon, tab or pipe) and
text encoding (UTF-8 with or without a byte-order mark, else Windows-1252, else Latin-1) are
detected unless the spec's ``[survey] separator`` / ``encoding`` set them. An Excel workbook is
read from its first sheet unless ``[survey] sheet`` names another. An SPSS file's declared
user-missing values are read as missing, and the value labels of the channel column become the
channel ids (see :func:`channel_id`).
"""

from __future__ import annotations

import csv
import glob
import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from whatif.data.spec import Spec
from whatif.errors import DataError, SpecError, closest

__all__ = [
    "GLOB_CHARS",
    "SEPARATORS",
    "Table",
    "channel_id",
    "detect_separator",
    "is_parquet_dataset",
    "prefers_dask",
    "PANDAS_MAX_ROWS",
    "read_survey_file",
    "resolve_parquet",
]

#: Separators tried when a CSV's is not given, in order of preference on a tie.
SEPARATORS = (",", ";", "\t", "|")
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
#: Encodings tried in turn when the spec gives none; Latin-1 decodes any byte.
FALLBACK_ENCODINGS = (("utf-8-sig", ""), ("cp1252", "Windows-1252"), ("latin-1", "Latin-1"))
SNIFF_BYTES = 64 * 1024
SNIFF_LINES = 50
CSV_SUFFIXES = (".csv", ".txt", ".tsv", ".gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
SPSS_SUFFIXES = (".sav", ".zsav")


@dataclass
class Table:
    """A survey file as read, before validation.

    Attributes
    ----------
    frame
        Every column of the file, named by strings.
    notes
        One-line notes on what the reader decided (encoding fallback, separator, sheet, SPSS
        missing values and labels).
    separator
        The separator a CSV was read with (``None`` for other formats).
    """

    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    separator: str | None = None


def read_survey_file(path: str | Path, spec: Spec | None = None) -> Table:
    """Read a CSV, Parquet (file or folder), Excel or SPSS survey file.

    Parameters
    ----------
    path
        The file (or a folder of Parquet files).
    spec
        Its spec, for ``[survey] separator``, ``encoding`` and ``sheet`` and the channel column.

    Returns
    -------
    Table

    Raises
    ------
    DataError
        The file is missing, empty, of an unknown type or cannot be read, in one line naming it.
    SpecError
        ``[survey] sheet`` names no sheet of the workbook.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found; check the path to your survey data")
    suffix = path.suffix.lower()
    try:
        if path.is_dir() or suffix in PARQUET_SUFFIXES:
            table = Table(pd.read_parquet(path))
        elif suffix in CSV_SUFFIXES:
            table = _read_csv(path, spec)
        elif suffix in EXCEL_SUFFIXES:
            table = _read_excel(path, spec)
        elif suffix in SPSS_SUFFIXES:
            table = _read_spss(path, spec)
        elif suffix == ".xls":
            raise DataError(
                f"{path}: old Excel .xls workbooks are not read; save it as .xlsx (or CSV)"
            )
        else:
            raise DataError(
                f"{path}: unknown file type '{suffix}'; give a .csv, .parquet, .xlsx or .sav "
                "survey file"
            )
    except (DataError, SpecError):
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty; export the survey with a header row") from None
    except Exception as err:  # any parser failure is the file's fault, not ours
        raise DataError(
            f"{path}: cannot read the file ({_reason(err)}); is it a valid {_kind(suffix)} file?"
        ) from None
    table.frame.columns = [str(c) for c in table.frame.columns]
    if len(table.frame) == 0:
        raise DataError(f"{path}: the file has a header but no rows; it needs survey responses")
    return table


def _reason(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def _kind(suffix: str) -> str:
    if suffix in EXCEL_SUFFIXES:
        return "Excel .xlsx"
    if suffix in SPSS_SUFFIXES:
        return "SPSS .sav"
    return "CSV or Parquet"


# -- CSV --------------------------------------------------------------------------------------


def _head(path: Path) -> bytes:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as handle:
        return handle.read(SNIFF_BYTES)


def detect_separator(text: str) -> str:
    """The separator of CSV text: the candidate that splits the header into the most fields and
    every following line into as many; a comma when none splits the header.

    Parameters
    ----------
    text
        The first lines of the file (a last, possibly cut line is ignored by the caller).

    Returns
    -------
    str
        One of :data:`SEPARATORS`.
    """
    lines = [line for line in text.splitlines() if line.strip()][:SNIFF_LINES]
    best, best_score = ",", (False, 1)
    for sep in SEPARATORS:
        widths = [len(row) for row in csv.reader(lines, delimiter=sep)]
        if not widths or widths[0] < 2:
            continue
        score = (all(w == widths[0] for w in widths), widths[0])
        if score > best_score:
            best, best_score = sep, score
    return best


def _read_csv(path: Path, spec: Spec | None) -> Table:
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty; export the survey with a header row")
    given_encoding = spec.encoding if spec else None
    notes = []
    separator = spec.separator if spec else None
    if separator is None:
        head = _head(path)
        if len(head) == SNIFF_BYTES:  # the last line may be cut short
            head = head[: head.rfind(b"\n") + 1] or head
        separator = detect_separator(head.decode(given_encoding or "utf-8-sig", errors="replace"))
        if separator != ",":
            notes.append(
                f"{path}: read as {SEPARATOR_NAMES[separator]}-separated (detected); set "
                "[survey] separator in the spec if that is wrong"
            )
    tries = ((given_encoding, ""),) if given_encoding else FALLBACK_ENCODINGS
    for encoding, name in tries:
        try:
            frame = pd.read_csv(path, sep=separator, encoding=encoding, low_memory=False)
        except UnicodeDecodeError as err:
            if given_encoding:
                raise DataError(
                    f"{path}: cannot decode the file as {encoding} ({_reason(err)}); set "
                    '[survey] encoding in the spec to the file\'s encoding, e.g. "cp1252" or '
                    '"utf-8"'
                ) from None
            continue
        if name:
            notes.append(
                f"{path}: not UTF-8 text, read as {name}; set [survey] encoding in the spec if "
                "accented letters look wrong"
            )
        return Table(frame, notes, separator)
    raise AssertionError("Latin-1 decodes every byte")  # pragma: no cover


# -- Excel ------------------------------------------------------------------------------------


def _read_excel(path: Path, spec: Spec | None) -> Table:
    with pd.ExcelFile(path, engine="openpyxl") as book:
        names = [str(n) for n in book.sheet_names]
        sheet = spec.sheet if spec else None
        notes = []
        if sheet is None:
            chosen = names[0]
            if len(names) > 1:
                notes.append(
                    f"{path}: read the first of {len(names)} sheets, '{chosen}'; set [survey] "
                    "sheet in the spec to read another"
                )
        elif isinstance(sheet, int):
            if sheet >= len(names):
                raise SpecError(
                    f"{spec.source}: 'survey.sheet' is {sheet}, but {path} has {len(names)} "
                    f"sheet{'s' if len(names) != 1 else ''} ({', '.join(names)}); give a sheet "
                    "name or a position from 0"
                )
            chosen = names[sheet]
        elif sheet in names:
            chosen = sheet
        else:
            raise SpecError(
                f"{spec.source}: 'survey.sheet' is '{sheet}', not a sheet of {path}"
                f"{closest(sheet, names)}; its sheets: {', '.join(names)}"
            )
        frame = book.parse(chosen)
    filled = np.flatnonzero(frame.notna().any(axis=1).to_numpy())
    # rows formatted but left empty below the data; inner rows stay, so row numbers keep matching
    frame = frame.iloc[: filled[-1] + 1 if len(filled) else 0]
    return Table(frame.reset_index(drop=True), notes)


# -- SPSS -------------------------------------------------------------------------------------


def channel_id(label: str) -> str:
    """The channel id of an SPSS value label: lower case, each run of characters other than
    letters and digits turned into one ``_`` ("Web self-service" -> ``web_self_service``).
    """
    return re.sub(r"[\W_]+", "_", label.strip().casefold()).strip("_")


def _number_text(value) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _read_spss(path: Path, spec: Spec | None) -> Table:
    import pyreadstat

    frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    notes = []
    wanted = spec.data_columns() if spec else list(frame.columns)
    declared = {}
    for column, ranges in (meta.missing_ranges or {}).items():
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            numbers = values.to_numpy(dtype=float)
            mask = np.zeros(len(values), bool)
            for r in ranges:
                mask |= (numbers >= float(r["lo"])) & (numbers <= float(r["hi"]))
        else:
            mask = values.isin([r["lo"] for r in ranges]).to_numpy()
        if mask.any():
            frame[column] = values.mask(mask)
            if column in wanted:
                declared[column] = int(mask.sum())
    if declared:
        notes.append(
            f"{path}: {sum(declared.values())} values declared missing in the SPSS file are read "
            f"as missing ({', '.join(f"'{c}' {n}" for c, n in declared.items())})"
        )
    labels = (meta.variable_value_labels or {}).get(spec.channel) if spec and spec.channel else None
    if labels and pd.api.types.is_numeric_dtype(frame[spec.channel]):
        column = frame[spec.channel]
        ids = {
            value: channel_id(str(label)) or _number_text(value) for value, label in labels.items()
        }
        present = column.dropna().unique()
        unlabeled = {v: _number_text(v) for v in present if v not in ids}
        frame[spec.channel] = column.map({**ids, **unlabeled})
        shown = [v for v in sorted(ids) if v in set(present)]
        notes.append(
            f"{path}: column '{spec.channel}': channel ids come from the SPSS value labels ("
            + ", ".join(f"{_number_text(v)} '{labels[v]}' -> {ids[v]}" for v in shown)
            + "); [channels.<id>] tables use these ids"
        )
    return Table(frame, notes)


#: Characters that make DATA a glob of Parquet files.
GLOB_CHARS = "*?["


def is_parquet_dataset(data: str | Path) -> bool:
    """Whether ``data`` names a Parquet dataset the Dask engine reads: a folder or a glob.

    Parameters
    ----------
    data
        What the user passed as DATA.

    Returns
    -------
    bool
        True for an existing folder or a path with glob characters (``*``, ``?``, ``[``).
    """
    text = str(data)
    return any(ch in text for ch in GLOB_CHARS) or Path(text).is_dir()


#: Parquet folders of up to this many rows are read whole with pandas by the ``auto`` engine:
#: faster than Dask's partition-by-partition passes (a 1M-row folder aggregates in about half the
#: time) in about 1 GB of memory per million rows.
PANDAS_MAX_ROWS = 2_000_000


def prefers_dask(data: str | Path) -> bool:
    """Whether the ``auto`` engine aggregates ``data`` with Dask: a glob of Parquet files, or a
    folder of more than :data:`PANDAS_MAX_ROWS` rows (counted from the files' footers)."""
    text = str(data)
    if any(ch in text for ch in GLOB_CHARS):
        return True
    path = Path(text)
    if not path.is_dir():
        return False
    import pyarrow.parquet as pq

    rows = 0
    for file in path.rglob("*"):
        if file.suffix.lower() in PARQUET_SUFFIXES and file.is_file():
            try:
                rows += pq.ParquetFile(file).metadata.num_rows
            except Exception:  # noqa: BLE001 - unreadable: Dask's reader names it, in one line
                return True
            if rows > PANDAS_MAX_ROWS:
                return True
    return False


def resolve_parquet(data: str | Path) -> tuple[str, str | list[str], list[Path]]:
    """The name used in messages, what to hand to Dask, and the files to fingerprint, of a
    Parquet file, folder or glob."""
    text = str(data)
    if any(ch in text for ch in GLOB_CHARS):
        files = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        if not files:
            raise DataError(f"{text}: no file matches this pattern; check the path to your data")
        return text, [str(f) for f in files], files
    path = Path(text)
    if not path.exists():
        raise DataError(f"{path}: file not found; check the path to your survey data")
    if path.is_dir():
        if not any(f.suffix.lower() in (".parquet", ".pq") for f in path.rglob("*")):
            raise DataError(
                f"{path}: the folder holds no .parquet files; give a folder of Parquet files, a "
                "glob such as 'lake/*.parquet', or a single survey file"
            )
        return str(path), str(path), [path]
    if path.suffix.lower() not in (".parquet", ".pq"):
        raise DataError(
            f"{path}: the Dask engine reads Parquet (a file, a folder or a glob); convert the file "
            "to Parquet or use --engine pandas"
        )
    return str(path), str(path), [path]
