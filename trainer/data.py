"""Read the Home Credit tables (real Kaggle CSVs or synthetic CSV/parquet), validate them, fail clearly.

Every problem a user can cause (a missing folder or file, an empty or truncated file, a misspelt column,
a non-numeric value, bytes that are not UTF-8, duplicated identifiers, a bad ``TARGET``) raises
:class:`~trainer.errors.DataError` with one sentence naming the file, the column, row or value, and what
to do. The fast path reads CSVs with pandas' pyarrow engine; only when it fails does a slower
line-by-line scan run to find the exact line to report.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from trainer.config import DEFAULT_RAW_DIR
from trainer.errors import DataError
from trainer.schema import HISTORY_TABLES, TABLE_NAMES, read_dtypes, table_spec
from trainer.table_files import find_table as find_table  # re-exported: callers import it from here
from trainer.text_safety import clean_categories, first_control

#: Tables whose numbers stay float64 (exact values matter for scoring); history numbers become float32.
APPLICATION_TABLES: frozenset[str] = frozenset({"application_train", "application_test"})
#: The label column of ``application_train``.
TARGET = "TARGET"

_HOW_TO_GET_DATA = "run `trainer synth --out DIR` or download the Kaggle files into data/raw/"
_SNIFF_BYTES = 64 * 1024
_HASH_BLOCK = 1024 * 1024
_MAX_LISTED = 5

_CSV_ENGINE: Literal["pyarrow", "c"]
try:  # pragma: no cover - pyarrow is a dependency; the C engine is the fallback if it is broken.
    import pyarrow  # noqa: F401

    _CSV_ENGINE = "pyarrow"
except ImportError:  # pragma: no cover
    _CSV_ENGINE = "c"


def default_data_dir() -> Path:
    """Return the folder where the real Kaggle CSV files are expected (``data/raw`` of the checkout)."""
    return DEFAULT_RAW_DIR


# --------------------------------------------------------------------------------------------------
# Finding files
# --------------------------------------------------------------------------------------------------


def _require_folder(data_dir: Path) -> None:
    if not data_dir.exists():
        raise DataError(f"Data folder {data_dir} does not exist; {_HOW_TO_GET_DATA}.")
    if not data_dir.is_dir():
        raise DataError(f"{data_dir} is a file, not a data folder; pass the folder that holds the CSV files.")


def _require_file(path: Path) -> None:
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a data file; pass a CSV or parquet file.")
    if not path.exists():
        if not path.parent.exists():
            raise DataError(
                f"Data file {path} not found (its folder does not exist either); {_HOW_TO_GET_DATA}."
            )
        raise DataError(f"Data file {path} not found; {_HOW_TO_GET_DATA}.")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty (0 bytes); re-download or regenerate it.")


# --------------------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnCheck:
    """How the columns of a file compare with the schema of its table.

    Attributes:
        present: Schema columns found in the file, in schema order.
        missing: Required schema columns absent from the file.
        unknown: Columns of the file that are not in the schema (ignored when reading).
        suggestions: For an unknown column, the closest missing schema column (a likely misspelling).
        duplicated: Schema columns that appear more than once in the header.

    """

    present: tuple[str, ...]
    missing: tuple[str, ...]
    unknown: tuple[str, ...]
    suggestions: dict[str, str] = field(default_factory=dict)
    duplicated: tuple[str, ...] = ()

    def problem(self, path: Path, table: str) -> str | None:
        """Return one sentence describing what makes the columns unusable, or ``None`` if they are fine."""
        if self.duplicated:
            return (
                f"{path}: column {self.duplicated[0]} appears more than once in the header; "
                "keep one copy of each column."
            )
        if not self.missing:
            return None
        if self.suggestions:
            typo, real = next(iter(self.suggestions.items()))
            return (
                f"{path}: column {typo} is not a Home Credit column; did you mean {real}? "
                "(rename it in the header)"
            )
        listed = ", ".join(self.missing[:_MAX_LISTED])
        more = f" and {len(self.missing) - _MAX_LISTED} more" if len(self.missing) > _MAX_LISTED else ""
        return (
            f"{path} lacks the required column{'s' if len(self.missing) > 1 else ''} {listed}{more} "
            f"of the {table} table; use the complete Kaggle file or regenerate it with `trainer synth`."
        )


def compare_columns(
    header: Sequence[str], table: str, required: Sequence[str] | None = None, optional: Iterable[str] = ()
) -> ColumnCheck:
    """Compare a file's header with the schema of ``table``.

    Args:
        header: Column names as found in the file.
        table: Home Credit table name.
        required: Schema columns that must be present (default: every column of the table).
        optional: Extra schema-like columns that may be present without being unknown (e.g. ``TARGET``).

    Returns:
        The comparison; misspelt columns are matched to missing ones with :mod:`difflib`.

    """
    schema_cols = table_spec(table).column_names
    wanted = list(schema_cols) if required is None else list(required)
    known = set(schema_cols) | set(optional)
    seen: set[str] = set()
    duplicated: list[str] = []
    for col in header:
        if col in seen and col in known:
            duplicated.append(col)
        seen.add(col)
    present = tuple(c for c in [*schema_cols, *optional] if c in seen)
    missing = tuple(c for c in wanted if c not in seen)
    unknown = tuple(dict.fromkeys(c for c in header if c not in known))
    suggestions: dict[str, str] = {}
    for col in unknown:
        close = difflib.get_close_matches(col, missing, n=1, cutoff=0.75)
        if not close:
            close = difflib.get_close_matches(col.upper(), missing, n=1, cutoff=0.75)
        if close:
            suggestions[col] = close[0]
    return ColumnCheck(present, missing, unknown, suggestions, tuple(duplicated))


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"PAR1"


def is_csv_path(path: Path) -> bool:
    """Whether ``path`` is read as CSV: by its suffix, else (``.txt``, no suffix) by its first bytes."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".parquet"):
        return suffix == ".csv"
    return not _is_parquet(path)


