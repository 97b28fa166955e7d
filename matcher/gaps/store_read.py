"""The store's directory as :class:`~matcher.gaps.supply.GapServices`, read straight from the
columns a gap analysis uses.

A gap analysis needs, per service, who it serves (its stated needs and what its words say),
its ages, venue, service area, delivery, categories and whether it needs an EHC plan; not its
text index, contact details or anything else the matcher's table holds. :func:`read_gap_services`
selects those columns only, takes what each service's words say about needs from the readings
the server stores per record version (``service_reading``, the same prepared data the server's
matcher is built on), reads the records that have none yet and stores them for the next time,
and builds the arrays column by column. Withdrawn services (``status`` inactive) are left out,
as the matcher leaves them out.

The arrays are the ones :meth:`GapServices.from_table` makes from the engine's
:class:`~matcher.engine.features.ServiceTable` (tests check it), built here without the
table's other work.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sqlalchemy import JSON, Text, and_, select, type_coerce

from matcher.allowed import closed_values, vocabulary_in_use
from matcher.engine.config import MatchConfig, load_config
from matcher.engine.features import AREAS, has_threshold, read_needs, reading_key
from matcher.gaps.config import GapsConfig, load_gaps_config
from matcher.gaps.supply import GapServices, level_arrays, union_levels
from matcher.store import Store
from matcher.store.directory import ServiceReading, ServiceRow
from matcher.vocab import Vocabulary

__all__ = ["read_gap_services"]

log = logging.getLogger("matcher.gaps")

_COLUMNS = ("id", "name", "status", "content_hash", "min_age", "max_age", "latitude",
            "longitude", "ehcp_required", "delivery", "service_area", "needs", "categories",
            "facts")
_REMOTE = ("online", "phone", "home_visit")


def read_gap_services(store: Store, *, vocab: Vocabulary | None = None,
                      match: MatchConfig | None = None, gaps: GapsConfig | None = None,
                      remember_readings: bool = True) -> GapServices:
    """The store's active services as :class:`GapServices` (ordered by id, as
    :meth:`Store.list_services` orders them).

    Readings missing from the store are made now and, with ``remember_readings``, stored (a
    store that cannot be written to is only noted in the log).
    """
    vocab = vocab or vocabulary_in_use()
    match = match or load_config()
    gaps = gaps or load_gaps_config()
    key = reading_key(vocab)
    cols = _read_columns(store, key)
    ids = np.asarray(cols["id"], dtype=object)
    order = np.argsort(ids, kind="stable") if len(ids) else np.zeros(0, dtype=np.int64)
    active = np.asarray([s != "inactive" for s in cols["status"]], dtype=bool)
    keep = order[active[order]].tolist()
    cols = {k: [v[i] for i in keep] for k, v in cols.items()}
    return _build(cols, _readings(store, cols, vocab, key, remember_readings), vocab, match,
                  gaps)


def _read_columns(store: Store, key: str | None) -> dict[str, list]:
    """The columns a gap analysis needs, one list per column (JSON decoded in batches), with
    each record's current stored reading (``mentioned`` and ``excluded``; None without one)."""
    table = ServiceRow.__table__
    reading = ServiceReading.__table__
    json_names = {c.name for c in table.columns if isinstance(c.type, JSON)}
    selected = [type_coerce(table.c[name], Text).label(name) if name in json_names
                else table.c[name] for name in _COLUMNS]
    names = list(_COLUMNS)
    query = select(*selected)
    if key is not None:
        selected += [type_coerce(reading.c.mentioned, Text).label("mentioned"),
                     type_coerce(reading.c.excluded, Text).label("excluded")]
        names += ["mentioned", "excluded"]
        query = select(*selected).select_from(table.outerjoin(reading, and_(
            reading.c.id == table.c.id, reading.c.content_hash == table.c.content_hash,
            reading.c.reading_key == key)))
    out: dict[str, list] = {name: [] for name in names}
    with store.engine.connect() as conn:
        for part in conn.execute(query).partitions(10_000):
            for name, values in zip(names, zip(*part, strict=True), strict=True):
                out[name].extend(values)
    for name in ("delivery", "service_area", "needs", "categories"):
        out[name] = _decode(out[name], [])
    # Only a record whose facts name a threshold can change what it serves.
    out["facts"] = _decode([v if not isinstance(v, str) or "threshold" in v else None
                            for v in out["facts"]], [])
    if key is None:
        out["mentioned"] = out["excluded"] = [None] * len(out["id"])
    else:
        out["mentioned"] = _decode(out["mentioned"], None)
        out["excluded"] = _decode(out["excluded"], None)
    return out


