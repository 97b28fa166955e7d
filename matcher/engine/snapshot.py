"""A prepared index: a built :class:`~matcher.engine.features.ServiceTable` written to disk once
per directory version and mapped, not rebuilt, by every server process.

One folder per (directory content, vocabulary, configuration, engine code) key, under
``<models_dir>/prepared/``:

* ``table.pickle``: the table's small parts (lists of names, closed lists, the text index's
  vocabulary, scalars), pickled; every large NumPy array in it (the need and closed-list
  matrices, the text index's sparse matrices as their data/indices/indptr arrays, the venues'
  trigonometry, cached per-need columns) is written beside it as its own ``.npy`` file and
  loaded with ``np.load(mmap_mode="r")``;
* ``services.arrow``: the services' fields that answers quote (name, organisation, cost,
  facts, ...) as an Arrow IPC file, memory-mapped: a row becomes Python values only when an
  answer reads it.

Mapped pages are the operating system's page cache: several workers mapping the same folder
share them, and a start reads only what requests touch. The folder is written to a temporary
name and renamed into place under a file lock, so a reader never sees half of one and two
processes never write the same one.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import logging
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher.engine.features import ServiceTable

__all__ = ["FORMAT", "code_key", "prepared_folder", "write_prepared", "load_prepared",
           "PreparedTable", "ArrowRows", "remove_old_prepared", "prepared_lock"]

log = logging.getLogger("matcher.engine")

#: Bumped whenever the folder's layout changes.
FORMAT = 1
#: Arrays at least this large are written as their own .npy file (and mapped); smaller ones
#: are pickled with the rest.
MAPPED_BYTES = 16 * 1024
#: The dtype kinds an .npy file can hold without pickling (no object arrays).
_MAPPABLE = frozenset("biufcUSmM")
#: Stands for ``id(cfg)`` in the table's cached keys on disk (ids differ between processes).
_CFG = "__match_config__"
#: Columns of ``services.arrow`` that are not fields of the frame.
_DESCRIPTION_LOWER = "__description_lower__"
#: How a frame column is stored in ``services.arrow`` (kept in the file's metadata).
_PLAIN, _PICKLED = "plain", "pickled"


@functools.lru_cache(maxsize=1)
def code_key() -> str:
    """12 hex digits of the engine's code (every module of :mod:`matcher.engine`), the
    folder's format and the libraries whose objects are pickled: a folder is used only by the
    code that wrote it."""
    import pyarrow
    import scipy
    import sklearn

    digest = hashlib.sha256(f"{FORMAT}|{np.__version__}|{scipy.__version__}|"
                            f"{sklearn.__version__}|{pyarrow.__version__}".encode())
    here = Path(__file__).parent
    for path in sorted(here.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def prepared_folder(models_dir: str | Path, data_key: str) -> Path:
    """Where the prepared index of the directory version ``data_key`` (see
    :func:`matcher.api.prepare.data_key`) lives under ``models_dir``."""
    return Path(models_dir) / "prepared" / f"{data_key}-{code_key()}"


@contextlib.contextmanager
def prepared_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on writing ``folder`` (a lock file beside it): a second process
    that wants to write the same folder waits, then finds it written."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    lock_path = folder.parent / f".{folder.name}.lock"
    with open(lock_path, "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock, renames stay atomic
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --------------------------------------------------------------------------- writing
class _ArrayPickler(pickle.Pickler):
    """Pickles an object, writing each large NumPy array as an .npy file in ``folder``."""

    def __init__(self, file: io.BufferedWriter, folder: Path):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.folder = folder
        self.names: dict[int, str] = {}
        self.keep: list[np.ndarray] = []   # so that ids stay unique while pickling

    def persistent_id(self, obj: Any) -> Any:
        if not isinstance(obj, np.ndarray) or obj.dtype.kind not in _MAPPABLE \
                or obj.dtype.hasobject or obj.nbytes < MAPPED_BYTES:
            return None
        name = self.names.get(id(obj))
        if name is None:
            name = f"a{len(self.names)}.npy"
            np.save(self.folder / name, np.asarray(obj), allow_pickle=False)
            self.names[id(obj)] = name
            self.keep.append(obj)
        return ("npy", name)


def _rekey(cache: dict, old: Any, new: Any) -> dict:
    """``cache`` with ``old`` replaced by ``new`` wherever it is an element of a tuple key."""
    return {(tuple(new if k is old or (type(k) is type(old) and k == old) else k for k in key)
             if isinstance(key, tuple) else key): value for key, value in cache.items()}


def _column_kind(values: list) -> str:
    """How a frame column is stored: Arrow's own types for strings, numbers, booleans and
    lists of strings; anything else (facts: lists of mappings of mixed values) pickled per
    value, so it comes back exactly as it was."""
    import pyarrow as pa

    try:
        arr = pa.array(values, from_pandas=False)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return _PICKLED
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_boolean(t) or pa.types.is_int64(t) \
            or pa.types.is_float64(t) or pa.types.is_null(t):
        # Back exactly: a float column mixing ints would come back as floats only.
        if pa.types.is_float64(t) and any(type(v) is not float for v in values
                                          if v is not None):
            return _PICKLED
        if pa.types.is_int64(t) and any(type(v) is not int for v in values if v is not None):
            return _PICKLED
        return _PLAIN
    if pa.types.is_list(t) and pa.types.is_string(t.value_type) and \
            all(v is None or type(v) is list for v in values):
        return _PLAIN
    return _PICKLED


def _frame_to_arrow(frame: pd.DataFrame, description_lower: Sequence[str]):
    """The frame's columns (as ``frame[c].tolist()`` gives them) and the lower-cased
    descriptions as one Arrow table."""
    import pyarrow as pa

    arrays, names, kinds = [], [], {}
    for c in frame.columns:
        values = frame[c].tolist()
        kind = _column_kind(values)
        if kind == _PICKLED:
            arr = pa.array([pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL) for v in values],
                           type=pa.binary())
        else:
            arr = pa.array(values, from_pandas=False)
        arrays.append(arr)
        names.append(str(c))
        kinds[str(c)] = kind
    arrays.append(pa.array([str(x) for x in description_lower], type=pa.string()))
    names.append(_DESCRIPTION_LOWER)
    meta = {b"matcher_columns": json.dumps(kinds).encode()}
    return pa.Table.from_arrays(arrays, names=names).replace_schema_metadata(meta)


def write_prepared(table: ServiceTable, cfg: Any, folder: str | Path,
                   locked: bool = False) -> Path:
    """Write ``table`` (built with ``cfg``) as a prepared index at ``folder``; does nothing if
    it is there already. Written to a temporary folder beside it and renamed into place,
    under :func:`prepared_lock` (``locked``: the caller holds it already)."""
    folder = Path(folder)
    if locked:
        return _write_prepared(table, cfg, folder)
    with prepared_lock(folder):
        return _write_prepared(table, cfg, folder)


def _write_prepared(table: ServiceTable, cfg: Any, folder: Path) -> Path:
    import pyarrow as pa

    if (folder / "done.json").is_file():
        return folder
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        index = table.text_index
        # What the first match would work out on the table: done once, here.
        if getattr(index, "matrix_", None) is not None and not hasattr(index, "_columns"):
            index._columns = index.matrix_.tocsc()
        tfidf = getattr(index, "tfidf_", None)
        if getattr(index, "model", "") == "tfidf" and tfidf is not None and \
                not hasattr(tfidf, "_columns"):
            tfidf._columns = tfidf.matrix_.tocsc()
        state = {k: v for k, v in vars(table).items()
                 if k not in ("frame", "records", "description_lower", "_frame",
                              "_arrow")}
        state["need_cache"] = _rekey(state["need_cache"], id(cfg), _CFG)
        state["ids"] = np.asarray(table.ids).astype(str)
        for name in ("cost", "kind"):
            state[name] = np.asarray(state[name]).astype(str)
        with open(tmp / "table.pickle", "wb") as fh:
            _ArrayPickler(fh, tmp).dump(state)
        arrow = _frame_to_arrow(table.frame, list(table.description_lower))
        with pa.OSFile(str(tmp / "services.arrow"), "wb") as sink, \
                pa.ipc.new_file(sink, arrow.schema) as writer:
            writer.write_table(arrow)
        (tmp / "done.json").write_text(json.dumps(
            {"format": FORMAT, "services": int(table.n), "code": code_key()}),
            encoding="utf-8")
        os.rename(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("prepared index written: %d services in %.0f ms", table.n,
             (time.perf_counter() - started) * 1000)
    return folder


# --------------------------------------------------------------------------- reading
class _ArrayUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedReader, folder: Path):
        super().__init__(file)
        self.folder = folder

    def persistent_load(self, pid: Any) -> Any:
        kind, name = pid
        if kind != "npy" or "/" in name or "\\" in name:
            raise pickle.UnpicklingError(f"unknown reference {pid!r} in a prepared index")
        mapped = np.load(self.folder / name, mmap_mode="r", allow_pickle=False)
        # A plain read-only array over the mapping (it keeps the mapping open).
        return mapped.view(np.ndarray)


class ArrowRows(Sequence[dict]):
    """The services' fields as plain dicts, each made from the mapped Arrow file when asked
    for (what :class:`matcher.engine.features.FrameRows` gives for a built table)."""

    def __init__(self, arrow: Any, kinds: dict[str, str]):
        self._arrow = arrow
        self._kinds = kinds
        self._names = list(kinds)

    def __len__(self) -> int:
        return self._arrow.num_rows

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = int(i)
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"row {i} is not in a table of {n}")
        row = self._arrow.slice(i, 1)
        out = {}
        for name in self._names:
            value = row.column(name)[0].as_py()
            if self._kinds[name] == _PICKLED:
                value = pickle.loads(value)
            out[name] = value
        return out

    def column(self, name: str) -> list:
        """Every service's value of field ``name``."""
        values = self._arrow.column(name).to_pylist()
        if self._kinds[name] == _PICKLED:
            values = [pickle.loads(v) for v in values]
        return values