def read_header(path: Path) -> list[str]:
    """Return the column names of a CSV or parquet file.

    Raises:
        DataError: If the file is missing, empty, binary, not UTF-8, or an unreadable parquet file.

    """
    _require_file(path)
    return _csv_header(path) if is_csv_path(path) else _parquet_columns(path)


def _parquet_columns(path: Path) -> list[str]:
    if not _is_parquet(path):
        raise DataError(
            f"{path} is not a parquet file (it lacks the PAR1 signature); re-export it as parquet or CSV."
        )
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except Exception as exc:
        raise DataError(
            f"{path} is not a readable parquet file ({_short(exc)}); re-export or regenerate it."
        ) from None


def _csv_header(path: Path) -> list[str]:
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if head.startswith(b"PAR1"):
        raise DataError(
            f"{path} is a parquet file, not a CSV; rename it to {path.with_suffix('.parquet').name}."
        )
    nul = head.find(b"\x00")
    if nul >= 0:
        raise DataError(
            f"{path} is not a CSV text file (binary byte 0x00 at byte offset {nul}); "
            "export the table as a comma-separated UTF-8 text file."
        )
    first = head.split(b"\n", 1)[0]
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path} is not UTF-8 text: byte 0x{first[exc.start]:02x} at byte offset {exc.start} "
            "on line 1 (the header); re-save the file as UTF-8."
        ) from None
    if not text.strip():
        raise DataError(f"{path} has no header line (line 1 is blank); re-download or regenerate it.")
    row = next(csv.reader([text.rstrip("\r")]))
    return [c.strip() for c in row]


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------


