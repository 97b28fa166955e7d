"""Comments, moderation, responses and actions, and what is published ("You said, we did").

A comment goes through: ``new`` (just sent) -> ``published`` (redacted words, theme and the
council's response shown to everyone) or ``not_published`` (for example spam, or only personal
matters). Once it is decided, its own words are dropped: only the redacted words that were
published are kept. Actions (``planned``, ``done``, ``not_possible`` with the reason) can be
recorded before or after publishing and are shown with the comment.

Every function takes the store's SQLAlchemy engine and runs in one transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Literal, get_args

from sqlalchemy import Engine, delete, func, insert, select, update

from matcher.coprod.redact import redact
from matcher.coprod.tables import ActionRow, CommentRow, ContactRow, DirectoryTaskRow
from matcher.store.base import write_transaction

__all__ = [
    "About", "ABOUTS", "ServiceTopic", "SERVICE_TOPICS", "OfferTopic", "OFFER_TOPICS",
    "Who", "WHO", "ActionStatus", "ACTION_STATUSES", "TASK_TOPICS", "CommentError",
    "NotFound", "add_comment", "comment_queue", "get_comment", "moderate", "add_action",
    "update_action", "published_comments", "annual_rows", "annual_csv", "purge_contacts",
    "service_check", "open_task", "list_tasks", "close_task", "ANNUAL_COLUMNS",
    "missing_by_theme", "NOT_THEMED",
]

About = Literal["service", "local_offer"]
ABOUTS: tuple[str, ...] = get_args(About)
ServiceTopic = Literal["out_of_date", "wrong", "helpful", "not_helpful", "other"]
SERVICE_TOPICS: tuple[str, ...] = get_args(ServiceTopic)
OfferTopic = Literal["content", "accessibility", "missing", "how_it_works", "other"]
OFFER_TOPICS: tuple[str, ...] = get_args(OfferTopic)
Who = Literal["parent", "young_person", "practitioner", "other", "not_said"]
WHO: tuple[str, ...] = get_args(Who)
ActionStatus = Literal["planned", "done", "not_possible"]
ACTION_STATUSES: tuple[str, ...] = get_args(ActionStatus)
#: Service topics that become a task for the directory team.
TASK_TOPICS = ("out_of_date", "wrong")

TOPIC_LABELS = {
    "out_of_date": "Out of date", "wrong": "Something is wrong", "helpful": "Helpful",
    "not_helpful": "Not helpful", "other": "Other", "content": "What the Local Offer says",
    "accessibility": "How easy the information is to find and use",
    "missing": "Something is missing", "how_it_works": "How the Local Offer works",
}


class CommentError(ValueError):
    """A request about comments that cannot be done; the message says why and what to do."""


class NotFound(LookupError):
    """No comment, action or task with this id."""


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


# --------------------------------------------------------------------------- writing
def add_comment(engine: Engine, *, about: str, topic: str, words: str = "", who: str = "not_said",
                service_id: str | None = None, contact: str | None = None,
                contact_days: int = 90, today: dt.date | None = None) -> int:
    """Store one comment (and its contact address apart, if any); return its id.

    A comment on a service whose topic is ``out_of_date`` or ``wrong`` also opens (or adds a
    report to) a task for the directory team.
    """
    if about not in ABOUTS:
        raise CommentError(f"about must be one of {', '.join(ABOUTS)}")
    topics = SERVICE_TOPICS if about == "service" else OFFER_TOPICS
    if topic not in topics:
        raise CommentError(f"A comment on {'a service' if about == 'service' else 'the Local Offer'}"
                           f" has one of these topics: {', '.join(topics)}.")
    if about == "service" and not service_id:
        raise CommentError("Say which service the comment is about (service_id).")
    if who not in WHO:
        raise CommentError(f"who must be one of {', '.join(WHO)}")
    today = today or _today()
    with write_transaction(engine) as conn:
        comment_id = conn.execute(insert(CommentRow.__table__).values(
            created_on=today, about=about, service_id=service_id if about == "service" else None,
            topic=topic, who=who, words=words.strip(), status="new")).inserted_primary_key[0]
        if contact and contact.strip():
            conn.execute(insert(ContactRow.__table__).values(
                comment_id=comment_id, address=contact.strip(),
                delete_after=today + dt.timedelta(days=contact_days)))
        if about == "service" and topic in TASK_TOPICS:
            _open_task(conn, service_id, topic, comment_id, today)
    return int(comment_id)


def _open_task(conn, service_id: str, kind: str, comment_id: int | None,
               today: dt.date) -> int:
    t = DirectoryTaskRow.__table__
    found = conn.execute(select(t.c.id).where(t.c.service_id == service_id, t.c.kind == kind,
                                              t.c.status == "open")).first()
    if found is not None:
        conn.execute(update(t).where(t.c.id == found.id).values(reports=t.c.reports + 1))
        return int(found.id)
    return int(conn.execute(insert(t).values(
        service_id=service_id, kind=kind, comment_id=comment_id, reports=1, status="open",
        note="", created_on=today)).inserted_primary_key[0])


def open_task(engine: Engine, service_id: str, kind: str, *, comment_id: int | None = None,
              today: dt.date | None = None) -> int:
    """Open a task for the directory team (or add a report to the open one); its id."""
    if kind not in TASK_TOPICS:
        raise CommentError(f"kind must be one of {', '.join(TASK_TOPICS)}")
    with write_transaction(engine) as conn:
        return _open_task(conn, service_id, kind, comment_id, today or _today())


def moderate(engine: Engine, comment_id: int, *, editor: str, theme: str | None = None,
             remove: list[str] | None = None, edited_words: str | None = None,
             response: str | None = None, decision: Literal["publish", "not_publish"] | None = None,
             today: dt.date | None = None, themes: list[str] | None = None) -> dict:
    """Triage, redact, respond to and decide on one comment; return it as staff see it.

    ``remove`` lists phrases (a name, a school) to take out; ``edited_words`` replaces the
    words to publish (for example shortened); both are then passed through
    :func:`~matcher.coprod.redact.redact`, which also removes emails, phone numbers and
    postcodes. ``decision="publish"`` needs a theme and a response; once decided, the comment's
    own words are dropped.
    """
    today = today or _today()
    t = CommentRow.__table__
    with write_transaction(engine) as conn:
        row = conn.execute(select(t).where(t.c.id == comment_id)).mappings().first()
        if row is None:
            raise NotFound(f"There is no comment {comment_id}.")
        if row["status"] != "new" and (edited_words is not None or remove or decision):
            raise CommentError(f"Comment {comment_id} is already {row['status'].replace('_', ' ')}"
                               "; its words can no longer be changed.")
        values: dict = {}
        if theme is not None:
            if themes is not None and theme not in themes:
                raise CommentError(f"'{theme}' is not a theme. Use one of: {', '.join(themes)}.")
            values["theme"] = theme
        if response is not None:
            values["response"] = response.strip() or None
            values["responded_on"] = today if response.strip() else None
        # Removals add up: each works on the words as last redacted (or edited).
        if edited_words is not None:
            source = edited_words
        else:
            source = row["published_words"] if row["published_words"] is not None \
                else row["words"]
        if remove or edited_words is not None or decision == "publish":
            values["published_words"] = redact(source, remove or [])
        if decision == "publish":
            if not (values.get("theme") or row["theme"]):
                raise CommentError("Choose a theme before publishing.")
            if not (values.get("response") or row["response"]):
                raise CommentError("Write the council's response before publishing.")
            values.update(status="published", published_on=today, words="", decided_by=editor)
        elif decision == "not_publish":
            values.update(status="not_published", published_words=None, words="",
                          decided_by=editor)
        if values:
            conn.execute(update(t).where(t.c.id == comment_id).values(**values))
    return get_comment(engine, comment_id, staff=True)


def add_action(engine: Engine, comment_id: int, *, description: str, status: str,
               reason: str = "", service_ids: list[str] | None = None,
               today: dt.date | None = None) -> int:
    """Record what the council did or will do about a comment; return the action's id."""
    _check_action(status, reason)
    if not description.strip():
        raise CommentError("Say what the action is (description).")
    with write_transaction(engine) as conn:
        if conn.execute(select(CommentRow.id).where(CommentRow.id == comment_id)).first() is None:
            raise NotFound(f"There is no comment {comment_id}.")
        return int(conn.execute(insert(ActionRow.__table__).values(
            comment_id=comment_id, description=description.strip(), status=status,
            reason=reason.strip(), service_ids=sorted(set(service_ids or [])),
            updated_on=today or _today())).inserted_primary_key[0])


