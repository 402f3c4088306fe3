"""`quotebot check` catches each deliberately broken config, says how to fix it, and passes a good one."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bots.check import run_check
from bots.cli import build_parser, main
from bots.settings import CorpusSettings, DailySettings, DiscordSettings, SlackSettings, StorageSettings
from quotecore.cli import run as cli_run

ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIXES = ("DISCORD_", "SLACK_", "QUOTEBOT_")
# A well-formed (not real) bot token whose first part encodes the application id 123456789012345678.
DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbCdE.abcdefghijklmnopqrstuvwxyz0123456789AB"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
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


def failures(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("FAIL")]


def test_a_good_config_passes(tmp_path: Path, cache_dir: Path) -> None:
    status, text = check(write_config(tmp_path, cache_dir))
    assert status == 0, text
    assert not failures(text) and "2 documents" in text and "console chat" in text and "database" in text
    assert text.rstrip().endswith("quotebot check: all good")


def test_a_good_config_with_both_platforms_and_targets_passes(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", DISCORD_TOKEN)
    monkeypatch.setenv("DISCORD_APPLICATION_ID", "123456789012345678")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-abc")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("SLACK_ADMIN_USER_IDS", '["U0123ABCD"]')
    targets = (
        '[[daily.targets]]\nplatform = "discord"\nchannel = "123456789012345678"\ntime = "09:00"\n'
        'timezone = "Asia/Shanghai"\n'
        '[[daily.targets]]\nplatform = "slack"\nchannel = "C0123ABCD"\ntime = "21:30"\ntimezone = "Europe/Paris"\n'
    )
    status, text = check(write_config(tmp_path, cache_dir, targets))
    assert status == 0, text
    assert "Discord: DISCORD_TOKEN set" in text and "Slack: SLACK_BOT_TOKEN set, http mode" in text
    assert "daily.targets.1 (slack C0123ABCD at 21:30 Europe/Paris)" in text


TARGET = '[[daily.targets]]\nplatform = "{platform}"\nchannel = "{channel}"\ntime = "{time}"\ntimezone = "{zone}"\n'


def target(platform: str = "console", channel: str = "console", time: str = "09:00", zone: str = "UTC") -> str:
    return TARGET.format(platform=platform, channel=channel, time=time, zone=zone)


# name → (config text added to a good file, environment, what the FAIL line must say, what its fix says)
BROKEN: dict[str, tuple[str, dict[str, str], str, str]] = {
    "1 invalid TOML": ("[discord\ncooldown_seconds = 5", {}, "invalid TOML", "fix the syntax"),
    "2 misspelt section": ("[discrod]\ncooldown_seconds = 1", {}, "discrod: unknown section", "fix its spelling"),
    "3 misspelt key": ("[discord]\ncooldown = 5", {}, "discord.cooldown: unknown key", "cooldown_seconds"),
    "4 wrong type in the file": ('[slack]\ncooldown_seconds = "fast"', {}, "slack.cooldown_seconds", "a number"),
    "5 unknown timezone": (target(zone="Asia/Beijing"), {}, "unknown IANA timezone 'Asia/Beijing'", "Asia/Shanghai"),
    "6 channel name instead of a Discord id": (
        target("discord", "#general"),
        {},
        "a Discord channel id is a number",
        "Copy ID",
    ),
    "7 channel name instead of a Slack id": (
        target("slack", "general"),
        {},
        "a Slack channel id looks like C0123ABCD",
        "channel details",
    ),
    "8 time that is not HH:MM": (target(time="9 o'clock"), {}, "daily.targets.0.time", '"09:00"'),
    "9 target for a platform that will not run": (
        target("discord", "123456789012345678"),
        {},
        "that platform will not run",
        "set DISCORD_TOKEN",
    ),
    "10 Slack bot token without app token or signing secret": (
        "",
        {"SLACK_BOT_TOKEN": "xoxb-1-2-abc"},
        "Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET",
        "set one of them",
    ),
    "11 Slack app token pasted into the bot token": (
        "",
        {"SLACK_BOT_TOKEN": "xapp-1-A1-2-abc", "SLACK_APP_TOKEN": "xapp-1-A1-2-abc"},
        "must be a bot token starting with xoxb-",
        "Bot User OAuth Token",
    ),
    "12 list in the environment that is not JSON": (
        "",
        {"DISCORD_GUILD_IDS": "123456789012345678,876543210987654321"},
        "DISCORD_GUILD_IDS: not valid JSON",
        "DISCORD_GUILD_IDS='[123456789012345678]'",
    ),
    "13 boolean in the environment": (
        "",
        {"QUOTEBOT_DAILY_ENABLED": "sometimes"},
        "daily.enabled (environment variable QUOTEBOT_DAILY_ENABLED)",
        "true or false",
    ),
    "14 grace out of range": ("[daily]\nmisfire_grace_seconds = 0", {}, "daily.misfire_grace_seconds", "range"),
    "15 token quoted in the env file": (
        "",
        {"DISCORD_TOKEN": f'"{DISCORD_TOKEN}"'},
        "DISCORD_TOKEN has spaces or quotes around it",
        "bare value",
    ),
    "16 application id of another app": (
        "",
        {"DISCORD_TOKEN": DISCORD_TOKEN, "DISCORD_APPLICATION_ID": "999999999999999999"},
        "DISCORD_APPLICATION_ID 999999999999999999 is not the application of DISCORD_TOKEN",
        "same application",
    ),
    "17 Slack admin by display name": (
        '[slack]\nadmin_user_ids = ["@alice"]',
        {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_APP_TOKEN": "xapp-1-A1-2-abc"},
        "'@alice' is not a Slack user id",
        "Copy member ID",
    ),
    "18 the same channel twice": (
        target() + target(time="10:00"),
        {},
        "console channel console is listed 2 times",
        "keep one",
    ),
    "19 seeds directory that does not exist": (
        '[corpus]\nseeds_dir = "/nonexistent/seeds"',
        {},
        "no such directory",
        "QUOTEBOT_CORPUS_SEEDS_DIR",
    ),
    "20 number left empty in the env file": (
        "",
        {"DISCORD_APPLICATION_ID": ""},
        "discord.application_id (environment variable DISCORD_APPLICATION_ID): set but empty",
        "comment it out",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN, key=lambda c: int(c.split()[0])))
def test_each_broken_config_is_caught_with_its_fix(
    case: str, tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra, env, expected, fix = BROKEN[case]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    path = write_config(tmp_path, cache_dir)
    if extra.startswith("[corpus]"):  # replace the good table rather than define it twice
        path.write_text(path.read_text().replace(f'seeds_dir = "{ROOT / "seeds"}"', extra.split("\n")[1]))
    else:
        path.write_text(path.read_text() + extra + "\n")
    status, text = check(path)
    assert status == 1, text
    lines = [line for line in failures(text) if expected in line]
    assert lines, f"expected a FAIL line with {expected!r}:\n{text}"
    assert fix in lines[0] and "→" in lines[0], f"the line must say how to fix it: {lines[0]}"
    assert "Traceback" not in text and text.rstrip().endswith("problem(s)")


def test_every_line_of_a_multi_problem_config_has_its_fix(tmp_path: Path, cache_dir: Path) -> None:
    extra = '[discord]\ncooldown = 5\nmax_results = 9\n[slack]\nmode = "websocket"\n' + target(zone="Mars/Olympus")
    status, text = check(write_config(tmp_path, cache_dir, extra))
    assert status == 1
    lines = failures(text)
    assert len(lines) == 4, text
    assert all("→" in line or "for example" in line or "Input should be" in line for line in lines), text


def test_slack_tokens_that_do_not_fit_together(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-good")
    status, text = check(write_config(tmp_path, cache_dir))
    assert status == 1 and "SLACK_BOT_TOKEN is not" in text
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-123")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxp-wrong")
    status, text = check(write_config(tmp_path, cache_dir))
    assert status == 1 and "starting with xapp-" in text
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-good")
    status, text = check(write_config(tmp_path, cache_dir, '[slack]\nmode = "http"'))
    assert status == 1 and "SLACK_SIGNING_SECRET" in text
    status, text = check(write_config(tmp_path, cache_dir))
    assert status == 0 and "socket mode" in text, text


def test_slack_distribution_settings_each_get_one_line_and_a_fix(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", "1111.2222")
    status, text = check(write_config(tmp_path, cache_dir))
    assert status == 1 and "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together" in text
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "s3cret")
    status, text = check(write_config(tmp_path, cache_dir, '[slack]\nredirect_uri = "http://bot.example/oauth"'))
    assert status == 1 and "needs HTTP mode: set SLACK_SIGNING_SECRET" in text
    assert "must be the public https URL of /slack/oauth_redirect" in text
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing")
    config = '[slack]\nredirect_uri = "https://bot.example/slack/oauth_redirect"'
    status, text = check(write_config(tmp_path, cache_dir, config))
    assert status == 0 and "installable by any workspace at /slack/install" in text, text


def test_shard_settings_are_checked(tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_SHARD_IDS", "[0, 1]")
    status, text = check(write_config(tmp_path, cache_dir))
    assert status == 1 and "shard_ids needs shard_count" in text
    monkeypatch.setenv("DISCORD_SHARD_COUNT", "2")
    monkeypatch.setenv("DISCORD_SHARD_IDS", "[1, 2]")
    status, text = check(write_config(tmp_path, cache_dir))
    assert status == 1 and "shard_ids [2] outside 0…1" in text


def test_a_broken_corpus_names_the_file_and_line(tmp_path: Path, cache_dir: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    (seeds / "009_bad.txt").write_bytes("标题\n奥特曼:好。\n".encode() + b"\xff\xfe\n")
    status, text = check(write_config(tmp_path, cache_dir, seeds=seeds))
    assert status == 1 and "009_bad.txt:3" in text and "move it out of" in text


def test_an_empty_corpus_is_a_problem(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "empty").mkdir()
    status, text = check(write_config(tmp_path, cache_dir, seeds=tmp_path / "empty"))
    assert status == 1 and "0 passages" in text and "add interview .txt files" in text


def test_a_database_that_cannot_open(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "blocker").write_text("not a directory")
    path = write_config(tmp_path, cache_dir)
    path.write_text(path.read_text().replace(f"{tmp_path / 'var'}", f"{tmp_path / 'blocker'}"), encoding="utf-8")
    status, text = check(path)
    assert status == 1 and "storage.url" in text and "→ check the path" in text
    status, text = check(write_config(tmp_path, cache_dir, "[daily]\nenabled = false"))
    assert status == 0 and "no database needed" in text


def test_a_missing_settings_file(tmp_path: Path) -> None:
    status, text = check(tmp_path / "nope.toml")
    assert status == 1 and "file not found" in text and "--settings" in text


def test_the_cli_command(tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--settings", str(write_config(tmp_path, cache_dir)), "check"]) == 0
    assert "all good" in capsys.readouterr().out


def test_a_bad_environment_variable_never_shows_a_traceback(tmp_path: Path, cache_dir: Path) -> None:
    """bots.settings reads the environment at import: `check` and `run` still answer in one line each,
    and `search` (which needs no bot settings) keeps working."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    env.update(DISCORD_COOLDOWN_SECONDS="soon", QUOTEBOT_CORPUS_CACHE_DIR=str(cache_dir))
    config = str(write_config(tmp_path, cache_dir))

    def quotebot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bots.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    checked = quotebot("--settings", config, "check")
    assert checked.returncode == 1 and "Traceback" not in checked.stderr + checked.stdout
    assert "discord.cooldown_seconds (environment variable DISCORD_COOLDOWN_SECONDS)" in checked.stdout
    ran = quotebot("--settings", config, "run")
    assert ran.returncode == 1 and "Traceback" not in ran.stderr and "DISCORD_COOLDOWN_SECONDS" in ran.stderr
    searched = quotebot("search", "能源", "--limit", "1")
    assert searched.returncode == 0 and "能源" in searched.stdout


