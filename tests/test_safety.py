"""Limits and safety (issue 17): one named test per fault an outside test found.

Nothing outside the corpus folder is read, every query is made valid text at the core's door,
everything echoed is cleaned and bounded, broken files and caches are reported (never a
traceback, never trusted), and corpus files have size limits.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bots.commands import Commands, QuoteRequest, local_admin
from bots.slack import render as slack_render
from quotecore.cache import IndexCache
from quotecore.cli import build_parser, run
from quotecore.errors import CorpusError, UnknownSpeakerError
from quotecore.service import QuoteService

ROOT = Path(__file__).resolve().parent.parent
BIDI = "\u202e"


@pytest.fixture
def loaded(corpus_copy, tmp_path):
    seeds, config = corpus_copy
    svc = QuoteService(seeds, config, tmp_path / "cache")
    svc.load()
    return svc, seeds, config


def _cli(seeds: Path, *argv: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-m", "bots.cli", "--seeds", str(seeds), *argv],
        input=stdin,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )
    return result.returncode, result.stdout.decode() + result.stderr.decode()


def test_1_a_symlink_in_the_corpus_folder_is_never_followed(loaded, tmp_path: Path) -> None:
    svc, seeds, _ = loaded
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n机密文件的内容\n", encoding="utf-8")
    (seeds / "p.txt").symlink_to(secret)
    svc.reload()
    assert svc.search("机密文件").quotes == () and svc.search("root").quotes == ()
    assert [(s.name, "symbolic link" in s.reason) for s in svc.snapshot.skipped] == [("p.txt", True)]
    out = io.StringIO()
    run(build_parser(), ["--seeds", str(seeds), "stats"], out)
    assert "Skipped in the corpus folder (not read): 1" in out.getvalue() and "p.txt" in out.getvalue()


def test_2_invalid_utf8_and_lone_surrogates_never_crash(service: QuoteService) -> None:
    assert service.search("GPU\ud800").quotes  # the surrogate goes, the word stays
    code, out = _cli(ROOT / "seeds", "search", "--json", "-", stdin=b"GPU\n\xff\nGPU\n")
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert code == 0 and len(lines) == 3 and lines[0]["results"] and lines[2]["results"]
    code, out = _cli(ROOT / "seeds", "search", os.fsdecode(b"\xff"))
    assert code == 2 and "Traceback" not in out and "empty query" in out


def test_3_echoes_carry_no_control_or_bidi_character(service: QuoteService) -> None:
    assert service.search("能源", speaker="奥特曼" + BIDI + "\u061c").quotes  # invisible characters go
    with pytest.raises(UnknownSpeakerError) as info:
        service.search("能源", speaker="马斯克" + BIDI + "\u061c")
    assert BIDI not in str(info.value) and "\u061c" not in str(info.value) and "马斯克" in str(info.value)
    code, out = _cli(ROOT / "seeds", "search", "--json", "-", stdin=("x" * 600 + BIDI + "\n").encode())
    error = json.loads(out.splitlines()[0])
    assert code == 0 and "error" in error and BIDI not in error["query"] and len(error["query"]) <= 120


def test_4_every_free_text_field_is_capped(service: QuoteService) -> None:
    started = time.perf_counter()
    with pytest.raises(UnknownSpeakerError) as info:
        service.search("能源", speaker="奥" * 1_000_000)
    assert time.perf_counter() - started < 1.0 and len(str(info.value)) < 400
    reply = Commands(service, "slack")
    import asyncio

    notice = asyncio.run(reply.quote(local_admin(), QuoteRequest("能源", "&" * 3000)))
    body = slack_render.message(notice)
    sizes = [len(b["text"]["text"]) for b in body.get("blocks", []) if b.get("type") == "section"]
    assert all(size <= 3000 for size in sizes) and len(body.get("text") or "") <= 3000


def test_5_broken_files_are_corpus_errors_naming_the_file(loaded, monkeypatch: pytest.MonkeyPatch) -> None:
    svc, seeds, config = loaded
    before = svc.snapshot
    victim = sorted(seeds.glob("*.txt"))[0]
    real_open = Path.open

    def vanishing(self: Path, *args: object, **kwargs: object) -> object:
        if self.name == victim.name:
            raise FileNotFoundError(2, "No such file or directory")
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", vanishing)
    with pytest.raises(CorpusError) as info:
        svc.reload()
    assert victim.name in str(info.value) and "disappeared" in str(info.value)
    monkeypatch.undo()
    assert svc.snapshot is before

    (seeds / "sources.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"nested too deeply|invalid TOML"):
        svc.reload()
    (seeds / "sources.toml").unlink()

    odd = seeds / f"bad\nname{BIDI}.txt"
    odd.write_bytes(b"\xff\xfe")
    with pytest.raises(CorpusError) as info:
        svc.reload()
    assert "\n" not in str(info.value) and BIDI not in str(info.value) and "\\u202e" in str(info.value)
    odd.unlink()

    (config / "stopwords.txt").write_bytes(b"\xff\xfe\n")
    with pytest.raises(CorpusError, match=r"stopwords\.txt.*UTF-8"):
        svc.reload()
    (config / "stopwords.txt").unlink()
    (config / "stopwords.txt").mkdir()
    with pytest.raises(CorpusError, match=r"stopwords\.txt"):
        svc.reload()
    assert svc.snapshot is before and svc.search("能源").quotes


def test_5_broken_settings_are_one_line_in_check(tmp_path: Path) -> None:
    deep = "[" * 3000 + "]" * 3000
    settings = tmp_path / "quotebot.toml"
    settings.write_text("[corpus]\nx = " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    for env in ({"DISCORD_GUILD_IDS": deep}, {"QUOTEBOT_CONFIG": str(settings)}):
        code, out = _cli(ROOT / "seeds", "check", env=env)
        assert code != 0 and "Traceback" not in out and "nested too deeply" in out


def test_6_an_empty_or_missing_corpus_folder_is_no_match(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for seeds in (tmp_path / "empty", tmp_path / "missing"):
        code, out = _cli(seeds, "search", "能源")
        assert code == 0 and "No quote matches" in out and "Traceback" not in out


def test_7_a_damaged_index_cache_is_rebuilt_with_a_warning(
    loaded, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, seeds, config = loaded
    files = list((tmp_path / "cache" / "index").rglob("index-*.npz"))
    assert len(files) == 1
    cache = IndexCache(files[0].parent)
    key = files[0].stem.split("-", 2)[2]
    arrays = cache.load(key)
    assert arrays is not None
    # Wrong values written into the saved posting arrays, as a damaged disk would leave them.
    raw = files[0].read_bytes()
    start = raw.find(np.asarray(arrays["words"]["docs"]).tobytes()[:64])
    del arrays
    assert start > 0
    damaged = bytearray(raw)
    damaged[start : start + 8] = b"\xff" * 8
    files[0].write_bytes(bytes(damaged))
    assert cache.load(key) is None
    fresh = QuoteService(seeds, config, tmp_path / "cache")
    fresh.load()
    assert fresh.search("能源").quotes
    assert any("ignoring the cached index" in r.message for r in caplog.records)


def test_8_corpus_files_have_size_limits(loaded) -> None:
    svc, seeds, config = loaded
    big = seeds / "big.txt"
    big.write_text("奥特曼:能源很重要。\n" * 20_000, encoding="utf-8")  # about 0.5 MiB
    small = QuoteService(seeds, config, svc.cache_dir, max_file_bytes=100_000)
    with pytest.raises(CorpusError, match=r"big\.txt.*MiB a seed file may be"):
        small.load()
    tight = QuoteService(seeds, config, svc.cache_dir, max_corpus_bytes=200_000)
    with pytest.raises(CorpusError, match="the corpus passes"):
        tight.load()
    code, out = _cli(seeds, "search", "能源", env={"QUOTEBOT_CORPUS_MAX_FILE_MB": "0.1"})
    assert code != 0 and "big.txt" in out and "Traceback" not in out


def test_10_slack_text_never_carries_a_special_mention() -> None:
    for text in ("@channel 开会", "@here", "请 @everyone 注意", "@Channel"):
        escaped = slack_render.escape(text)
        assert "@channel" not in escaped.lower() and "@here" not in escaped and "@everyone" not in escaped