def _decode(values: list, missing: list | None) -> list:
    """JSON text decoded in one call; ``missing`` for None (a driver that decodes JSON itself
    hands back the values, kept as they are)."""
    texts = [v for v in values if isinstance(v, str)]
    decoded = iter(json.loads("[" + ",".join(texts) + "]")) if texts else iter(())
    return [next(decoded) if isinstance(v, str) else (missing if v is None else v)
            for v in values]


def _readings(store: Store, cols: dict[str, list], vocab: Vocabulary, key: str | None,
              remember: bool) -> dict[str, tuple[list[str], list[str]]]:
    """id -> (needs mentioned, needs excluded) by each service's words: the stored reading
    where the record is unchanged since it was read; read now (and stored) for the others."""
    found = {sid: (m, x) for sid, m, x in zip(cols["id"], cols["mentioned"], cols["excluded"],
                                              strict=True) if m is not None and x is not None}
    missing = [i for i, sid in enumerate(cols["id"]) if sid not in found]
    if not missing:
        return found
    table = ServiceRow.__table__
    wanted = [cols["id"][i] for i in missing]
    texts: dict[str, tuple[str, str]] = {}
    with store.engine.connect() as conn:
        for lo in range(0, len(wanted), 500):
            part = wanted[lo:lo + 500]
            for row in conn.execute(select(table.c.id, table.c.name, table.c.description)
                                    .where(table.c.id.in_(part))):
                texts[row.id] = (row.name or "", row.description or "")
    fresh = {}
    for i in missing:
        sid = cols["id"][i]
        name, description = texts.get(sid, (cols["name"][i] or "", ""))
        fresh[sid] = (cols["content_hash"][i], *read_needs(name, description, vocab))
    if remember and key is not None:
        try:
            store.save_readings(key, fresh)
        except Exception:  # noqa: BLE001 - a read-only store: read again next time
            log.warning("could not store the services' readings", exc_info=True)
    found.update({sid: (m, x) for sid, (_h, m, x) in fresh.items()})
    return found


