"""matcher.engine.config: the shipped file validates, dump/parse round-trips, and a bad file
is refused with one message naming every problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_support import EXPLICIT_CONFIG, explicit_config

from matcher.engine.config import (
    MatchConfig,
    default_config_path,
    dump_config,
    load_config,
    parse_config,
)
from matcher.errors import ConfigError, MatcherError
from matcher.vocab import load_vocabulary


def test_shipped_config_loads_and_is_complete():
    cfg = load_config()
    assert isinstance(cfg, MatchConfig)
    assert default_config_path().is_file()
    # Every travel mode except "online_only" needs its own speed figures.
    assert set(cfg.travel.modes) == set(load_vocabulary().travel_modes) - {"online_only"}
    assert sum(cfg.weights.model_dump().values()) > 0
    assert cfg.travel.modes["walk"].speed_kmh < cfg.travel.modes["car"].speed_kmh


def test_load_config_is_cached_per_path():
    assert load_config() is load_config()


def test_dump_then_parse_gives_an_equal_config():
    cfg = load_config()
    again = parse_config(dump_config(cfg))
    assert again == cfg
    assert dump_config(again) == dump_config(cfg)


def test_explicit_test_config_round_trips_and_matches_its_source():
    cfg = explicit_config()
    assert parse_config(dump_config(cfg)) == cfg
    assert cfg.weights.text == EXPLICIT_CONFIG["weights"]["text"]
    assert cfg.travel.modes["public_transport"].overhead_min == 8.0


def test_dumped_config_is_plain_data():
    def plain(x: object) -> bool:
        if isinstance(x, dict):
            return all(isinstance(k, str) and plain(v) for k, v in x.items())
        if isinstance(x, list):
            return all(plain(v) for v in x)
        return isinstance(x, str | int | float | bool)

    assert plain(dump_config(load_config()))


def _bad_toml(tmp_path: Path) -> Path:
    """The shipped file with two values out of range."""
    lines = []
    section = ""
    for line in default_config_path().read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            section = line.strip()
        key = line.split("=", 1)[0].strip()
        if section == "[weights]" and key == "travel":
            line = "travel = -0.5"
        if section == "[freshness]" and key == "stale_after_days":
            line = "stale_after_days = 0"
        lines.append(line)
    path = tmp_path / "bad.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_two_out_of_range_values_are_both_named(tmp_path: Path):
    path = _bad_toml(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "weights.travel" in message
    assert "freshness.stale_after_days" in message
    assert "2 problem" in message
    assert str(path) in message
    assert isinstance(info.value, MatcherError)


def test_unknown_key_is_refused():
    data = dump_config(load_config())
    data["weights"]["distance"] = 0.1
    with pytest.raises(ConfigError, match="weights.distance"):
        parse_config(data)


def test_missing_travel_mode_and_unknown_transition_are_reported_together():
    data = dump_config(load_config())
    del data["travel"]["modes"]["car"]
    data["transition"]["related_categories"]["to_university"] = ["education"]
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    message = str(info.value)
    assert "travel.modes.car" in message
    assert "to_university" in message


def test_all_weights_zero_is_refused():
    data = dump_config(load_config())
    data["weights"] = {k: 0.0 for k in data["weights"]}
    with pytest.raises(ConfigError, match="at least one weight"):
        parse_config(data)


def test_missing_file_and_invalid_toml_raise_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nowhere.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[weights\nneed = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)
