"""Settings are declared once (alertflow/settings.py): README's table, each role's options and
the values a role receives all come from that declaration."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from alertflow import log_setup
from alertflow import settings as declared_settings
from alertflow.cli import app
from alertflow.listener import ListenerConfig
from alertflow.notifier import NotifierConfig
from alertflow.roles import run
from alertflow.settings import DEFAULT_SETTINGS, ROLES, Settings, for_role, readme_table

README = Path(__file__).resolve().parents[2] / "README.md"
TOKEN = "radar:" + "s" * 16


def readme_settings_table() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("| option | default | roles | meaning |")
    return text[start:text.index("\n\n", start)] + "\n"


def test_readmes_table_is_the_declaration() -> None:
    assert readme_settings_table() == readme_table(), (
        "README's settings table is out of date: paste `python -m alertflow.settings`"
    )


def test_every_setting_is_declared_for_known_roles() -> None:
    for item in declared_settings.declared():
        assert set(item.option.roles) <= set(ROLES), item.name
        assert item.option.help.endswith("."), item.name


def role_options(role: str) -> dict[str, Any]:
    """The role's click parameters by name, as Typer built them."""
    command = typer.main.get_command(app)
    sub = command.commands[role]  # type: ignore[attr-defined]
    return {param.name: param for param in sub.params}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_has_exactly_its_declared_options(role: str) -> None:
    params = role_options(role)
    expected = {item.name for item in for_role(role)}
    expected |= {i.option.repeatable for i in for_role(role) if i.option.repeatable}
    assert set(params) - {"help"} == expected
    for item in for_role(role):
        param = params[item.name]
        if item.option.argument:  # `alertflow follow URL`: positional, required
            assert param.opts == [item.name] and param.required
            assert param.envvar == item.env
            continue
        assert param.opts == [item.flag]
        assert param.envvar == item.env
        default = item.option.default_for(role, item.default)
        if item.option.multiple and default is not None:
            default = [default]  # a repeatable option's default is a list of one
        assert param.default == default


