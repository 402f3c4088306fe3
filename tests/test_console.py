"""The console chat: `quotebot run` with no token, driven line by line like a script would."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from bots.app import main
from bots.commands import Commands
from bots.console import ConsoleChat
from bots.scheduler import DailyScheduler, Store
from bots.settings import CorpusSettings, DailySettings, Settings, StorageSettings, Target
from quotecore.service import QuoteService

ROOT = Path(__file__).resolve().parent.parent


def settings_for(tmp_path: Path, cache_dir: Path, **daily: object) -> Settings:
    return Settings(
        corpus=CorpusSettings(seeds_dir=ROOT / "seeds", config_dir=ROOT / "config", cache_dir=cache_dir),
        storage=StorageSettings(url=f"sqlite:///{tmp_path / 'quotebot.sqlite3'}"),
        daily=DailySettings(**daily),  # type: ignore[arg-type]
    )


async def chat(settings: Settings, service: QuoteService, script: str) -> tuple[int, str]:
    out = io.StringIO()
    status = await main(settings, service, stdin=io.StringIO(script), out=out)
    return status, out.getvalue()


async def test_console_session_answers_like_the_chat_bots(
    tmp_path: Path, cache_dir: Path, service: QuoteService
) -> None:
    script = "\n".join(
        [
            "/quote 计算资源",
            "/more",
            "計算資源 speaker:Lightcap",
            "/quote 天气预报",
            "/quote",
            "/context b003470dca",
            "/quote " + "长" * 600,
            "/quote 能源 colour:red",
            "/quote-daily 25:00 UTC",
            "/quote-daily 09:00 Asia/Shanghai",
            "/nope",
            "/help",
            "/quit",
            "/quote 这行不会被读到",
        ]
    )
    status, text = await chat(settings_for(tmp_path, cache_dir), service, script)
    assert status == 0
    lines = text.splitlines()
    assert lines[0].startswith("No chat token set") and "DISCORD_TOKEN" in lines[0] and "SLACK_BOT_TOKEN" in lines[0]
    assert "【计算资源】" in text and "山姆·奥特曼 (Sam Altman)" in text and "1 of 3 (/more for the next)" in text
    assert "2 of 3" in text
    assert "No quote matches “天气预报”" in text
    assert "query too long" in text and "unknown option" in text
    assert "not a time of day" in text and "every day at 09:00 Asia/Shanghai" in text
    assert "Unknown command /nope" in text and "/quote-reload" in text
    assert "这行不会被读到" not in text and lines[-1] == "Bye."


async def test_reload_from_the_console_keeps_a_working_corpus(
    tmp_path: Path, cache_dir: Path, corpus_copy: tuple[Path, Path]
) -> None:
    seeds, config = corpus_copy
    settings = settings_for(tmp_path, cache_dir)
    settings = settings.model_copy(
        update={"corpus": CorpusSettings(seeds_dir=seeds, config_dir=config, cache_dir=cache_dir)}
    )
    own = QuoteService(seeds, config, cache_dir)
    (seeds / "002_broken.txt").write_bytes(b"\xff\xfe\n")
    status, text = await chat(settings, own, "")
    assert status == 1 and "002_broken.txt" in text, "a corpus that never loaded stops `run` with the reason"
    (seeds / "002_broken.txt").unlink()
    own.load()
    (seeds / "002_broken.txt").write_bytes(b"\xff\xfe\n")
    status, text = await chat(settings, own, "/quote-reload\n/quote 能源\n")
    assert "Reload failed" in text and "002_broken.txt" in text and "【能源】" in text


async def test_the_daily_excerpt_is_printed_at_its_time(tmp_path: Path, cache_dir: Path, service: QuoteService) -> None:
    daily = DailySettings(targets=[Target(platform="console", channel="console", time=dt.time(9), timezone="UTC")])
    now = [dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)]
    sched = DailyScheduler(service, daily, Store(f"sqlite:///{tmp_path / 'd.sqlite3'}"), clock=lambda: now[0])
    out = io.StringIO()
    console = ConsoleChat(Commands(service, "console", daily=sched), out)
    sched.register_poster("console", console.post)
    await sched.start()
    await sched.tick()
    assert "今日语录" not in out.getvalue()
    now[0] = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    await sched.tick()
    await sched.shutdown()
    expected = service.daily(dt.date(2026, 11, 24))
    assert expected is not None and "今日语录 · 2026-11-24" in out.getvalue() and expected.id in out.getvalue()


def test_quotebot_run_through_a_pipe(tmp_path: Path, cache_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "QUOTEBOT_"))}
    env.update(QUOTEBOT_CORPUS_CACHE_DIR=str(cache_dir), QUOTEBOT_STORAGE_URL=f"sqlite:///{tmp_path / 'q.sqlite3'}")
    result = subprocess.run(
        [sys.executable, "-m", "bots.cli", "run"],
        input=b"\xff\xfe stray bytes\n" + "/quote 能源\n".encode(),  # a bad byte must not end the chat
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    stdout = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "【能源】" in stdout and stdout.rstrip().endswith("Bye.")


async def test_highlights_are_bold_on_a_terminal(tmp_path: Path, cache_dir: Path, service: QuoteService) -> None:
    out = io.StringIO()
    chat = ConsoleChat(Commands(service, "console"), out, color=True)
    await chat.handle("/quote 计算资源")
    assert "\x1b[1m计算资源\x1b[0m" in out.getvalue() and "【" not in out.getvalue()


async def test_a_terminal_in_taiwan_reads_traditional_characters(service: QuoteService) -> None:
    out = io.StringIO()
    chat = ConsoleChat(Commands(service, "console"), out, locale="zh_TW.UTF-8")
    await chat.handle("/quote 計算資源")
    assert "【計算資源】" in out.getvalue() and "奧特曼" in out.getvalue() and "计算" not in out.getvalue()


@pytest.mark.parametrize("line", ["@everyone \x00\x1b[31m 能源", "\u202e能源"])
async def test_hostile_console_input_is_harmless(
    line: str, tmp_path: Path, cache_dir: Path, service: QuoteService
) -> None:
    status, text = await chat(settings_for(tmp_path, cache_dir), service, line + "\n")
    assert status == 0 and "【能源】" in text and "\x1b[31m" not in text
    await asyncio.sleep(0)


async def test_the_readme_transcript_is_what_the_console_prints(
    tmp_path: Path, cache_dir: Path, service: QuoteService
) -> None:
    """The README shows a real session: replay its input and compare every line."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```\n\$ (printf .*?) \| quotebot run\n(.*?)```", readme, flags=re.DOTALL)
    assert block, "the README's console transcript block"
    script = shlex.split(block.group(1))[1].replace("\\n", "\n")
    status, text = await chat(settings_for(tmp_path, cache_dir), service, script)
    next_post = re.compile(r"Next post: \d{4}-\d{2}-\d{2}")  # depends on today's date
    assert status == 0
    assert next_post.sub("Next post: …", text) == next_post.sub("Next post: …", block.group(2))