def _short(exc: BaseException) -> str:
    """Return the first line of an exception message (never a traceback)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200].rstrip(".")


def _shown(value: object) -> str:
    """A value as it appears in a message: numbers plainly (``inf``, ``1e+22``), text quoted and escaped."""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return repr(value)


def _where(is_csv: bool, row: int) -> str:
    """Describe a 0-based data row: ``data row 4 (line 5)`` for a CSV, ``row 4`` for parquet."""
    return f"data row {row + 1} (line {row + 2})" if is_csv else f"row {row + 1}"


def parse_table(
    path: Path,
    name: str,
    columns: Sequence[str] | None = None,
    *,
    optional: Sequence[str] = (),
    downcast: bool | None = None,
    keep_control: bool = False,
) -> pd.DataFrame:
    """Read a table with the schema's dtypes, without the key and ``TARGET`` checks of :func:`read_table`.

    Every number is checked here, once for all readers: an identifier must be an exact integer in the
    exact range (±2**53), any other number finite (``inf`` is refused, naming its row; an empty cell
    is missing).
    Control characters in text are turned into visible escapes (:mod:`trainer.text_safety`).

    Args:
        path: CSV or parquet file.
        name: Home Credit table name giving the schema.
        columns: Schema columns to read (default: all of them); each must be in the file.
        optional: Further columns to read when present (``TARGET`` for a clients file).
        downcast: Store non-identifier numbers as float32 (default: for history tables only).
        keep_control: Leave control characters in text as they are (``trainer check`` reports them).

    Returns:
        The frame: identifiers int64, numbers float64 (or float32), categories ``category``.

    Raises:
        DataError: On any problem with the file or its content.

    """
    header = read_header(path)
    required = list(table_spec(name).column_names if columns is None else columns)
    check = compare_columns(header, name, required, optional)
    problem = check.problem(path, name)
    if problem:
        raise DataError(problem)
    usecols = [*required, *(c for c in optional if c in header and c not in required)]
    all_dtypes = read_dtypes(name) | {c: "float64" for c in optional}
    dtypes = {c: all_dtypes[c] for c in usecols}
    if downcast is None:
        downcast = name not in APPLICATION_TABLES
    is_csv = is_csv_path(path)
    if is_csv:
        frame = _read_csv(path, header, usecols, dtypes, downcast, keep_control)
    else:
        frame = _finish(_read_parquet(path, usecols, dtypes), dtypes, downcast, keep_control)
    if frame.empty:
        raise DataError(f"{path} has a header but no rows; re-download or regenerate it.")
    _require_finite(frame, dtypes, path, is_csv)
    return frame


def _require_finite(frame: pd.DataFrame, dtypes: dict[str, str], path: Path, is_csv: bool) -> None:
    """Refuse ``inf`` / ``-inf`` in any number column (a missing value is an empty cell)."""
    for col, dtype in dtypes.items():
        if dtype not in ("float64", "float32"):
            continue
        values = frame[col].to_numpy()
        infinite = np.isinf(values)
        if infinite.any():
            row = int(np.flatnonzero(infinite)[0])
            raise DataError(
                f"{path}: column {col} holds {_shown(values[row])} in {_where(is_csv, row)}, which is not a "
                "finite number; fix the value or leave the cell empty."
            )


def control_char_problems(frame: pd.DataFrame, path: Path) -> list[str]:
    """Name each text column holding a control character (row and value), one sentence per column.

    Only meaningful on a frame read with ``keep_control=True`` (the loader escapes them otherwise).
    """
    is_csv = is_csv_path(path)
    problems: list[str] = []
    for col in frame.columns:
        values = frame[col]
        if not isinstance(values.dtype, pd.CategoricalDtype):
            continue
        bad_levels = first_control(values.cat.categories)
        if bad_levels is None:
            continue
        level = bad_levels[1]
        row = int(np.flatnonzero((values == level).to_numpy())[0])
        problems.append(
            f"{path}: column {col} holds control characters ({level!r}) in {_where(is_csv, row)}; "
            "remove them (they can rewrite an advisor's screen)."
        )
    return problems


def _finish(
    frame: pd.DataFrame, dtypes: dict[str, str], downcast: bool, keep_control: bool = False
) -> pd.DataFrame:
    """Categorise text columns (blank -> missing, sorted levels, control characters escaped)."""
    for col, dtype in dtypes.items():
        if dtype == "int64" and isinstance(frame[col].dtype, pd.ArrowDtype):
            if frame[col].hasnans:
                raise ValueError(f"column {col} has an empty identifier")
            ids = frame[col].to_numpy(dtype=np.int64)
            if ids.size and (ids.max() > ID_LIMIT or ids.min() < -ID_LIMIT):  # went through float64
                raise ValueError(f"column {col} has an identifier beyond the exact range")
            frame[col] = ids
        elif dtype == "str":
            values = frame[col]
            if not isinstance(values.dtype, pd.CategoricalDtype):
                values = values.astype("str").astype("category")
            if any(isinstance(level, bytes) for level in values.cat.categories):
                # pyarrow falls back to raw bytes when a text column is not valid UTF-8
                raise ValueError(f"column {col} is not valid UTF-8")
            levels = [str(level) for level in values.cat.categories]
            values = values.cat.rename_categories(levels)
            blank = [level for level in levels if not level.strip()]
            if blank:
                values = values.cat.remove_categories(blank)
            if not keep_control:
                values = clean_categories(values)
            frame[col] = values.cat.reorder_categories(sorted(values.cat.categories))
        elif downcast and dtype == "float64" and frame[col].dtype != np.float32:
            frame[col] = frame[col].astype("float32")
    return frame


def _read_csv(
    path: Path,
    header: list[str],
    usecols: list[str],
    dtypes: dict[str, str],
    downcast: bool,
    keep_control: bool = False,
) -> pd.DataFrame:
    _check_tail(path, len(header))
    # pyarrow builds categories straight from the text (a dictionary) and parses float32 directly:
    # both are faster than converting afterwards.
    fast_dtypes = {
        c: "category"
        if d == "str"
        else "float32"
        if downcast and d == "float64"
        else "int64[pyarrow]"  # Arrow parses the text as an exact integer; plain int64 goes through float
        if d == "int64"
        else d
        for c, d in dtypes.items()
    }
    try:
        frame = pd.read_csv(
            path,
            engine=_CSV_ENGINE,
            usecols=usecols,
            dtype=fast_dtypes,
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8",
        )
        frame = _finish(
            frame, dtypes, downcast, keep_control
        )  # decodes the category levels: may meet bad UTF-8
    except Exception as exc:
        raise _diagnose_csv(path, header, dtypes, exc) from None
    return frame if list(frame.columns) == usecols else frame.loc[:, usecols]


def _check_tail(path: Path, n_fields: int) -> None:
    """Catch a truncated download: a last line with too few fields or an unterminated quote."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - _SNIFF_BYTES))
        tail = fh.read()
    body = tail.rstrip(b"\r\n")
    cut = body.rfind(b"\n")
    if cut < 0 and size > len(tail):
        return  # a huge last line: leave it to the parser
    last = body[cut + 1 :]
    if cut < 0 or not last.strip():
        return  # header only, or nothing after the header; handled elsewhere
    text = last.decode("utf-8", errors="replace")
    start = size - len(tail) + cut + 1
    if text.count('"') % 2 == 1:
        raise DataError(
            f"{path} is truncated: line {_count_lines(path, start) + 1} has an unterminated quote; "
            "re-download or regenerate the file."
        )
    fields = next(csv.reader([text]), [])
    if len(fields) < n_fields:
        raise DataError(
            f"{path} is truncated: its last line (line {_count_lines(path, start) + 1}) has "
            f"{len(fields)} of {n_fields} fields; re-download or regenerate the file."
        )


