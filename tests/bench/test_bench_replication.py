"""`alertflow bench replication` runs end to end on a private master + replica of its own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ALERTFLOW = str(Path(sys.executable).parent / "alertflow")


def test_both_modes_measured_and_wait_used_only_with_replicas() -> None:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed: CI must run this test", pytrace=False)
        pytest.skip("redis-server is not installed")
    done = subprocess.run([ALERTFLOW, "bench", "replication", "--alerts", "300", "--rounds", "1"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    without, with_wait = result["rounds"]
    assert (without["min_replicas"], with_wait["min_replicas"]) == (0, 1)
    assert without["wait_calls"] == 0 < with_wait["wait_calls"] <= 300
    for measured in (without, with_wait):
        assert measured["apply_ms"]["count"] == 300 and measured["alerts_per_s"] > 0
    assert set(result["epoch_check"]["server_us_per_call"]) == {"empty script",
                                                                 "INFO replication"}