def update_action(engine: Engine, action_id: int, *, status: str, reason: str = "",
                  today: dt.date | None = None) -> None:
    """Change an action's status (for example planned -> done)."""
    _check_action(status, reason)
    t = ActionRow.__table__
    with write_transaction(engine) as conn:
        done = conn.execute(update(t).where(t.c.id == action_id).values(
            status=status, reason=reason.strip(), updated_on=today or _today()))
        if not done.rowcount:
            raise NotFound(f"There is no action {action_id}.")


def _check_action(status: str, reason: str) -> None:
    if status not in ACTION_STATUSES:
        raise CommentError(f"status must be one of {', '.join(ACTION_STATUSES)}")
    if status == "not_possible" and not reason.strip():
        raise CommentError("Say why the action is not possible (reason): families are told.")


def purge_contacts(engine: Engine, today: dt.date | None = None) -> int:
    """Delete every contact address past its day; how many were deleted."""
    t = ContactRow.__table__
    with write_transaction(engine) as conn:
        return int(conn.execute(delete(t).where(t.c.delete_after < (today or _today()))).rowcount
                   or 0)


# --------------------------------------------------------------------------- reading
def _actions(conn, ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {i: [] for i in ids}
    if not ids:
        return out
    t = ActionRow.__table__
    for a in conn.execute(select(t).where(t.c.comment_id.in_(ids)).order_by(t.c.id)).mappings():
        out[a["comment_id"]].append({
            "id": a["id"], "description": a["description"], "status": a["status"],
            "reason": a["reason"], "service_ids": list(a["service_ids"] or []),
            "updated_on": a["updated_on"]})
    return out


def _staff_view(row, actions: list[dict], contact: str | None) -> dict:
    return {"id": row["id"], "created_on": row["created_on"], "about": row["about"],
            "service_id": row["service_id"], "topic": row["topic"], "who": row["who"],
            "words": row["words"], "status": row["status"], "theme": row["theme"],
            "published_words": row["published_words"], "response": row["response"],
            "responded_on": row["responded_on"], "published_on": row["published_on"],
            "contact": contact, "actions": actions}


def _public_view(row, actions: list[dict]) -> dict:
    return {"id": row["id"], "received": row["created_on"].strftime("%B %Y"),
            "about": row["about"], "service_id": row["service_id"], "topic": row["topic"],
            "topic_label": TOPIC_LABELS.get(row["topic"], row["topic"]), "who": row["who"],
            "theme": row["theme"], "comment": row["published_words"] or "",
            "response": row["response"] or "", "responded_on": row["responded_on"],
            "published_on": row["published_on"], "actions": actions}


def get_comment(engine: Engine, comment_id: int, *, staff: bool) -> dict:
    """One comment: everything for staff, or only what is published for everyone."""
    t = CommentRow.__table__
    with engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.id == comment_id)).mappings().first()
        if row is None or (not staff and row["status"] != "published"):
            raise NotFound(f"There is no comment {comment_id}.")
        actions = _actions(conn, [comment_id])[comment_id]
        if not staff:
            return _public_view(row, actions)
        contact = conn.execute(select(ContactRow.address).where(
            ContactRow.comment_id == comment_id)).scalar()
        return _staff_view(row, actions, contact)


