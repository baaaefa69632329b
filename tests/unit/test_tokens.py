"""Source tokens: the tokens file's format, rotation by re-reading it, and secrets kept out of
every error and log line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import structlog

from alertflow.domain.tokens import SourceTokens, TokensError, parse_tokens_file
from alertflow.listener.tokens import TokenRegistry

OLD = "old-secret-of-hfc-0123456789"
NEW = "new-secret-of-hfc-9876543210"
OTHER = "secret-of-the-police-source-42"


def test_a_file_holds_several_secrets_per_source_comments_and_blank_lines() -> None:
    text = f"# rotated 2026-11-30\n\nhfc:{OLD}\n  hfc:{NEW}  \npolice:{OTHER}\n"
    tokens = SourceTokens.of(parse_tokens_file(text))
    assert tokens.source_of(OLD) == tokens.source_of(NEW) == "hfc"
    assert tokens.source_of(OTHER) == "police"
    assert tokens.source_of(OLD[:-1]) is None and tokens.source_of("") is None
    assert tokens.names == ["hfc", "police"]


@pytest.mark.parametrize("line", [OLD, f":{OLD}", f"h f c:{OLD}", f"hfc:{OLD[:10]}",
                                  f"hfc:{OLD} {NEW}", f'hfc":{OLD}'])
def test_a_bad_line_is_named_by_number_and_never_echoed(line: str) -> None:
    with pytest.raises(TokensError) as raised:
        parse_tokens_file(f"ok:{OTHER}\n{line}\n", "/etc/alertflow/tokens")
    message = str(raised.value)
    assert "/etc/alertflow/tokens line 2" in message
    assert OLD not in message and OLD[:10] not in message and OTHER not in message


def _registry(path: Path, text: str) -> TokenRegistry:
    path.write_text(text)
    return TokenRegistry({"cli": "fixed-secret-from-the-cli-1"}, path)


def test_rotation_overlaps_then_removes_the_old_secret(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    registry = _registry(path, f"hfc:{OLD}\n")
    assert registry.source_of(OLD) == "hfc" and registry.source_of(NEW) is None
    assert registry.source_of("fixed-secret-from-the-cli-1") == "cli"
    path.write_text(f"hfc:{OLD}\nhfc:{NEW}\n")
    assert registry.reload_if_changed()
    assert registry.source_of(OLD) == registry.source_of(NEW) == "hfc"
    path.write_text(f"hfc:{NEW}\n")
    assert registry.reload_if_changed()
    assert registry.source_of(OLD) is None and registry.source_of(NEW) == "hfc"
    assert not registry.reload_if_changed()  # unchanged: nothing to do
    assert registry.source_of("fixed-secret-from-the-cli-1") == "cli"  # fixed ones stay


def test_a_kubernetes_style_symlink_swap_is_followed(tmp_path: Path) -> None:
    # kubelet writes a new ..TIMESTAMP directory and swaps the ..data symlink atomically.
    for name, text in (("..v1", f"hfc:{OLD}\n"), ("..v2", f"hfc:{NEW}\n")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "tokens").write_text(text)
    os.symlink("..v1", tmp_path / "..data")
    os.symlink("..data/tokens", tmp_path / "tokens")
    registry = TokenRegistry({}, tmp_path / "tokens")
    assert registry.source_of(OLD) == "hfc"
    os.symlink("..v2", tmp_path / "..data.tmp")
    os.replace(tmp_path / "..data.tmp", tmp_path / "..data")
    assert registry.reload_if_changed()
    assert registry.source_of(OLD) is None and registry.source_of(NEW) == "hfc"


def test_an_invalid_or_missing_file_keeps_the_tokens_in_force_and_logs_no_secret(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tokens"
    registry = _registry(path, f"hfc:{OLD}\n")
    with structlog.testing.capture_logs() as logs:
        path.write_text(f"hfc:{OLD}\n{NEW}\n")  # the name was forgotten on line 2
        assert not registry.reload_if_changed()
        assert registry.source_of(OLD) == "hfc" and registry.source_of(NEW) is None
        path.unlink()
        assert not registry.reload_if_changed()
        assert registry.source_of(OLD) == "hfc"
        path.write_text(f"hfc:{NEW}\n")
        assert registry.reload_if_changed()
    text = repr(logs)
    assert "line 2" in text and "unreadable" in text and "reloaded" in text
    assert OLD not in text and NEW not in text


def test_an_unusable_file_at_start_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text(f"{OLD}\n")
    with pytest.raises(TokensError, match="line 1") as raised:
        TokenRegistry({}, path)
    assert OLD not in str(raised.value)
