"""Preparing a directory version for the server: the slow, once-per-record and once-per-version
work, done where it does not slow the requests.

* :func:`stored_readings`: what each service's words say about needs, read once per version of
  the record and kept in the store (``service_reading``);
* :func:`data_key`: a key of the directory's content, vocabulary and configuration, under which
  the fitted text index is saved (``<models_dir>/text_index.joblib``), so a start reuses it
  without putting every text together again;
* :func:`prepare_directory`: both, for the store's current version, then the whole matcher
  built and written as the version's prepared index (:mod:`matcher.engine.snapshot`). For a
  large directory the server runs it in a **separate process** (``python -m
  matcher.api.prepare``, at a lower CPU priority) when the import has not already done it
  (:func:`prepare_after_write`), so the reading, the fitting and the build hold neither the
  server's interpreter lock nor its memory; the server then only maps the folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from matcher.engine.config import MatchConfig
from matcher.services import ServiceRecord
from matcher.store import Store
from matcher.vocab import Vocabulary

__all__ = ["stored_readings", "data_key", "prepare_directory", "prepare_after_write", "main"]

log = logging.getLogger("matcher.api")


def stored_readings(store: Store, records: Sequence[ServiceRecord],
                    vocab: Vocabulary) -> dict[str, tuple[list[str], list[str]]]:
    """What each active service's words say about needs (id -> (mentioned, excluded)): the
    store's readings for the records unchanged since they were read, read now (and stored)
    for the others. Nothing is stored for a vocabulary not read from a file."""
    from matcher.engine.features import read_needs, reading_key
    from matcher.store import record_hash

    key = reading_key(vocab)
    if key is None:
        return {}
    found = store.readings(key)
    fresh = {r.id: (record_hash(r), *read_needs(r.name, r.description, vocab))
             for r in records if r.id not in found and r.status != "inactive"}
    if fresh:
        try:
            store.save_readings(key, fresh)
        except Exception:  # noqa: BLE001 - read again next time; the build goes on
            log.warning("could not store the services' readings", exc_info=True)
        found.update({i: (m, x) for i, (_h, m, x) in fresh.items()})
    return found


def data_key(fingerprint: str, vocab: Vocabulary, cfg: MatchConfig) -> str:
    """A key of what the text index is fitted on: the directory's content fingerprint
    (:meth:`Store.data_version`), the vocabulary (file and reading code) and the match
    configuration."""
    from matcher.engine.config import dump_config
    from matcher.engine.features import reading_key

    payload = json.dumps([fingerprint, reading_key(vocab) or vocab.source,
                          dump_config(cfg)], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]


def prepare_directory(store: Store, models_dir: Path, vocab: Vocabulary,
                      cfg: MatchConfig | None = None) -> dict[str, object]:
    """Store the readings of the records that lack one, save the text index of the store's
    current version under ``models_dir`` and write its prepared index there
    (:mod:`matcher.engine.snapshot`: the matcher's table, which every server process then
    maps instead of building). Returns what was done."""
    from matcher.engine.config import load_config
    from matcher.engine.pipeline import Matcher
    from matcher.engine.snapshot import prepared_folder, prepared_lock, write_prepared
    from matcher.services import records_to_frame

    cfg = cfg or load_config()
    fingerprint = store.data_version()
    key = data_key(fingerprint, vocab, cfg)
    folder = prepared_folder(models_dir, key)
    # Under the folder's lock: a second process preparing the same version (an import's and
    # a server's) waits, then finds it written.
    with prepared_lock(folder):
        if (folder / "done.json").is_file():
            return {"services": store.count_services(), "data_version": fingerprint,
                    "prepared": str(folder), "written": False}
        records = store.list_services()
        readings = stored_readings(store, records, vocab)
        if not records:
            return {"services": 0, "data_version": fingerprint, "prepared": None,
                    "written": False}
        matcher = Matcher.from_frame(records_to_frame(records), vocab=vocab, cfg=cfg,
                                     models_dir=models_dir, readings=readings, data_key=key)
        write_prepared(matcher.table, cfg, folder, locked=True)
    return {"services": len(records), "data_version": fingerprint, "prepared": str(folder),
            "written": True}


def prepare_after_write(store: Store, models_dir: Path, vocab: Vocabulary) -> None:
    """Prepare the store's new version for the servers right after an import or sync has
    committed it. Never fails the import: a failure is logged, and the first server that
    needs the version prepares it instead."""
    try:
        done = prepare_directory(store, models_dir, vocab)
    except Exception:  # noqa: BLE001 - the import itself has succeeded
        log.warning("the directory was imported, but its prepared index could not be "
                    "written; the server prepares it at its next build", exc_info=True)
        return
    log.info("prepared index of the imported directory: %s", done.get("prepared"))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m matcher.api.prepare --database-url URL --models-dir DIR --vocabulary PATH``"""
    from matcher.allowed import using_vocabulary, vocabulary_at

    parser = argparse.ArgumentParser(prog="python -m matcher.api.prepare",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--models-dir", required=True)
    parser.add_argument("--vocabulary", required=True)
    parser.add_argument("--nice", type=int, default=10,
                        help="lower this process's CPU priority by this much (default 10), so "
                             "the server's requests come first on a busy machine")
    args = parser.parse_args(argv)
    if args.nice > 0 and hasattr(os, "nice"):
        os.nice(args.nice)
    vocab = vocabulary_at(Path(args.vocabulary))
    with using_vocabulary(vocab), Store.open(args.database_url) as store:
        done = prepare_directory(store, Path(args.models_dir), vocab)
    print(json.dumps(done))
    return 0


if __name__ == "__main__":  # pragma: no cover - run by the server as a child process
    sys.exit(main())
