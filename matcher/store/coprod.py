"""The co-production tables, in the store's database and under its Alembic migrations
(:mod:`matcher.store.schema`). What they are for: :mod:`matcher.coprod`.

What each keeps (and what it never keeps):

- ``comments``: what a comment is about (a service or the Local Offer itself), its topic, who
  sent it (parent, young person, practitioner), the day, its words until a decision is made,
  then only the redacted words that were published; the theme, the council's response. Never a
  profile, a postcode, an IP address or a name field.
- ``comment_contacts``: an optional address to reply to, apart from the comment, with the day
  it is deleted.
- ``comment_actions``: what the council did or will do, its status and the services changed.
- ``directory_tasks``: a check the directory team owes a service ("out of date", "wrong").
- ``feedback_seen``: one row per service and browser session (a salted hash of a random session
  token), so a session's feedback counts once; deleted after a few days.
- ``demand_cells``: counts of poorly served searches per need x age band x postcode district x
  month, and nothing else.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from matcher.store.base import Base

__all__ = ["CommentRow", "ContactRow", "ActionRow", "DirectoryTaskRow", "FeedbackSeenRow",
           "DemandCellRow", "COPROD_TABLES"]


class CommentRow(Base):
    """One comment on a service or on the Local Offer itself."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_on: Mapped[dt.date] = mapped_column(Date, index=True)
    about: Mapped[str] = mapped_column(String(16))            # service | local_offer
    service_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    topic: Mapped[str] = mapped_column(String(32))
    who: Mapped[str] = mapped_column(String(32), default="not_said")
    words: Mapped[str] = mapped_column(Text, default="")      # dropped once decided
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    theme: Mapped[str | None] = mapped_column(String(80), nullable=True)
    published_words: Mapped[str | None] = mapped_column(Text, nullable=True)
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    responded_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    published_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class ContactRow(Base):
    """An address to reply to, kept apart from its comment and deleted after ``delete_after``."""

    __tablename__ = "comment_contacts"

    comment_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(320))
    delete_after: Mapped[dt.date] = mapped_column(Date, index=True)


class ActionRow(Base):
    """What the council did, or will do, about a comment."""

    __tablename__ = "comment_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    comment_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))           # planned | done | not_possible
    reason: Mapped[str] = mapped_column(Text, default="")
    service_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_on: Mapped[dt.date] = mapped_column(Date)


class DirectoryTaskRow(Base):
    """A check the directory team owes one service."""

    __tablename__ = "directory_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(32))             # out_of_date | wrong
    comment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reports: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class FeedbackSeenRow(Base):
    """This browser session has already given feedback on this service."""

    __tablename__ = "feedback_seen"
    __table_args__ = (UniqueConstraint("service_id", "session_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(String(200))
    session_hash: Mapped[str] = mapped_column(String(64))
    seen_on: Mapped[dt.date] = mapped_column(Date, index=True)


class DemandCellRow(Base):
    """How many poorly served searches one need x age band x district x month had."""

    __tablename__ = "demand_cells"

    need: Mapped[str] = mapped_column(String(64), primary_key=True)
    band: Mapped[str] = mapped_column(String(40), primary_key=True)
    district: Mapped[str] = mapped_column(String(8), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)   # YYYY-MM
    count: Mapped[int] = mapped_column(Integer, default=0)


#: Every co-production table, in creation order.
COPROD_TABLES = (CommentRow.__table__, ContactRow.__table__, ActionRow.__table__,
                 DirectoryTaskRow.__table__, FeedbackSeenRow.__table__, DemandCellRow.__table__)
