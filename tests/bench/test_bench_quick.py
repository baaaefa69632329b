"""A quick run of every benchmark scenario through the real CLI, so the benchmark cannot rot.

Each run starts its own listener, processor and notifier (`--start`) on the real RabbitMQ and
Redis, with small numbers. What is checked is the shape of the JSON line and correctness — every
accepted alert delivered to every client, nothing twice — never a timing: timings are the
benchmark's output, judged in docs/benchmarks.md against the issue's targets, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

PERCENTILES = {"count", "p50", "p95", "p99", "max", "mean"}
DELIVERY_KEYS = {"scenario", "deployment", "params", "clients", "posted", "e2e_ms",
                 "deliveries", "deliveries_per_s", "delivered_fraction", "missing",
                 "duplicates", "drained", "cpu", "notifier_rss_per_conn_kib",
                 "load_avg_before", "load_avg_after", "wall_s"}
SCENARIOS: dict[str, tuple[list[str], set[str]]] = {
    "latency": (["--rate", "20", "--duration", "2"], DELIVERY_KEYS),
    "fanout": (["--clients", "20", "--rate", "10", "--duration", "3"], DELIVERY_KEYS),
    "burst": (["--clients", "20", "--rate", "100", "--duration", "2"], DELIVERY_KEYS),
    "nationwide": (["--clients", "5", "--rate", "1", "--duration", "2"], DELIVERY_KEYS),
    "ingest": (["--posters", "8", "--duration", "1.5", "--barrage", "20", "--mode", "single",
                "--mode", "barrage", "--mode", "feed", "--mode", "cap"],
               {"scenario", "phases", "alerts_accepted", "alerts_out", "lost",
                "delivered_fraction", "duplicates", "drained", "pipeline_alerts_per_s", "cpu"}),
    "close": (["--windows", "20", "--rate", "20", "--min-window", "1", "--max-window", "2"],
              {"scenario", "close_lateness_ms", "e2e_ms", "closes", "delivered_fraction",
               "duplicates", "drained", "cpu"}),
}


def run_bench(scenario: str, args: list[str], amqp_url: str, redis_url: str,
              log_dir: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "alertflow", "bench", scenario, "--start",
               "--amqp-url", amqp_url, "--redis-url", redis_url, "--log-dir", str(log_dir),
               *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=80, check=False)
    logs = "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-2000:]}"
                     for path in sorted(log_dir.glob("*.log")))
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr[-3000:]}\n{logs}"
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, f"expected one JSON line on stdout, got:\n{done.stdout[-3000:]}"
    assert f"alertflow bench {scenario}" in done.stderr  # the readable table
    result: dict[str, Any] = json.loads(lines[0])
    return result


@pytest.mark.timeout(85)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_quick_run(scenario: str, rabbitmq: str, redis_url: str, tmp_path: Path) -> None:
    args, keys = SCENARIOS[scenario]
    result = run_bench(scenario, args, rabbitmq, redis_url, tmp_path)

    assert keys <= set(result), f"missing keys: {sorted(keys - set(result))}"
    assert result["scenario"] == scenario
    assert result["drained"] is True, result
    assert result["delivered_fraction"] == 1.0, result
    assert result["duplicates"] == 0, result
    assert {"listener", "processor0", "notifier0", "bench"} <= set(result["cpu"])
    if "e2e_ms" in result:
        assert set(result["e2e_ms"]) == PERCENTILES
    if scenario == "ingest":
        assert set(result["phases"]) == {"single", "barrage", "feed", "cap"}
        assert all(phase["alerts_accepted"] > 0 for phase in result["phases"].values())
        assert result["lost"] == 0
        assert result["alerts_out"] == result["alerts_accepted"]
    elif scenario == "close":
        assert result["closes"] == result["posted"]["alerts_accepted"] > 0
        assert set(result["close_lateness_ms"]) == PERCENTILES
    else:
        assert result["posted"]["alerts_accepted"] > 0
        assert result["clients"]["ready"] == result["params"]["clients"]
        # Each alert opens one window, or one per area when it names the whole country.
        assert result["windows_per_alert"] == (1_449 if scenario == "nationwide" else 1)
        assert result["deliveries"] == (result["params"]["clients"]
                                        * result["posted"]["alerts_accepted"]
                                        * result["windows_per_alert"])


@pytest.mark.timeout(85)
def test_quick_feedout(rabbitmq: str, redis_url: str, tmp_path: Path) -> None:
    result = run_bench("feedout", ["--pollers", "4", "--duration", "1.5", "--areas", "10"],
                       rabbitmq, redis_url, tmp_path)
    assert result["scenario"] == "feedout" and result["document_ready"] is True, result
    assert result["requests"] > 0 and set(result["statuses"]) <= {"200", "304"}, result
    assert result["statuses"].get("304", 0) > 0  # the conditional pollers were answered 304
    assert result["body_bytes"] > 0 and result["requests_per_notifier_cpu_s"]
    assert "notifier0" in result["cpu"]


@pytest.mark.timeout(85)
@pytest.mark.parametrize("connections", [[], ["--polling-keepalive"],
                                         ["--notifiers", "2", "--node-apart"]],
                         ids=["per-request", "keepalive", "apart"])
def test_quick_fanout_with_polling_clients(connections: list[str], rabbitmq: str,
                                           redis_url: str, tmp_path: Path) -> None:
    """Node's socket.io-client on long-polling beside the websocket clients, with a TCP
    connection per request (Node's default) or kept alive (as browsers do), or on a notifier
    of their own (`--node-apart`: the control that tells the notifier's cost from the
    machine's)."""
    if not (Path("tests/js/node_modules") / "socket.io-client").is_dir():
        pytest.skip("socket.io-client is not installed (npm ci in tests/js)")
    result = run_bench("fanout", ["--clients", "10", "--rate", "10", "--duration", "2",
                                  "--polling-clients", "3", *connections],
                       rabbitmq, redis_url, tmp_path)
    polling = result["node_polling_clients"]
    assert result["params"]["polling_keepalive"] is ("--polling-keepalive" in connections)
    notifiers = result["deployment"]["notifier_urls"]
    if "--node-apart" in connections:
        assert len(notifiers) == 2 and polling["notifier_url"] == notifiers[1], result
    else:
        assert polling["notifier_url"] == notifiers[0], result
    assert result["delivered_fraction"] == 1.0 and result["duplicates"] == 0, result
    assert polling["ready"] == 3 and polling["transports_at_end"] == {"polling": 3}, polling
    assert polling["delivered_fraction"] == 1.0 and polling["duplicates"] == 0, polling


@pytest.mark.timeout(85)
def test_quick_geo() -> None:
    """`bench geo` needs no service: the listener's CAP path and the area index in-process."""
    done = subprocess.run([sys.executable, "-m", "alertflow", "bench", "geo", "--messages", "20",
                           "--points", "50"], capture_output=True, text=True, timeout=80,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    [line] = [line for line in done.stdout.splitlines() if line.startswith("{")]
    result = json.loads(line)
    assert result["scenario"] == "geo" and result["areas_per_message_bench_box"] >= 1.0, result
    assert result["areas_per_message_town_box"] >= 1.0
    assert all(result[key] > 0 for key in ("cap_per_cpu_s_bench_box", "cap_per_cpu_s_town_box",
                                           "at_per_cpu_s_in_areas", "at_per_cpu_s_in_box",
                                           "circles_per_cpu_s"))
    assert result["at_method"] == "AreaIndex.at (outlines)"
