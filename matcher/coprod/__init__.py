"""Co-production: families' comments on the Local Offer, the council's moderation, responses and
actions ("You said, we did"), feedback that becomes a task for the directory team, and unmet
demand for commissioners.

The law behind it (Children and Families Act 2014 s.30(5)-(6); SEND Regulations 2014 reg.56):
the council must seek comments on its Local Offer (its content, how accessible its
information is, how it was developed and reviewed) and publish them, anonymised, with its
response and the action it will take, at least once a year.

Privacy: a comment is stored with what it is about and never with a family's profile; a contact
address, when one is given, is kept in its own table and deleted after a set number of days;
a comment's own words are dropped once it is published (only the redacted words are kept) or
not published; demand is kept only as counts per need x age band x postcode district x month.

Modules: :mod:`~matcher.coprod.tables` (the store's tables), :mod:`~matcher.coprod.config`
(limits and thresholds), :mod:`~matcher.coprod.redact`, :mod:`~matcher.coprod.comments`,
:mod:`~matcher.coprod.feedback`, :mod:`~matcher.coprod.demand`.
"""
