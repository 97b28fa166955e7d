"""``matcher bench rebuild`` end to end on a tiny directory: it runs and its figures hang
together (the figures themselves are for README, not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.cli import main
from matcher.rebuild_bench import run_rebuild_bench


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="changed"):
        run_rebuild_bench(services=10, changed=11)
    with pytest.raises(ValueError, match="clients"):
        run_rebuild_bench(services=10, changed=5, clients=0)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads /proc (Linux)")
def test_small_run(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "rebuild", "--services", "300", "--changed", "300", "--clients", "2",
                 "--imports", "2", "--baseline-seconds", "1", "--settle-seconds", "0.5",
                 "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["errors"] == 0
    assert out["baseline"]["requests"] > 0 and out["during"]["requests"] > 0
    assert len(out["rss_after_import_mib"]) == len(out["import_to_answers_s"]) == 2
    assert out["ready_s"] > 0 and out["base_rss_mib"] > 0
    assert out["during"]["max_ms"] >= out["during"]["p99_ms"] >= out["during"]["p50_ms"]
    # Memory as RSS, PSS and USS; a second server beside the first, both measured.
    assert out["rss_ready_mib"] >= out["pss_ready_mib"] >= out["uss_ready_mib"] > 0
    assert len(out["pair_pss_mib"]) == len(out["pair_uss_mib"]) == 2
    assert out["second_ready_s"] > 0 and len(out["pss_after_import_mib"]) == 2
