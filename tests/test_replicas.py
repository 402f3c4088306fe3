"""Reload everywhere (issue 18): processes sharing one database follow the corpus generation.

Each "process" here is a QuoteService over its own copy of the corpus plus a ReplicaSync, all in
one test loop and on one SQLite file (the poll path); tests/test_replicas_processes.py runs real
processes on PostgreSQL (LISTEN/NOTIFY).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.commands import Caller, Commands, Notice, QuoteRequest, Results
from bots.generation import GenerationStore
from bots.replicas import ReplicaSync
from bots.settings import ReplicaSettings
from quotecore.service import QuoteService
from tests.conftest import CONFIG

#: A small corpus of its own: each process copy is segmented from scratch (the token cache is per folder).
SEED_TEXT = (
    "能源访谈\n\n"
    "奥特曼：能源是人工智能最大的瓶颈，我们需要更便宜的能源。\n\n"
    "奥特曼：算力和能源最终会趋于同一个东西。\n\n"
    "奥特曼：我认为开源模型会继续进步。\n"
)
NEW_TEXT = "火星档案\n\n奥特曼：我们会在火星上建一个数据中心，它的名字叫星河一号。\n"
FAST = ReplicaSettings(poll_seconds=0.1, heartbeat_seconds=0.5, report_wait_seconds=5.0)


def admin(key: str = "admin") -> Caller:
    async def yes() -> bool:
        return True

    return Caller(key, yes)


def user(key: str) -> Caller:
    async def no() -> bool:
        return False

    return Caller(key, no)


class Process:
    """One replica: its own corpus copy, its own service, the shared database."""

    def __init__(self, root: Path, name: str, url: str, cache_dir: Path, settings: ReplicaSettings = FAST) -> None:
        self.seeds = root / name / "seeds"
        self.seeds.mkdir(parents=True)
        (self.seeds / "001_energy.txt").write_text(SEED_TEXT, encoding="utf-8")
        self.service = QuoteService(self.seeds, CONFIG, cache_dir)
        self.sync = ReplicaSync(self.service, GenerationStore(url), settings, name=name)

    async def start(self) -> ReplicaSync:
        await asyncio.to_thread(self.service.load)
        await self.sync.start()
        return self.sync

    def commands(self, cooldown: float = 0.0) -> Commands:
        return Commands(
            self.service,
            "slack",
            replicas=self.sync,
            memo=self.sync.memo,
            cooldown_seconds=cooldown,
            shared_turn=self.sync.take_turn,
        )

    def finds_new_text(self) -> bool:
        return any("星河一号" in q.passage.text for q in self.service.search("火星 数据中心 星河").quotes)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shared.sqlite3'}"


async def started(root: Path, url: str, cache_dir: Path, *names: str) -> list[Process]:
    processes = [Process(root, name, url, cache_dir) for name in names]
    for process in processes:
        await process.start()
    return processes


@pytest.fixture
async def three(tmp_path: Path, url: str, cache_dir: Path) -> AsyncIterator[list[Process]]:
    processes = await started(tmp_path, url, cache_dir, "a", "b", "c")
    yield processes
    for process in processes:
        await process.sync.stop()


@pytest.fixture
async def two(tmp_path: Path, url: str, cache_dir: Path) -> AsyncIterator[list[Process]]:
    processes = await started(tmp_path, url, cache_dir, "a", "b")
    yield processes
    for process in processes:
        await process.sync.stop()


async def test_a_reload_on_one_process_is_served_by_all(three: list[Process]) -> None:
    a, b, c = three
    assert {p.sync.generation for p in three} == {1}
    for process in three:
        (process.seeds / "002_mars.txt").write_text(NEW_TEXT, encoding="utf-8")
    assert not b.finds_new_text()
    reply = await a.commands().reload(admin())
    assert reply.kind == "done"
    assert "Generation 2 is served by 3 of 3 processes." in reply.text
    assert "Other corpus files" not in reply.text
    assert b.finds_new_text() and c.finds_new_text()
    assert b.sync.generation == c.sync.generation == 2
    # A process that stopped is not waited for; the next reload comes from another process.
    await c.sync.stop()
    again = await b.commands().reload(admin())
    assert "Generation 3 is served by 2 of 2 processes." in again.text
    assert a.sync.generation == 3


async def test_failures_and_other_files_are_named(two: list[Process]) -> None:
    a, b = two
    (a.seeds / "002_mars.txt").write_text(NEW_TEXT, encoding="utf-8")
    (b.seeds / "002_broken.txt").write_bytes(b"\xff\xfe\n")
    reply = await a.commands().reload(admin())
    assert "Generation 2 is served by 1 of 2 processes." in reply.text
    assert "Failed on b: " in reply.text and "002_broken.txt" in reply.text
    assert not b.finds_new_text() and b.sync.generation == 1 and b.service.loaded
    reloads = []
    real_reload = b.service.reload
    b.service.reload = lambda: reloads.append(1) or real_reload()  # type: ignore[method-assign]
    await asyncio.sleep(0.5)  # five polls: a generation that failed here is not tried again and again
    assert reloads == []
    # b's files fixed, but without the new document: it serves generation 3 with other content.
    (b.seeds / "002_broken.txt").unlink()
    reply = await a.commands().reload(admin())
    assert "Generation 3 is served by 2 of 2 processes." in reply.text
    assert "Other corpus files on b" in reply.text
    assert not b.finds_new_text()


async def test_cooldowns_are_shared_and_admins_are_exempt(two: list[Process]) -> None:
    a, b = two
    first = await a.commands(cooldown=30).quote(user("U1"), QuoteRequest("能源"))
    assert isinstance(first, Results)
    elsewhere = await b.commands(cooldown=30).quote(user("U1"), QuoteRequest("能源"))
    assert isinstance(elsewhere, Notice) and elsewhere.kind == "cooldown"
    other_user = await b.commands(cooldown=30).quote(user("U2"), QuoteRequest("能源"))
    assert isinstance(other_user, Results)
    boss = await b.commands(cooldown=30).quote(admin("U1"), QuoteRequest("能源"))
    assert isinstance(boss, Results)


async def test_a_late_process_joins_and_a_hung_one_is_named(tmp_path: Path, url: str, cache_dir: Path) -> None:
    quick = ReplicaSettings(poll_seconds=0.1, heartbeat_seconds=0.5, report_wait_seconds=0.5)
    a = Process(tmp_path, "a", url, cache_dir, quick)
    await a.start()
    late = Process(tmp_path, "late", url, cache_dir, quick)
    try:
        await a.commands().reload(admin())
        await a.commands().reload(admin())
        await late.start()
        assert late.sync.generation == 3
        for task in late.sync._tasks:  # it hangs: alive a moment ago, but no longer following
            task.cancel()
        reply = await a.commands().reload(admin())
        assert "Generation 4 is served by 1 of 2 processes." in reply.text
        assert "No answer yet from late" in reply.text
    finally:
        await a.sync.stop()
        await late.sync.stop()


async def test_cooldowns_fall_back_to_the_process_when_the_database_is_gone(tmp_path: Path, cache_dir: Path) -> None:
    process = Process(tmp_path, "a", f"sqlite:///{tmp_path / 'nowhere' / 'x.sqlite3'}", cache_dir)
    (tmp_path / "nowhere").rmdir()
    (tmp_path / "nowhere").write_text("a file where the database's directory should be")
    await asyncio.to_thread(process.service.load)
    commands = process.commands(cooldown=30)
    first = await commands.quote(user("U1"), QuoteRequest("能源"))
    again = await commands.quote(user("U1"), QuoteRequest("能源"))
    assert isinstance(first, Results)
    assert isinstance(again, Notice) and again.kind == "cooldown"
    assert process.sync.problem is not None


async def test_check_lists_the_generation_and_the_running_processes(two: list[Process], url: str) -> None:
    import io

    from bots.check import Report, check_replicas
    from bots.settings import Settings, StorageSettings

    a, _ = two
    await a.commands().reload(admin())
    report = Report()
    settings = Settings(storage=StorageSettings(url=url), replicas=ReplicaSettings(sync="on"))
    await asyncio.to_thread(check_replicas, settings, report)
    assert report.ok == ["replicas: generation 2; running now: a (generation 2), b (generation 2)"]
    out = io.StringIO()
    report.write(out)
    assert "replicas: generation 2" in out.getvalue()