def _build(cols: dict[str, list], readings: dict[str, tuple[list[str], list[str]]],
           vocab: Vocabulary, match: MatchConfig, gaps: GapsConfig) -> GapServices:
    n = len(cols["id"])
    need_ids = list(vocab.needs)
    col = {nid: i for i, nid in enumerate(need_ids)}
    closed = closed_values(vocab)

    # Who each service serves: its stated needs (strength 1) and what its words mention
    # (the configured weights), as ServiceTable.build reads them.
    no_reading: tuple[list[str], list[str]] = ([], [])
    found = [readings.get(sid, no_reading) for sid in cols["id"]]
    stated_lists = [xs or [] for xs in cols["needs"]]
    weight = np.where([bool(xs) for xs in stated_lists], match.need.from_text_when_stated,
                      match.need.from_text).astype(np.float32)
    ex_r, ex_c = _pairs([[nid for nid in f[1] if nid in col] for f in found], col)
    excluded = np.zeros((n, len(need_ids)), dtype=bool)
    excluded[ex_r, ex_c] = True
    strength = np.zeros((n, len(need_ids)), dtype=np.float32)
    area_strength = np.zeros((n, len(AREAS)), dtype=np.float32)
    all_send = np.zeros(n, dtype=bool)
    for lists, s in ((stated_lists, None), ([f[0] for f in found], weight)):
        rows, names = _explode(lists)
        value = np.ones(len(rows), np.float32) if s is None else s[rows]
        is_all = names == "all_send"
        all_send[rows[is_all]] = True
        area_of = {f"area:{a}": i for i, a in enumerate(AREAS)}
        a_col = np.array([area_of.get(x, -1) for x in names.tolist()], dtype=np.int64)
        at = a_col >= 0
        np.maximum.at(area_strength, (rows[at], a_col[at]), value[at])
        n_col = np.array([col.get(x, -1) for x in names.tolist()], dtype=np.int64)
        ok = (n_col >= 0) & ~is_all & ~np.char.startswith(names.astype(str), "area:")
        ok[ok] = ~excluded[rows[ok], n_col[ok]]
        np.maximum.at(strength, (rows[ok], n_col[ok]), value[ok])
    threshold = np.array([has_threshold(fs) for fs in cols["facts"]], dtype=bool)
    stated_all = np.array(["all_send" in xs for xs in stated_lists], dtype=bool)
    all_send &= ~threshold | stated_all
    needs_unstated = np.array([len(xs) == 0 for xs in stated_lists], dtype=bool)
    level_needs, level_areas = level_arrays(need_ids, strength, area_strength, all_send,
                                            needs_unstated, vocab)
    excluded_b = excluded.astype(bool)

    # Service areas: districts as sparse columns; "national"; none stated.
    areas = [[x.upper() for x in (xs or [])] for xs in cols["service_area"]]
    national = np.array(["NATIONAL" in xs for xs in areas], dtype=bool)
    districts = sorted({d for xs in areas for d in xs if d != "NATIONAL"})
    d_index = {d: i for i, d in enumerate(districts)}
    d_r, d_c = _pairs([sorted({d_index[d] for d in xs if d != "NATIONAL"}) for xs in areas],
                      None)
    area_matrix = sp.csr_array((np.ones(len(d_r), dtype=bool), (d_r, d_c)),
                               shape=(n, len(districts)))
    area_unstated = np.array([len(xs) == 0 for xs in areas], dtype=bool)

    remote = np.array([any(m in _REMOTE for m in (xs or ())) for xs in cols["delivery"]],
                      dtype=bool)
    cat_ids = closed["categories"]
    cat_index = {c: i for i, c in enumerate(cat_ids)}
    c_r, c_c = _pairs([[cat_index[c] for c in (xs or []) if c in cat_index]
                       for xs in cols["categories"]], None)
    categories = np.zeros((n, len(cat_ids)), dtype=bool)
    categories[c_r, c_c] = True

    serve, serve_area = union_levels(level_needs, level_areas, excluded_b, gaps.serves)
    return GapServices(
        ids=np.asarray(cols["id"], dtype=object),
        names=np.asarray([str(x) for x in cols["name"]], dtype=object),
        min_age=_floats(cols["min_age"]), max_age=_floats(cols["max_age"]),
        lat=_floats(cols["latitude"]), lon=_floats(cols["longitude"]), remote=remote,
        area_districts=districts, area_matrix=area_matrix, national=national,
        area_unstated=area_unstated,
        ehcp_required=np.array([bool(x) for x in cols["ehcp_required"]], dtype=bool),
        need_ids=need_ids, serves=serve, area_ids=AREAS, serves_area=serve_area,
        categories=categories, level_needs=level_needs, level_areas=level_areas,
        excluded=excluded_b, category_ids=cat_ids,
    )


def _floats(values: Sequence) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def _explode(lists: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """(row, value) for every value of every row's list."""
    lengths = np.fromiter((len(xs) for xs in lists), dtype=np.int64, count=len(lists))
    rows = np.repeat(np.arange(len(lists), dtype=np.int64), lengths)
    values = np.array([x for xs in lists for x in xs], dtype=object)
    return rows, values


def _pairs(lists: Sequence[Sequence], index: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) for lists of column numbers, or of names looked up in ``index``."""
    rows, values = _explode(lists)
    if index is not None:
        values = np.array([index[v] for v in values.tolist()], dtype=np.int64)
    return rows, values.astype(np.int64)
