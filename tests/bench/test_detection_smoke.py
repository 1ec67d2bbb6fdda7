"""The detection bench's harness keeps working: a short day against the ground truth."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support import MOSQUITTO

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))


@pytest.mark.skipif(MOSQUITTO is None, reason="the bench plays through a Mosquitto")
def test_a_short_day_scores_against_the_truth() -> None:
    import detection  # type: ignore[import-not-found]

    cwd = Path.cwd()
    f = detection.run_once(seed=5, speed=240.0, hours=1.0, sample_s=0.05, quiet=True)
    assert Path.cwd() == cwd  # left as it found it
    assert f["health"] == "ok"
    assert f["samples"] > 1000 and f["published"] > 50
    # every kind of booking was made and decided: the sensor-offline ones left unverified
    assert f["bookings"] >= 6 and f["ghosts_true"] >= 1
    assert f["unverified_expected"] >= 1
    assert f["unverified_marked"] == f["unverified_expected"]
    assert f["ghost_precision"] == 1.0 and f["release_wrong"] == []
    # the truths the goals are about, outside the tolerance windows
    assert f["occupied_shown_idle"] == 0
    assert f["blind_shown_idle"] == 0 and f["blind_samples"] > 0
    assert f["idle_samples"] > 0 and f["idle_precision"] == 1.0
    assert f["agreement_pct"] > 97.0
