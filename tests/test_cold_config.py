"""Config files read without pydantic give what pydantic gives: the same values, the same errors.

`quotecore.config` accepts plain well-typed data itself and sends everything else to the pydantic
schemas; each case here is loaded both ways (the second with the plain check switched off) and
must come out the same, accepted or refused with the same message.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from quotecore import config
from quotecore.errors import CorpusError

ROOT = Path(__file__).resolve().parent.parent

SPEAKERS = [
    (ROOT / "config" / "speakers.toml").read_text(encoding="utf-8"),
    (ROOT / "tests" / "articles" / "speakers.toml").read_text(encoding="utf-8"),
    "",
    '[[speaker]]\nid = "x"\nname = "某人"\n',
    '[[speaker]]\nid = "x"\nname = "某人"\nname_en = "Someone"\naliases = ["某", "S"]\nrole = "CEO"\n',
    '[[speaker]]\nid = "x"\n',  # no name
    '[[speaker]]\nid = "X"\nname = "a"\n',  # upper case id
    '[[speaker]]\nid = "x\\n"\nname = "a"\n',  # a newline after the id: Rust's $ does not allow it
    '[[speaker]]\nid = "x"\nname = ""\n',
    '[[speaker]]\nid = "x"\nname = 5\n',
    '[[speaker]]\nid = "x"\nname = "a"\naliases = "b"\n',
    '[[speaker]]\nid = "x"\nname = "a"\naliases = ["b", 3]\n',
    '[[speaker]]\nid = "x"\nname = "a"\nnickname = "b"\n',
    '[[speaker]]\nid = "x"\nname = "a"\n[[speaker]]\nid = "x"\nname = "b"\n',
    '[[speaker]]\nid = ["x"]\nname = "a"\n',  # a list where a string belongs (and cannot be hashed)
    'speaker = "x"\n',
    "speakers = []\n",
]
SOURCES = [
    (ROOT / "seeds" / "sources.toml").read_text(encoding="utf-8"),
    '[[document]]\nfile = "a.txt"\nid = "a"\ntitle = "T"\n',
    '[[document]]\nfile = "a.txt"\nid = "a"\ntitle = "T"\ndate = "2024-05"\nscript = "traditional"\n'
    'interviewees = ["x"]\ninterviewers = []\nurl = "https://e.org"\noutlet = "O"\ninterviewer = "I"\n',
    '[[document]]\nfile = "a.txt"\nid = "a"\ntitle = "T"\ndate = "2024-5"\n',
    '[[document]]\nfile = "a.txt"\nid = "a"\ntitle = "T"\ndate = "２０２４"\n',  # full-width digits
    '[[document]]\nfile = "a.txt"\nid = "a"\ntitle = "T"\ndate = 2024-05-01\n',  # a TOML date, not a string
    '[[document]]\nfile = "a.txt"\nid = "a"\ntitle = "T"\nscript = "cursive"\n',
    '[[document]]\nfile = "a.txt"\nid = "-a"\ntitle = "T"\n',
    '[[document]]\nfile = ""\nid = "a"\ntitle = "T"\n',
    '[[document]]\nfile = "a.txt"\nid = "a"\n',
    '[[document]]\nfile = "a.txt"\nid = "a"\ntitle = "T"\n[[document]]\nfile = "a.txt"\nid = "b"\ntitle = "U"\n',
]
SYNONYMS = [
    (ROOT / "config" / "synonyms.toml").read_text(encoding="utf-8"),
    '[[group]]\nwords = ["a", "b"]\n',
    '[[group]]\nwords = ["a"]\n',
    '[[group]]\nwords = ["a", 1]\n',
    "[[group]]\n",
    '[[group]]\nwords = ["a", "b"]\nweight = 2\n',
    "group = 3\n",
]


def _both(monkeypatch: pytest.MonkeyPatch, load, path: Path) -> tuple[object, object]:
    def outcome() -> object:
        try:
            return load(path)
        except CorpusError as exc:
            return ("error", str(exc))

    plain = outcome()
    with monkeypatch.context() as m:
        m.setattr(config, "_PLAIN", dict.fromkeys(config._PLAIN, lambda data: False))
        schema = outcome()
    return plain, schema


@pytest.mark.parametrize(
    ("load", "text"),
    [(config.load_speakers, t) for t in SPEAKERS]
    + [(config.load_sources, t) for t in SOURCES]
    + [(config.load_synonyms, t) for t in SYNONYMS],
)
def test_the_plain_reading_agrees_with_pydantic(monkeypatch, tmp_path: Path, load, text: str) -> None:
    path = tmp_path / "file.toml"
    path.write_text(text, encoding="utf-8")
    plain, schema = _both(monkeypatch, load, path)
    assert plain == schema


def test_the_bundled_files_never_need_pydantic(monkeypatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("the plain check refused a bundled file")

    import quotecore.config_schema

    monkeypatch.setattr(quotecore.config_schema, "validated", refuse)
    loaded = config.CoreConfig.load(ROOT / "config")
    assert {s.id for s in loaded.speakers} >= {"altman", "lightcap"}
    assert len(config.load_sources(ROOT / "seeds" / "sources.toml")) == 2
