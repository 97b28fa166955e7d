"""The results map: street tiles from a tile server, a home marker and numbered markers that
match the list. Drawn as plain HTML (tiles as background images and positioned labels, no
script), so it
works with the keyboard and screen readers skip it: the list says everything the map does.

The tile server is configurable: ``MATCHER_MAP_TILES`` is a URL template with ``{z}``, ``{x}``
and ``{y}`` (default: OpenStreetMap's standard tiles), or ``off`` to show no map (the list
alone). ``MATCHER_MAP_ATTRIBUTION`` is the credit line the tile server asks for. The family's
browser fetches the tiles; the server never does.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from html import escape

__all__ = ["DEFAULT_TILES", "DEFAULT_ATTRIBUTION", "tile_settings", "fit_zoom", "map_html"]

DEFAULT_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_ATTRIBUTION = ('Map data \u00a9 <a href="https://www.openstreetmap.org/copyright">'
                       "OpenStreetMap</a> contributors")
_TILE = 256
WIDTH, HEIGHT, PAD = 640, 400, 36


def tile_settings(env: dict[str, str] | None = None) -> tuple[str, str] | None:
    """``(url template, attribution HTML)``, or ``None`` when the map is switched off.

    >>> tile_settings({"MATCHER_MAP_TILES": "off"}) is None
    True
    >>> tile_settings({})[0] == DEFAULT_TILES
    True
    """
    env = os.environ if env is None else env
    url = (env.get("MATCHER_MAP_TILES") or DEFAULT_TILES).strip()
    if url.lower() in ("off", "none", "0", "false", ""):
        return None
    credit = env.get("MATCHER_MAP_ATTRIBUTION") or (
        DEFAULT_ATTRIBUTION if url == DEFAULT_TILES else "Map tiles from " + escape(url.split(
            "/")[2] if "//" in url else url))
    return url, credit


def _pixel(lat: float, lon: float, z: int) -> tuple[float, float]:
    """Web Mercator pixel position at zoom ``z``."""
    n = _TILE * 2 ** z
    x = (lon + 180.0) / 360.0 * n
    lat_r = math.radians(max(-85.0, min(85.0, lat)))
    y = (1 - math.log(math.tan(lat_r) + 1 / math.cos(lat_r)) / math.pi) / 2 * n
    return x, y


def fit_zoom(points: Sequence[tuple[float, float]], width: int = WIDTH, height: int = HEIGHT,
             pad: int = PAD, most: int = 16, least: int = 3) -> int:
    """The closest zoom at which every point fits inside the map with ``pad`` pixels spare.

    >>> fit_zoom([(51.55, -0.11)])
    16
    >>> fit_zoom([(51.55, -0.11), (51.60, -0.20)])
    12
    """
    for z in range(most, least - 1, -1):
        px = [_pixel(lat, lon, z) for lat, lon in points]
        xs, ys = [p[0] for p in px], [p[1] for p in px]
        if max(xs) - min(xs) <= width - 2 * pad and max(ys) - min(ys) <= height - 2 * pad:
            return z
    return least


def map_html(places: Sequence[tuple[str, float, float]], home: tuple[float, float] | None,
             tiles: tuple[str, str], width: int = WIDTH, height: int = HEIGHT) -> str:
    """The map as HTML: ``places`` are ``(label, lat, lon)`` (label "1", "2"... as in the
    list), ``home`` the family's point or ``None``. Sizes are in per cent of the box, so the
    map shrinks with the screen and keeps its shape."""
    url, credit = tiles
    points = [(lat, lon) for _, lat, lon in places] + ([home] if home else [])
    z = fit_zoom(points, width, height)
    px = [_pixel(lat, lon, z) for lat, lon in points]
    cx = (min(p[0] for p in px) + max(p[0] for p in px)) / 2
    cy = (min(p[1] for p in px) + max(p[1] for p in px)) / 2
    x0, y0 = cx - width / 2, cy - height / 2

    def pct(v: float, whole: int) -> str:
        return f"{v / whole * 100:.3f}%"

    imgs = []
    last = 2 ** z - 1
    for tx in range(math.floor(x0 / _TILE), math.floor((x0 + width) / _TILE) + 1):
        for ty in range(max(0, math.floor(y0 / _TILE)),
                        min(last, math.floor((y0 + height) / _TILE)) + 1):
            src = url.replace("{z}", str(z)).replace("{x}", str(tx % 2 ** z)).replace(
                "{y}", str(ty))
            # A background image, not <img>: a tile that fails to load leaves plain ground
            # instead of a broken-image icon.
            imgs.append(
                f'<div style="position:absolute;background-image:url({escape(src)});'
                "background-size:100% 100%;"
                f"left:{pct(tx * _TILE - x0, width)};top:{pct(ty * _TILE - y0, height)};"
                f'width:{pct(_TILE, width)};height:{pct(_TILE, height)}"></div>')
    marks: list[str] = []
    for (label, lat, lon) in places:
        x, y = _pixel(lat, lon, z)
        marks.append(
            f'<span style="position:absolute;left:{pct(x - x0, width)};top:{pct(y - y0, height)};'
            "transform:translate(-50%,-50%);min-width:1.9em;height:1.9em;line-height:1.9em;"
            "border-radius:1em;background:#0b0c0c;color:#fff;border:2px solid #fff;"
            "font-weight:700;font-size:15px;text-align:center;padding:0 .2em;"
            f'box-shadow:0 1px 3px rgba(0,0,0,.5)">{escape(label)}</span>')
    if home:  # drawn first, so a numbered marker on the same spot stays readable
        x, y = _pixel(home[0], home[1], z)
        marks.insert(0, (
            f'<span style="position:absolute;left:{pct(x - x0, width)};top:{pct(y - y0, height)};'
            "transform:translate(-50%,-50%);background:#fff;color:#0b0c0c;border:3px solid "
            "#0b0c0c;font-weight:700;font-size:14px;padding:.1em .4em;border-radius:.2em;"
            'box-shadow:0 1px 3px rgba(0,0,0,.5)">Home</span>'))
    shown = f"{len(places)} suggested service{'s' if len(places) != 1 else ''}"
    label = (f"Map of {shown}, numbered as in the list"
             + (", and your home" if home else "") + ".")
    return (f'<figure style="margin:0"><div role="img" aria-label="{escape(label)}" '
            f'style="position:relative;width:100%;aspect-ratio:{width}/{height};'
            'overflow:hidden;background:#f3f2f1;border:1px solid #b1b4b6">'
            f'<div aria-hidden="true">{"".join(imgs)}{"".join(marks)}</div></div>'
            f'<figcaption style="font-size:14px;color:#0b0c0c">{credit}</figcaption></figure>')
