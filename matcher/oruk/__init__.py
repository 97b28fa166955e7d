"""Open Referral UK publishing: the directory as an ORUK 3.0 API.

:mod:`matcher.oruk.export` holds :func:`service_to_oruk`, :func:`services_page` and the FastAPI
``oruk_router`` (``GET /oruk/services``, ``GET /oruk/services/{id}``). Reading feeds of every
format (ORUK 3.0, ORUK v1, Outpost, the CSV template) is :mod:`matcher.ingest`.
"""
