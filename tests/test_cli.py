"""The CLI contract from the design doc: JSON shapes, batch mode, exit codes, one-line errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from bots.cli import build_parser
from quotecore.cli import run
from tests.conftest import CONFIG, SEEDS

RESULT_KEYS = {"id", "text", "passage", "speaker", "kind", "attribution", "topic", "source", "score"}


@pytest.fixture
def cli(cache_dir, monkeypatch):
    monkeypatch.setenv("QUOTEBOT_CACHE_DIR", str(cache_dir))

    def call(*argv: str, stdin: str | bytes | None = None) -> tuple[int, str]:
        if stdin is not None:
            raw = stdin if isinstance(stdin, bytes) else stdin.encode()
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
        out = io.StringIO()
        code = run(build_parser(), ["--seeds", str(SEEDS), "--config-dir", str(CONFIG), *argv], out)
        return code, out.getvalue()

    return call


def test_search_json_shape(cli) -> None:
    code, out = cli("search", "计算资源", "--json")
    data = json.loads(out)
    assert code == 0 and data["query"] == "计算资源" and data["results"]
    for result in data["results"]:
        assert set(result) == RESULT_KEYS
        assert set(result["source"]) == {"id", "title", "outlet", "date"}
        assert result["speaker"] is None or set(result["speaker"]) == {"id", "name", "name_en"}
        assert isinstance(result["score"], float) and result["text"] and result["passage"]
    assert data["results"][0]["speaker"] == {"id": "altman", "name": "山姆·奥特曼", "name_en": "Sam Altman"}


def test_human_output_has_quote_and_attribution(cli) -> None:
    code, out = cli("search", "能源 瓶颈", "--limit", "1")
    assert code == 0
    assert "能源是AI最大的瓶颈之一" in out
    assert "山姆·奥特曼 (Sam Altman)" in out and "《OpenAI奥特曼认错:我天生不适合管理公司》" in out


def test_no_match_is_empty_and_status_zero(cli) -> None:
    code, out = cli("search", "天气预报", "--json")
    assert code == 0 and json.loads(out) == {"query": "天气预报", "results": []}


def test_batch_mode_one_line_per_query(cli) -> None:
    code, out = cli("search", "--json", "-", stdin="能源\n天气预报\n\nGPT-5\n")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [line["query"] for line in lines] == ["能源", "天气预报", "", "GPT-5"]
    assert lines[0]["results"] and lines[1]["results"] == [] and "error" in lines[2]


def test_batch_mode_answers_every_line_of_any_bytes(cli) -> None:
    code, out = cli("search", "--json", "-", stdin=b"GPU\n\xff\n\xed\xa0\x80\nGPU\n")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 4
    assert lines[0]["results"] and lines[3]["results"]
    assert lines[1]["results"] == [] and lines[2]["results"] == []


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("search", ""), "empty query"),
        (("search", "x" * 501), "too long"),
        (("search", "能源", "--speaker", "马斯克"), "unknown speaker"),
        (("search", "能源", "--limit", "0"), "between 1 and 50"),
        (("search",), "required"),
        (("daily", "--date", "2026-13-01"), "not a date"),
        (("nonsense",), "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_line(cli, capsys, argv, fragment) -> None:
    code, out = cli(*argv)
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and fragment in err


def test_unknown_speaker_lists_known_ones(cli, capsys) -> None:
    cli("search", "能源", "--speaker", "nobody")
    assert "Sam Altman" in capsys.readouterr().err


def test_passages_show_random_daily(cli) -> None:
    code, out = cli("passages", "--json")
    passages = json.loads(out)["passages"]
    assert code == 0 and len(passages) > 50 and all(set(p) == RESULT_KEYS - {"score"} for p in passages)
    code, out = cli("show", passages[5]["id"], "--json")
    assert code == 0 and json.loads(out)["passage"] == passages[5]["passage"]
    code, _ = cli("show", "nope")
    assert code == 1
    code, out = cli("random", "--json", "--speaker", "Lightcap")
    assert code == 0 and json.loads(out)["speaker"]["id"] == "lightcap"
    first = cli("daily", "--date", "2026-11-24", "--json")[1]
    assert first == cli("daily", "--date", "2026-11-24", "--json")[1]
    assert json.loads(first)["result"]["kind"] in ("answer", "reported")


def test_stats_lists_drops(cli) -> None:
    code, out = cli("stats")
    assert code == 0 and "Documents: 2" in out and "garbled" in out and "copyright" in out
    data = json.loads(cli("stats", "--json")[1])
    assert any(d["reason"].startswith("garbled") and d["line"] for d in data["dropped"])


def test_corpus_error_exits_1(cli, capsys, tmp_path) -> None:
    (tmp_path / "bad.txt").write_bytes(b"ok\n\xff\n")
    code = run(build_parser(), ["--seeds", str(tmp_path), "--config-dir", str(CONFIG), "search", "x"], io.StringIO())
    assert code == 1 and "bad.txt:2" in capsys.readouterr().err


def test_installed_console_script(cache_dir, tmp_path) -> None:
    """The real `quotebot` executable, from another directory: packaging and the bundled corpus."""
    exe = os.path.join(os.path.dirname(sys.executable), "quotebot")
    env = {**os.environ, "QUOTEBOT_CACHE_DIR": str(cache_dir)}
    proc = subprocess.run(
        [exe, "search", "能源", "--json"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["results"]
    assert proc.stderr == ""