def _count_lines(path: Path, end: int) -> int:
    """Count newline bytes in the first ``end`` bytes of ``path``."""
    count = 0
    with path.open("rb") as fh:
        remaining = end
        while remaining > 0:
            block = fh.read(min(_HASH_BLOCK, remaining))
            if not block:
                break
            count += block.count(b"\n")
            remaining -= len(block)
    return count


def _diagnose_csv(path: Path, header: list[str], dtypes: dict[str, str], exc: BaseException) -> DataError:
    """Find the first problem of a CSV the fast reader rejected and describe it on its exact line."""
    return (
        _find_bad_utf8(path)
        or _find_bad_value(path, dtypes)
        or _find_bad_line(path, len(header))
        or DataError(f"{path} could not be read as a CSV file ({_short(exc)}); re-download or regenerate it.")
    )


def _find_bad_utf8(path: Path) -> DataError | None:
    """Locate the first byte that is not UTF-8 (block by block, fast even on the 27M-row tables)."""
    carry = b""
    offset = 0  # file offset of data[0]
    lines = 1  # line number at data[0]
    with path.open("rb") as fh:
        while True:
            block = fh.read(_HASH_BLOCK)
            data = carry + block
            if not data:
                return None
            try:
                data.decode("utf-8")
                carry, used = b"", len(data)
            except UnicodeDecodeError as err:
                if block and err.reason == "unexpected end of data":
                    carry, used = data[err.start :], err.start  # a character split across blocks
                else:
                    line = lines + data[: err.start].count(b"\n")
                    return DataError(
                        f"{path} is not UTF-8 text: byte 0x{data[err.start]:02x} at byte offset "
                        f"{offset + err.start} on line {line}; re-save the file as UTF-8."
                    )
            lines += data[:used].count(b"\n")
            offset += used


_NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$|^\s*[+-]?(inf|nan)\s*$"
_WHOLE = r"^\s*[+-]?\d+\s*$"


def _find_bad_value(path: Path, dtypes: dict[str, str]) -> DataError | None:
    """Read the numeric columns as text and report the first value that is not a number."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    numeric = [c for c, d in dtypes.items() if d != "str"]
    try:
        text = pcsv.read_csv(
            path,
            convert_options=pcsv.ConvertOptions(
                include_columns=numeric,
                column_types=dict.fromkeys(numeric, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
            ),
        )
    except Exception:
        return None  # a structural problem: the line scan finds it
    first: tuple[int, str] | None = None
    for col in numeric:
        is_id = dtypes[col] == "int64"
        start = 0
        for chunk in text.column(col).chunks:
            if first is not None and start >= first[0]:
                break
            try:  # fast: most chunks convert; only a failing chunk is searched with a regex
                if not (is_id and chunk.null_count):
                    pc.cast(chunk, pa.int64() if is_id else pa.float64())
                    start += len(chunk)
                    continue
            except pa.ArrowInvalid:
                pass
            ok = pc.match_substring_regex(chunk, _WHOLE if is_id else _NUMBER)
            bad = pc.invert(pc.fill_null(ok, not is_id))  # an empty identifier is bad too
            row = int(pc.index(bad, True).as_py())
            if row < 0 and is_id:  # whole numbers beyond the exact range
                row = next((i for i, v in enumerate(chunk.to_pylist()) if not _fits_int64(v)), -1)
            if row >= 0:
                if first is None or start + row < first[0]:
                    first = (start + row, col)
                break
            start += len(chunk)
    if first is None:
        return None
    row, col = first
    value = text.column(col)[row].as_py()
    where = f"line {row + 2} (data row {row + 1})"
    if value is None or not str(value).strip():
        return DataError(
            f"{path}: {col} is empty on {where}; every row needs an identifier, fill it in or remove the row."
        )
    if dtypes[col] == "int64":
        why = _ID_RANGE if re.fullmatch(_WHOLE, str(value)) else "not a whole number"
        return DataError(
            f"{path}: column {col} holds {value!r} on {where}, which is {why}; identifiers must be exact "
            "whole numbers, fix or remove that row."
        )
    return DataError(
        f"{path}: column {col} holds {value!r} on {where}, which is not a number; "
        "fix the value or leave it empty."
    )


def _fits_int64(text: str | None) -> bool:
    return text is not None and abs(int(text)) <= ID_LIMIT


def _find_bad_line(path: Path, n_fields: int) -> DataError | None:
    """Scan line by line for a line whose field count differs from the header's, or a broken quote."""
    with path.open("r", encoding="utf-8", errors="replace", newline="") as fh:
        for number, line in enumerate(fh, start=1):
            if number == 1:
                continue
            line = line.rstrip("\r\n")
            if not line:
                continue
            if '"' in line:
                try:
                    count = len(next(csv.reader([line], strict=True)))
                except csv.Error:
                    return DataError(
                        f"{path} line {number} is malformed (a stray or unterminated quote); "
                        "fix that line or re-download the file."
                    )
            else:
                count = line.count(",") + 1
            if count != n_fields:
                return DataError(
                    f"{path} line {number} has {count} fields but the header has {n_fields}; "
                    "fix that line or re-download the file."
                )
    return None


