"""The co-production tables; they are declared with the rest of the store, in
:mod:`matcher.store.coprod`, and re-exported here for the co-production modules."""

from matcher.store.coprod import (
    COPROD_TABLES,
    ActionRow,
    CommentRow,
    ContactRow,
    DemandCellRow,
    DirectoryTaskRow,
    FeedbackSeenRow,
)

__all__ = ["CommentRow", "ContactRow", "ActionRow", "DirectoryTaskRow", "FeedbackSeenRow",
           "DemandCellRow", "COPROD_TABLES"]
