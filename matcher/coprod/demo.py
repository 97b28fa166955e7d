"""The fictional demo comments and demand (``data/demo/coproduction.yaml``), loaded with the
demo Local Offer so that "You said, we did", the review queue and unmet demand have something
to show on first run.

Loaded only into a store that has no comment and no demand yet; dates are counted back from
the day of loading. Published comments go through the same moderation steps as real ones.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from sqlalchemy import Engine, func, select

from matcher.coprod import comments as cm
from matcher.coprod.demand import add_demand
from matcher.coprod.tables import CommentRow, DemandCellRow
from matcher.errors import ConfigError

__all__ = ["seed_demo_coproduction"]


def _month(today: dt.date, months_ago: int) -> str:
    y, m = today.year, today.month - months_ago
    while m <= 0:
        y, m = y - 1, m + 12
    return f"{y:04d}-{m:02d}"


def seed_demo_coproduction(engine: Engine, path: str | Path,
                           today: dt.date | None = None) -> tuple[int, int]:
    """Load the demo comments and demand from ``path`` unless the store already has some.

    Returns ``(comments, demand cells)`` loaded (``(0, 0)`` when skipped)."""
    today = today or dt.datetime.now(dt.UTC).date()
    with engine.connect() as conn:
        has = (conn.execute(select(func.count()).select_from(CommentRow)).scalar()
               or conn.execute(select(func.count()).select_from(DemandCellRow)).scalar())
    if has:
        return 0, 0
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"The demo comments file {path} could not be read: {exc}") from exc
    n_comments = 0
    for c in data.get("comments") or []:
        day = today - dt.timedelta(days=int(c["days_ago"]))
        cid = cm.add_comment(engine, about=c["about"], topic=c["topic"], who=c.get("who",
                             "not_said"), words=c["words"], service_id=c.get("service_id"),
                             today=day)
        for a in c.get("actions") or []:
            cm.add_action(engine, cid, description=a["description"], status=a["status"],
                          reason=a.get("reason", ""), service_ids=a.get("service_ids"),
                          today=day + dt.timedelta(days=7))
        if c.get("response"):
            cm.moderate(engine, cid, editor="demo", theme=c.get("theme"),
                        response=c["response"], decision="publish",
                        today=day + dt.timedelta(days=7))
        n_comments += 1
    cells = data.get("demand") or []
    for cell in cells:
        add_demand(engine, [(cell["need"], cell["band"], cell["district"],
                             _month(today, int(cell.get("months_ago", 0))))], int(cell["count"]))
    return n_comments, len(cells)