def _read_parquet(path: Path, usecols: list[str], dtypes: dict[str, str]) -> pd.DataFrame:
    try:
        # Text arrives as categories straight from parquet's dictionaries, and each Arrow column is freed
        # as soon as it is converted: about a third less peak memory than pandas.read_parquet.
        # Text columns are read as dictionaries (parquet stores them so): no string per row is built.
        schema = pq.read_schema(path)
        text = [
            c
            for c in usecols
            if dtypes.get(c) == "str"
            and c in schema.names
            and (pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type))
        ]
        table = pq.read_table(path, columns=usecols, read_dictionary=text)
        frame: pd.DataFrame = table.to_pandas(
            self_destruct=True, split_blocks=True, strings_to_categorical=True
        )
        del table
    except Exception as exc:
        raise DataError(
            f"{path} is not a readable parquet file ({_short(exc)}); re-export or regenerate it."
        ) from None
    frame = frame.reset_index(drop=True)
    for col, dtype in dtypes.items():
        if dtype == "str":
            continue
        frame[col] = _numeric_column(frame[col], col, dtype, path)
    return frame


def _numeric_column(values: pd.Series, col: str, dtype: str, path: Path) -> pd.Series:
    if dtype == "int64":
        return _exact_ids(values, col, path)
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        as_text = values.astype("str").str.strip()
        numbers = pd.to_numeric(as_text.mask(as_text == ""), errors="coerce")
        bad = numbers.isna() & values.notna() & (as_text != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{path}: column {col} holds {values.iloc[row]!r} in row {row + 1}, which is not a number; "
                "fix the value or leave it empty."
            )
        values = numbers
    return values.astype("float64")


#: Largest identifier (in absolute value) accepted: 2**53, the range where every reader (pandas' CSV
#: reader goes through float64, spreadsheets, JSON) keeps an integer exact. Real IDs have 6 digits.
ID_LIMIT = 2**53
_ID_RANGE = f"beyond the range of exact identifiers (±{ID_LIMIT:,})"


def _exact_ids(values: pd.Series, col: str, path: Path) -> pd.Series:
    """An identifier column as int64, refusing (with the row) anything that would change its value."""

    def refuse(row: int, why: str) -> DataError:
        return DataError(
            f"{path}: column {col} holds {_shown(values.iloc[row])} in row {row + 1}, which is {why}; "
            "identifiers must be exact whole numbers, fix or remove that row."
        )

    missing = values.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise DataError(
            f"{path}: {col} is empty in row {row + 1}; every row needs an identifier, "
            "fill it in or remove the row."
        )
    if pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values):
        raw = values.to_numpy()
        if raw.size and (raw.max() > ID_LIMIT or (values.dtype != np.uint64 and raw.min() < -ID_LIMIT)):
            # only a bad file pays for locating the row (27 M history rows: no temporary array otherwise)
            too_big = (raw > ID_LIMIT) | ((raw < -ID_LIMIT) if values.dtype != np.uint64 else False)
            raise refuse(int(np.flatnonzero(too_big)[0]), _ID_RANGE)
        return values.astype("int64")
    if pd.api.types.is_float_dtype(values):
        floats = values.to_numpy(dtype="float64")
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(floats) & (floats == np.floor(floats))
            exact = whole & (np.abs(floats) <= ID_LIMIT)
        if not exact.all():
            row = int(np.flatnonzero(~exact)[0])
            raise refuse(row, "not a whole number" if not whole[row] else _ID_RANGE)
        return pd.Series(floats.astype("int64"), index=values.index, name=values.name)
    parsed: list[int] = []
    for row, value in enumerate(values.tolist()):
        text = str(value).strip()
        if isinstance(value, bool) or not re.fullmatch(r"[+-]?\d+", text):
            raise refuse(row, "not a whole number")
        number = int(text)
        if abs(number) > ID_LIMIT:
            raise refuse(row, _ID_RANGE)
        parsed.append(number)
    return pd.Series(np.array(parsed, dtype="int64"), index=values.index, name=values.name)