def test_env_example_lists_every_variable() -> None:
    """`.env.example` documents every setting's variable, so a new key cannot go unmentioned."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    sections = (CorpusSettings, DiscordSettings, SlackSettings, DailySettings, StorageSettings)
    expected = {f"{cls.model_config['env_prefix']}{name}".upper() for cls in sections for name in cls.model_fields}
    assert expected - listed == set()
    assert "QUOTEBOT_CONFIG" in listed


def test_env_example_as_shipped_passes(tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sourcing `.env.example` unchanged (`set -a; . ./.env`) gives a config that passes: the console chat."""
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            monkeypatch.setenv(key, value.split(" #")[0].strip().strip("'\""))
    status, text = check(write_config(tmp_path, cache_dir))
    assert status == 0 and "console chat" in text, text


def test_stats_and_check_read_the_same_variables(
    tmp_path: Path, cache_dir: Path, corpus_copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With only the documented variables set, `stats` and `check` see the same corpus."""
    seeds, config = corpus_copy
    (seeds / "002_new.txt").write_text("新访谈\n\n奥特曼:我们会继续研究核聚变和太空能源。\n", encoding="utf-8")
    monkeypatch.setenv("QUOTEBOT_CORPUS_SEEDS_DIR", str(seeds))
    monkeypatch.setenv("QUOTEBOT_CORPUS_CONFIG_DIR", str(config))
    monkeypatch.setenv("QUOTEBOT_CORPUS_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("QUOTEBOT_STORAGE_URL", f"sqlite:///{tmp_path / 'q.sqlite3'}")
    monkeypatch.setenv("QUOTEBOT_CONFIG", str(tmp_path / "none.toml"))
    stats = io.StringIO()
    assert cli_run(build_parser(), ["stats", "--json"], stats) == 0
    status, text = check(None)  # type: ignore[arg-type]
    assert len(json.loads(stats.getvalue())["documents"]) == 3
    assert status == 0, text
    assert f"corpus {seeds}: 3 documents" in text


def test_nothing_reads_the_environment_at_import(tmp_path: Path) -> None:
    """A broken variable cannot break an import: settings are read when a command builds them."""
    env = {**os.environ, "DISCORD_COOLDOWN_SECONDS": "soon", "QUOTEBOT_DAILY_TARGETS": "not json"}
    modules = [
        "bots.app", "bots.check", "bots.cli", "bots.commands", "bots.console", "bots.discord", "bots.runtime",
        "bots.scheduler", "bots.settings", "bots.slack", "bots.wording", "quotecore",
    ]  # fmt: skip
    code = "import importlib, sys\nfor name in sys.argv[1:]: importlib.import_module(name)"
    ran = subprocess.run([sys.executable, "-c", code, *modules], env=env, capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