def comment_queue(engine: Engine, *, status: str | None = "new", limit: int = 200) -> list[dict]:
    """Comments for staff, oldest first (``status=None``: all)."""
    t = CommentRow.__table__
    q = select(t).order_by(t.c.id).limit(limit)
    if status:
        q = q.where(t.c.status == status)
    with engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
        ids = [r["id"] for r in rows]
        actions = _actions(conn, ids)
        contacts = dict(conn.execute(select(ContactRow.comment_id, ContactRow.address)
                                     .where(ContactRow.comment_id.in_(ids))).all()) if ids else {}
    return [_staff_view(r, actions[r["id"]], contacts.get(r["id"])) for r in rows]


def published_comments(engine: Engine, *, theme: str | None = None,
                       since: dt.date | None = None, until: dt.date | None = None,
                       topic: str | None = None) -> list[dict]:
    """Published comments (redacted words, response, actions), newest first; ``since`` and
    ``until`` (inclusive) filter on the day each was published."""
    t = CommentRow.__table__
    q = select(t).where(t.c.status == "published").order_by(t.c.published_on.desc(),
                                                            t.c.id.desc())
    if theme:
        q = q.where(t.c.theme == theme)
    if topic:
        q = q.where(t.c.topic == topic)
    if since:
        q = q.where(t.c.published_on >= since)
    if until:
        q = q.where(t.c.published_on <= until)
    with engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
        actions = _actions(conn, [r["id"] for r in rows])
    return [_public_view(r, actions[r["id"]]) for r in rows]


