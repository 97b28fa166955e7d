"""Open Referral UK publishing: the directory as an ORUK 3.0 API.

:mod:`matcher.oruk.export` builds the documents (:func:`~matcher.oruk.export.service_to_oruk`,
pages); :mod:`matcher.oruk.feed` the profile's filters over an index of the directory;
:mod:`matcher.oruk.routes` the FastAPI ``oruk_router`` (every route of the UK profile under
``/oruk/``); :mod:`matcher.oruk.conformance` the feed tests the ORUK dashboard runs, ported.
Reading feeds of every format (ORUK 3.0, ORUK v1, Outpost, the CSV template) is
:mod:`matcher.ingest`.
"""
