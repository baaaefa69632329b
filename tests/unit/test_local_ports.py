"""Test runs side by side pick ports from disjoint slices (scripts/test.sh runs two at once)."""

from __future__ import annotations

import pytest

from alertflow import local_ports


def _ports(monkeypatch: pytest.MonkeyPatch, port_slice: str | None, count: int = 200) -> set[int]:
    if port_slice is None:
        monkeypatch.delenv("ALERTFLOW_PORT_SLICE", raising=False)
    else:
        monkeypatch.setenv("ALERTFLOW_PORT_SLICE", port_slice)
    return {local_ports.free_port() for _ in range(count)}


def test_runs_with_different_slices_never_pick_the_same_port(
        monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = _ports(monkeypatch, "0/2"), _ports(monkeypatch, "1/2")
    assert max(first) < min(second)


def test_without_a_slice_ports_come_from_the_whole_range(
        monkeypatch: pytest.MonkeyPatch) -> None:
    upper_half_starts = min(_ports(monkeypatch, "1/2"))
    whole = _ports(monkeypatch, None)
    # Random over the whole range: of 200 ports, some fall in each half.
    assert any(port < upper_half_starts for port in whole)
    assert any(port >= upper_half_starts for port in whole)


@pytest.mark.parametrize("port_slice", ["2/2", "-1/2", "0/0", "1", "", "a/b", "0/99999"])
def test_a_slice_that_names_no_ports_is_refused_by_name(
        monkeypatch: pytest.MonkeyPatch, port_slice: str) -> None:
    monkeypatch.setenv("ALERTFLOW_PORT_SLICE", port_slice)
    with pytest.raises(ValueError, match="ALERTFLOW_PORT_SLICE"):
        local_ports.free_port()