#: The theme of a comment staff have not themed yet.
NOT_THEMED = "Not yet themed"


def missing_by_theme(engine: Engine) -> list[dict]:
    """How many comments say something is missing, per theme (comments staff decided not to
    publish are left out), most first."""
    t = CommentRow.__table__
    q = (select(t.c.theme, func.count()).where(t.c.topic == "missing",
                                              t.c.status != "not_published")
         .group_by(t.c.theme))
    with engine.connect() as conn:
        counts = [(theme or NOT_THEMED, int(n)) for theme, n in conn.execute(q)]
    merged: dict[str, int] = {}
    for theme, n in counts:
        merged[theme] = merged.get(theme, 0) + n
    return [{"theme": k, "comments": v}
            for k, v in sorted(merged.items(), key=lambda x: (-x[1], x[0]))]


ANNUAL_COLUMNS = ("received", "published_on", "about", "service_id", "topic", "theme", "who",
                  "comment", "response", "actions")


def annual_rows(engine: Engine, *, since: dt.date, until: dt.date) -> list[dict]:
    """One row per published comment of the period, oldest first, ready for a CSV."""
    rows = published_comments(engine, since=since, until=until)
    rows.reverse()
    out = []
    for c in rows:
        acts = "; ".join(
            f"{a['description']} ({a['status'].replace('_', ' ')}"
            + (f": {a['reason']}" if a["reason"] else "") + ")" for a in c["actions"])
        out.append({"received": c["received"], "published_on": c["published_on"].isoformat(),
                    "about": c["about"], "service_id": c["service_id"] or "",
                    "topic": c["topic_label"], "theme": c["theme"] or "", "who": c["who"],
                    "comment": c["comment"], "response": c["response"], "actions": acts})
    return out


def _csv_cell(value: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def annual_csv(engine: Engine, *, since: dt.date, until: dt.date) -> str:
    """The annual review export: :func:`annual_rows` as CSV text (UTF-8, header row)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=ANNUAL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in annual_rows(engine, since=since, until=until):
        writer.writerow({k: _csv_cell(str(v)) for k, v in row.items()})
    return buf.getvalue()


# --------------------------------------------------------------------------- directory tasks
def service_check(engine: Engine, service_id: str, last_reviewed: dt.date | None) -> dict:
    """When a service was last checked (its record's review day or the day a task on it was
    closed, the later) and whether a check is pending (an open task)."""
    t = DirectoryTaskRow.__table__
    with engine.connect() as conn:
        reports = conn.execute(select(func.coalesce(func.sum(t.c.reports), 0)).where(
            t.c.service_id == service_id, t.c.status == "open")).scalar() or 0
        closed = conn.execute(select(func.max(t.c.closed_on)).where(
            t.c.service_id == service_id, t.c.status == "done")).scalar()
    dates = [d for d in (last_reviewed, closed) if d is not None]
    return {"service_id": service_id, "last_checked": max(dates) if dates else None,
            "check_pending": bool(reports), "open_reports": int(reports)}


def list_tasks(engine: Engine, *, status: str | None = "open") -> list[dict]:
    """Directory tasks, oldest first, with the words of the comment behind each (if any and
    not yet decided)."""
    t, c = DirectoryTaskRow.__table__, CommentRow.__table__
    q = select(t, c.c.words, c.c.published_words).select_from(
        t.outerjoin(c, c.c.id == t.c.comment_id)).order_by(t.c.id)
    if status:
        q = q.where(t.c.status == status)
    with engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [{"id": r["id"], "service_id": r["service_id"], "kind": r["kind"],
             "reports": r["reports"], "status": r["status"], "note": r["note"],
             "created_on": r["created_on"], "closed_on": r["closed_on"],
             "comment_id": r["comment_id"],
             "said": r["words"] or r["published_words"] or ""} for r in rows]


def close_task(engine: Engine, task_id: int, *, note: str = "",
               today: dt.date | None = None) -> None:
    """Mark a task done: the service has been checked today."""
    t = DirectoryTaskRow.__table__
    with write_transaction(engine) as conn:
        done = conn.execute(update(t).where(t.c.id == task_id).values(
            status="done", note=note.strip(), closed_on=today or _today()))
        if not done.rowcount:
            raise NotFound(f"There is no task {task_id}.")