# --------------------------------------------------------------------------------------------------
# Content checks
# --------------------------------------------------------------------------------------------------


def table_problems(frame: pd.DataFrame, path: Path, name: str, *, target_required: bool = True) -> list[str]:
    """Return the content problems of a parsed table (duplicated key, bad ``TARGET``), one sentence each.

    Args:
        frame: The table as returned by :func:`parse_table`.
        path: The file it came from (named in the messages).
        name: Home Credit table name.
        target_required: Whether every row must carry a ``TARGET`` (``application_train``).

    Returns:
        Messages, empty when the table is fine.

    """
    is_csv = is_csv_path(path)
    problems: list[str] = []
    key = table_spec(name).key
    if key is not None and key in frame.columns:
        dup = frame[key].duplicated(keep=False).to_numpy()
        if dup.any():
            rows = np.flatnonzero(dup)
            value = frame[key].iloc[rows[0]]
            second = int(rows[frame[key].iloc[rows].to_numpy() == value][1])
            problems.append(
                f"{path}: {key} {value} appears more than once ({_where(is_csv, int(rows[0]))} and "
                f"{_where(is_csv, second)}); keep one row per {key} and remove the duplicates."
            )
    if TARGET in frame.columns:
        target = frame[TARGET]
        bad = ~target.isin([0, 1])
        if not target_required:
            bad &= target.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            value = target.iloc[row]
            shown = "empty" if pd.isna(value) else f"{value:g}"
            problems.append(
                f"{path}: TARGET is {shown} in {_where(is_csv, row)}; TARGET must be 0 (repaid) or "
                "1 (default), fix or remove that row."
            )
    return problems


def read_table(
    path: Path, name: str, columns: Sequence[str] | None = None, *, downcast: bool | None = None
) -> pd.DataFrame:
    """Read one Home Credit table from a CSV or parquet file and validate it.

    Args:
        path: The file (``.csv`` like the Kaggle files, or ``.parquet``).
        name: Table name (one of :data:`trainer.schema.TABLE_NAMES`), giving columns and dtypes.
        columns: Schema columns to read (default: all); columns of the file outside the schema are ignored.
        downcast: Store non-identifier numbers as float32 (default: for history tables, never for
            the application tables).

    Returns:
        The table with identifiers as int64, numbers as float64/float32 and categories as ``category``.

    Raises:
        DataError: If the file is missing, empty, truncated, not UTF-8, not a CSV/parquet, lacks a
            column, holds a non-numeric value in a numeric column, repeats a key, or has a bad TARGET.

    """
    if name not in TABLE_NAMES:
        raise ValueError(f"unknown Home Credit table {name!r}")
    frame = parse_table(path, name, columns, downcast=downcast)
    problems = table_problems(frame, path, name)
    if problems:
        raise DataError(problems[0])
    return frame