class Captured:
    """Stands in for the wiring (roles/run.py) to see what a command hands over."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, Settings, dict[str, Any]]] = []
        monkeypatch.setattr(run, "run", lambda coroutine: None)
        # Logging set up to print into CliRunner's stream would outlive it (closed file).
        monkeypatch.setattr(log_setup, "configure", lambda level, fmt: None)
        for role in ROLES:
            monkeypatch.setattr(run, role, self._recorder(role))

    def _recorder(self, role: str) -> Any:
        def record(settings: Settings, **more: Any) -> None:
            self.calls.append((role, settings, more))

        return record


def invoke(args: list[str], env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, args, env=env, catch_exceptions=False)


def test_defaults_reach_each_role_with_role_specific_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    captured = Captured(monkeypatch)
    assert invoke(["listen", "--token", TOKEN]).exit_code == 0
    assert invoke(["process"]).exit_code == 0
    assert invoke(["notify"]).exit_code == 0
    settings = {role: s for role, s, _ in captured.calls}
    # A listener shares its rate limit through Redis only when given one.
    assert settings["listen"] == dataclasses.replace(
        DEFAULT_SETTINGS, tokens={"radar": "s" * 16}, redis_url="")
    assert settings["listen"].port == 8080
    assert settings["notify"].port == 8000
    assert settings["process"] == DEFAULT_SETTINGS


def test_options_and_environment_variables_set_values(monkeypatch: pytest.MonkeyPatch) -> None:
    captured = Captured(monkeypatch)
    result = invoke(
        ["listen", "--insecure-no-auth", "--rate-limit", "5:10", "--max-alerts", "3"],
        env={"ALERTFLOW_CONFIRM_TIMEOUT_S": "2.5", "ALERTFLOW_QUEUE": "q1"},
    )
    assert result.exit_code == 0, result.output
    (_, settings, _), = captured.calls
    assert settings.rate_limit == (5.0, 10)
    assert settings.max_alerts == 3 and settings.ingest_rules().max_alerts == 3
    assert settings.confirm_timeout_s == 2.5 and settings.queue == "q1"
    assert settings.insecure_no_auth and settings.tokens == {}
    assert run.listener_config(settings).rate_limit == (5.0, 10)


def test_tokens_come_from_both_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    captured = Captured(monkeypatch)
    result = invoke(["listen", "--token", TOKEN],
                    env={"ALERTFLOW_TOKENS": "seismic:" + "t" * 16 + ",hfc:" + "u" * 16})
    assert result.exit_code == 0, result.output
    (_, settings, _), = captured.calls
    assert settings.tokens == {"radar": "s" * 16, "seismic": "t" * 16, "hfc": "u" * 16}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["listen", "--token", "radar:short"], "--token/ALERTFLOW_TOKENS"),
        (["listen", "--token", "no-colon-here-at-all"], "must look like NAME:SECRET"),
        (["listen", "--insecure-no-auth", "--rate-limit", "fast"],
         "--rate-limit/ALERTFLOW_RATE_LIMIT"),
        (["listen", "--insecure-no-auth", "--log-format", "xml"], "must be json or console"),
        (["listen"], "no source tokens"),
    ],
)
def test_bad_values_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    captured = Captured(monkeypatch)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", " ").split()), result.output
    assert captured.calls == []


def test_dev_uses_real_backends_only_when_given(monkeypatch: pytest.MonkeyPatch) -> None:
    captured = Captured(monkeypatch)
    assert invoke(["dev", "--demo"]).exit_code == 0
    assert invoke(["dev", "--amqp-url", "amqp://x/"],
                  env={"ALERTFLOW_REDIS_URL": "redis://y/1"}).exit_code == 0
    (_, memory, flags), (_, real, real_flags) = captured.calls
    assert flags == {"use_amqp": False, "use_redis": False, "demo": True}
    assert memory.amqp_url == DEFAULT_SETTINGS.amqp_url and memory.insecure_no_auth
    assert memory.log_format == "console" and memory.port == 8000
    assert real_flags == {"use_amqp": True, "use_redis": True, "demo": False}
    assert (real.amqp_url, real.redis_url) == ("amqp://x/", "redis://y/1")


def test_role_configs_take_their_defaults_from_the_declaration() -> None:
    assert run.notifier_config(DEFAULT_SETTINGS) == NotifierConfig()
    assert run.listener_config(DEFAULT_SETTINGS) == ListenerConfig()


def test_broker_addresses_repeated_or_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    captured = Captured(monkeypatch)
    a, b, c = (f"amqp://guest:guest@127.0.0.1:{port}/%2F" for port in (5672, 5673, 5674))
    assert invoke(["process", "--amqp-url", a, "--amqp-url", f"{b},{c}"]).exit_code == 0
    assert invoke(["process"], env={"ALERTFLOW_AMQP_URL": f"{a},{b}"}).exit_code == 0
    assert [s.amqp_url for _, s, _ in captured.calls] == [f"{a},{b},{c}", f"{a},{b}"]
    from alertflow.backends.rabbitmq import broker_urls

    assert broker_urls(captured.calls[0][1].amqp_url) == [a, b, c]
    result = CliRunner().invoke(app, ["process", "--amqp-url", "http://x"])
    assert result.exit_code == 2 and "amqp://" in result.output


def test_min_replicas_default_follows_sentinel(monkeypatch: pytest.MonkeyPatch) -> None:
    captured = Captured(monkeypatch)
    sentinel = "redis+sentinel://127.0.0.1:26379/mymaster/0"
    assert invoke(["process"]).exit_code == 0
    assert invoke(["process", "--redis-url", sentinel]).exit_code == 0
    assert invoke(["process", "--redis-url", sentinel, "--redis-min-replicas", "0"]).exit_code == 0
    assert invoke(["process"], env={"ALERTFLOW_REDIS_MIN_REPLICAS": "2"}).exit_code == 0
    assert [s.min_replicas() for _, s, _ in captured.calls] == [0, 1, 0, 2]


def test_follow_takes_its_url_as_argument_or_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    captured = Captured(monkeypatch)
    url = "http://127.0.0.1:9/WarningMessages/alert/Alerts.json"
    assert invoke(["follow", url, "--interval-s", "0.5"]).exit_code == 0
    assert invoke(["follow"], env={"ALERTFLOW_FOLLOW_URL": url}).exit_code == 0
    (_, given, _), (_, from_env, _) = captured.calls
    assert (given.follow_url, given.interval_s, given.http_port, given.source) == (
        url, 0.5, 8083, "hfc")
    assert from_env.follow_url == url and from_env.interval_s == 1.0
    refused = CliRunner().invoke(app, ["follow", "ftp://example.org/x"])
    assert refused.exit_code == 2 and "http" in refused.output
    assert CliRunner().invoke(app, ["follow"], env={"ALERTFLOW_FOLLOW_URL": ""}).exit_code == 2
