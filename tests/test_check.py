"""`quotebot check` catches each of ten deliberately broken configs, and passes a good one."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from bots.check import run_check
from bots.cli import main

ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIXES = ("DISCORD_", "SLACK_", "QUOTEBOT_")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith(ENV_PREFIXES):
            monkeypatch.delenv(key)


def write_config(tmp_path: Path, cache_dir: Path, extra: str = "", seeds: Path | None = None) -> Path:
    path = tmp_path / "quotebot.toml"
    path.write_text(
        f"""
[corpus]
seeds_dir = "{seeds or ROOT / "seeds"}"
config_dir = "{ROOT / "config"}"
cache_dir = "{cache_dir}"

[storage]
url = "sqlite:///{tmp_path / "var" / "quotebot.sqlite3"}"
{extra}
""",
        encoding="utf-8",
    )
    return path


def check(path: Path) -> tuple[int, str]:
    out = io.StringIO()
    return run_check(path, out), out.getvalue()


def test_a_good_config_passes(tmp_path: Path, cache_dir: Path) -> None:
    status, text = check(write_config(tmp_path, cache_dir))
    assert status == 0, text
    assert "FAIL" not in text and "2 documents" in text and "console chat" in text and "database" in text


BROKEN = {
    "invalid TOML": ("[discord\ncooldown_seconds = 5", "invalid TOML"),
    "unknown section": ("[discrod]\ntoken_x = 1", "discrod: unknown section"),
    "unknown key": ("[discord]\ncooldown = 5", "discord.cooldown"),
    "wrong type": ('[slack]\ncooldown_seconds = "fast"', "slack.cooldown_seconds"),
    "bad timezone": (
        '[[daily.targets]]\nplatform = "console"\nchannel = "console"\ntime = "09:00"\ntimezone = "Asia/Beijing"',
        "unknown IANA timezone 'Asia/Beijing'",
    ),
    "bad discord channel": (
        '[[daily.targets]]\nplatform = "discord"\nchannel = "#general"\ntime = "09:00"',
        "a Discord channel id is a number",
    ),
    "bad slack channel": (
        '[[daily.targets]]\nplatform = "slack"\nchannel = "general"\ntime = "09:00"',
        "a Slack channel id looks like C0123ABCD",
    ),
    "bad time": (
        '[[daily.targets]]\nplatform = "console"\nchannel = "console"\ntime = "9 o\'clock"',
        "daily.targets.0.time",
    ),
    "target for a platform that will not run": (
        '[[daily.targets]]\nplatform = "discord"\nchannel = "123456789012345678"\ntime = "09:00"',
        "set DISCORD_TOKEN",
    ),
    "grace out of range": ("[daily]\nmisfire_grace_seconds = 0", "daily.misfire_grace_seconds"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_broken_config_is_caught(case: str, tmp_path: Path, cache_dir: Path) -> None:
    extra, expected = BROKEN[case]
    status, text = check(write_config(tmp_path, cache_dir, extra))
    assert status == 1, text
    problems = [line for line in text.splitlines() if line.startswith("FAIL")]
    assert problems and any(expected in line for line in problems), text


def test_slack_tokens_that_do_not_fit_together(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-123")
    status, text = check(write_config(tmp_path, cache_dir))
    assert status == 1 and "SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET" in text
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxp-wrong")
    status, text = check(write_config(tmp_path, cache_dir))
    assert status == 1 and "starting with xapp-" in text
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-good")
    status, text = check(write_config(tmp_path, cache_dir))
    assert status == 0 and "socket mode" in text, text


def test_a_broken_corpus_names_the_file_and_line(tmp_path: Path, cache_dir: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    (seeds / "009_bad.txt").write_bytes("标题\n奥特曼:好。\n".encode() + b"\xff\xfe\n")
    status, text = check(write_config(tmp_path, cache_dir, seeds=seeds))
    assert status == 1 and "009_bad.txt:3" in text


def test_a_database_that_cannot_open(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "blocker").write_text("not a directory")
    path = write_config(tmp_path, cache_dir)
    path.write_text(path.read_text().replace(f"{tmp_path / 'var'}", f"{tmp_path / 'blocker'}"), encoding="utf-8")
    status, text = check(path)
    assert status == 1 and "storage.url" in text


def test_the_cli_command(tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--settings", str(write_config(tmp_path, cache_dir)), "check"]) == 0
    assert "all good" in capsys.readouterr().out