def read_applications(path: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a clients file: application rows with the ``application_test`` columns, ``TARGET`` optional.

    Used by ``trainer predict`` and the TUI's ``--clients``. ``TARGET`` is kept (float64) when present;
    its values must then be 0, 1 or empty.

    Args:
        path: CSV or parquet file.
        columns: Read only these schema columns (with the same checks), e.g. what a client list shows
            before the whole file is read; ``TARGET`` is then not read. Default: every column.

    Raises:
        DataError: On any problem with the file (see :func:`read_table`).

    """
    optional = (TARGET,) if columns is None else ()
    frame = parse_table(path, "application_test", columns, optional=optional, downcast=False)
    problems = table_problems(frame, path, "application_test", target_required=False)
    if problems:
        raise DataError(problems[0])
    return frame


# --------------------------------------------------------------------------------------------------
# Whole folders
# --------------------------------------------------------------------------------------------------


def fingerprint_files(paths: Iterable[Path]) -> str:
    """SHA-256 over the names, sizes and contents of ``paths`` (the fingerprint :func:`load_data` records)."""
    return _hash_files(paths)


def _hash_files(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(f"{path.name}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as fh:
            while block := fh.read(_HASH_BLOCK):
                digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class HomeCreditData:
    """The Home Credit tables of one folder.

    Attributes:
        train: ``application_train`` (with ``TARGET``); an empty frame with its columns when not loaded.
        test: ``application_test``, or ``None`` when the folder has none.
        history: History tables present in the folder, by table name.
        source: The folder they came from.
        files_sha256: SHA-256 over the names, sizes and contents of the files read (see
            :meth:`fingerprint`).

    """

    train: pd.DataFrame
    test: pd.DataFrame | None
    history: dict[str, pd.DataFrame]
    source: Path
    files_sha256: str = ""

    def fingerprint(self) -> str:
        """Return a SHA-256 hex digest identifying the data (stored in model manifests).

        Computed from the files by :func:`load_data`; for an instance built by hand, from the frames.
        """
        if self.files_sha256:
            return self.files_sha256
        digest = hashlib.sha256()
        frames = {"application_train": self.train, **self.history}
        if self.test is not None:
            frames["application_test"] = self.test
        for name in sorted(frames):
            digest.update(name.encode())
            hashed = pd.util.hash_pandas_object(frames[name], index=False).to_numpy()
            digest.update(hashed.tobytes())
        return digest.hexdigest()


def _empty_table(name: str) -> pd.DataFrame:
    dtypes = read_dtypes(name)
    return pd.DataFrame({c: pd.Series(dtype="category" if d == "str" else d) for c, d in dtypes.items()})


def load_history(data_dir: Path) -> dict[str, pd.DataFrame]:
    """Read every history table present in ``data_dir`` (missing ones are simply absent).

    Raises:
        DataError: If the folder does not exist or a present table is unreadable or invalid.

    """
    _require_folder(data_dir)
    tables: dict[str, pd.DataFrame] = {}
    for name in HISTORY_TABLES:
        path = find_table(data_dir, name)
        if path is not None:
            tables[name] = read_table(path, name)
    return tables


def load_data(data_dir: Path, *, need_train: bool = True, history: bool = True) -> HomeCreditData:
    """Read the Home Credit tables of a folder.

    Args:
        data_dir: Folder with ``application_train.csv`` and friends (CSV or parquet).
        need_train: Fail when ``application_train`` is absent (otherwise ``train`` is an empty frame).
        history: Also read the history tables present.

    Returns:
        The tables and a fingerprint of the files read.

    Raises:
        DataError: If the folder or a needed file is missing, or any file read is invalid.

    """
    _require_folder(data_dir)
    read: list[Path] = []
    train_path = find_table(data_dir, "application_train")
    if train_path is None:
        if need_train:
            raise DataError(
                f"Data folder {data_dir} has no application_train.csv (or .parquet); {_HOW_TO_GET_DATA}."
            )
        train = _empty_table("application_train")
    else:
        train = read_table(train_path, "application_train")
        read.append(train_path)
    test_path = find_table(data_dir, "application_test")
    test = None
    if test_path is not None:
        test = read_table(test_path, "application_test")
        read.append(test_path)
    tables: dict[str, pd.DataFrame] = {}
    if history:
        tables = load_history(data_dir)
        read.extend(p for n in tables if (p := find_table(data_dir, n)) is not None)
    return HomeCreditData(train, test, tables, data_dir, _hash_files(read))