class PreparedTable(ServiceTable):
    """A :class:`ServiceTable` read from a prepared index: its arrays are mapped from disk,
    its services' fields read from the mapped Arrow file when an answer needs them, and the
    frame (used by the gap analysis, not by a match) made from that file on first use."""

    @property  # type: ignore[override]
    def frame(self) -> pd.DataFrame:
        found = self.__dict__.get("_frame")
        if found is None:
            rows: ArrowRows = self.__dict__["records"]
            found = pd.DataFrame({name: rows.column(name) for name in rows._names})
            self.__dict__["_frame"] = found
        return found

    @frame.setter
    def frame(self, value: pd.DataFrame) -> None:
        self.__dict__["_frame"] = value

    @property  # type: ignore[override]
    def description_lower(self) -> pd.Series:
        return pd.Series(self.__dict__["_arrow"].column(_DESCRIPTION_LOWER).to_pylist())

    @description_lower.setter
    def description_lower(self, value: Any) -> None:
        self.__dict__["_description_lower"] = value

    def mentions(self, text: str) -> np.ndarray:
        import pyarrow.compute as pc

        found = pc.match_substring(self.__dict__["_arrow"].column(_DESCRIPTION_LOWER), text)
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def load_prepared(folder: str | Path, cfg: Any) -> PreparedTable:
    """The table written at ``folder`` by :func:`write_prepared`, for use with ``cfg`` (the
    configuration it was built with: the folder's key says so)."""
    import pyarrow as pa

    folder = Path(folder)
    done = json.loads((folder / "done.json").read_text(encoding="utf-8"))
    if done.get("format") != FORMAT:
        raise ValueError(f"{folder} holds a prepared index of another format; delete it")
    with open(folder / "table.pickle", "rb") as fh:
        state = _ArrayUnpickler(fh, folder).load()
    state["need_cache"] = _rekey(state["need_cache"], _CFG, id(cfg))
    arrow = pa.ipc.open_file(pa.memory_map(str(folder / "services.arrow"), "r")).read_all()
    kinds = json.loads(arrow.schema.metadata[b"matcher_columns"])
    table = PreparedTable.__new__(PreparedTable)
    table.__dict__.update(state)
    table.__dict__["_arrow"] = arrow
    table.__dict__["records"] = ArrowRows(arrow, kinds)
    return table


def remove_old_prepared(models_dir: str | Path, keep: Path) -> int:
    """Delete the prepared folders under ``models_dir`` older than ``keep`` (the one now
    served). A process still mapping one keeps its pages until it lets go (POSIX); a folder
    newer than ``keep`` (another process's newer version) is left. Returns how many went."""
    root = Path(models_dir) / "prepared"
    try:
        kept_at = keep.stat().st_mtime
    except OSError:
        return 0
    removed = 0
    for path in root.iterdir() if root.is_dir() else ():
        if path == keep or not path.is_dir():
            continue
        try:
            if path.stat().st_mtime < kept_at:
                # A temporary folder is left to its writer unless abandoned long ago.
                if path.name.startswith(".") and path.stat().st_mtime > time.time() - 3600:
                    continue
                shutil.rmtree(path, ignore_errors=True)
                lock = root / f".{path.name}.lock"
                with contextlib.suppress(OSError):
                    lock.unlink()
                removed += 1
        except OSError:
            continue
    return removed
