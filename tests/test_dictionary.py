"""jieba over the compact, on-demand dictionary cuts every text exactly as jieba over its own.

The reference is a plain jieba.Tokenizer (its whole dictionary loaded by `initialize`) with the
same user dictionary added in the same order; ours is a jieba.Tokenizer whose FREQ is a
`PrefixDictionary`. The texts are everything the tests know: every passage of the bundled corpus,
every line of the seeds and of the third article, every cell of every TSV under tests/ (queries
included).
"""

from __future__ import annotations

import pickle
import re
import shutil
import threading
import warnings
from pathlib import Path

import pytest

from quotecore import dictionary
from quotecore.config import DictEntry, load_userdict
from quotecore.text import search_form
from quotecore.tokenize import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
_CHINESE_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
#: Words a user dictionary might add without a frequency (jieba then suggests one) or with 0
#: (jieba then always splits them): the two paths of `add_word` the bundled config does not use.
_EXTRA = (("计算资源池", None), ("资源池", 0), ("深度求索", None), ("莱特卡普说", 5))


def _user_words() -> list[tuple[str, int | None]]:
    """The bundled user dictionary as the tokenizer hands it to the segmenter."""
    words = []
    for entry in load_userdict(ROOT / "config" / "userdict.txt"):
        word = search_form(entry.word)
        if _CHINESE_WORD.fullmatch(word):
            words.append((word, entry.freq))
    return [*words, *_EXTRA]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory):
    """(ours, jieba's) with the same words added in the same order."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba
    jieba.setLogLevel(60)
    reference = jieba.Tokenizer()
    reference.tmp_dir = str(tmp_path_factory.mktemp("jieba"))
    reference.initialize()
    ours = dictionary.segmenter(dictionary.load(tmp_path_factory.mktemp("compact")))
    for word, freq in _user_words():
        reference.add_word(word, freq)
        ours.add_word(word, freq)
    return ours, reference


def _texts(service) -> list[str]:
    texts = [p.text for p in service.snapshot.passages]
    for path in [*sorted((ROOT / "seeds").glob("*.txt")), *sorted((ROOT / "tests" / "articles").glob("*.txt"))]:
        texts += path.read_text(encoding="utf-8").splitlines()
    for path in [*sorted((ROOT / "tests").glob("*.tsv")), *sorted((ROOT / "tests" / "articles").glob("*.tsv"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            texts += line.split("\t")
    # The added words, characters outside jieba's Han range, and Latin, digits and spaces in a row.
    texts += ["计算资源池很大", "资源池", "深度求索的模型", "莱特卡普说过", "㐀㐁乾隆鿿龥"]
    texts += ["GPT-5 和 gpt-5 ，scaling law 100%"]
    return [t for t in dict.fromkeys(texts) if t]


def test_every_known_text_is_cut_exactly_as_jieba_cuts_it(pair, service) -> None:
    ours, reference = pair
    texts = _texts(service)
    assert len(texts) > 700  # distinct texts; each is cut as written and in its search form
    different = []
    for text in texts:
        for form in (search_form(text), text):  # the search form is what we cut; raw text is harder
            if list(ours.cut(form)) != list(reference.cut(form, HMM=True)):
                different.append(form)
            if list(ours.cut(form, HMM=False)) != list(reference.cut(form, HMM=False)):
                different.append(form)
    assert different == []


def test_the_dictionary_holds_jieba_frequencies_for_every_word_part(pair, service) -> None:
    """`Tokenizer._parts` asks the dictionary about every 2- and 3-character piece of a word."""
    ours, reference = pair
    assert ours.total == reference.total
    pieces = {
        word[i : i + n]
        for text in _texts(service)
        for word in reference.cut(search_form(text))
        for n in (2, 3)
        for i in range(len(word) - n + 1)
    }
    assert len(pieces) > 1000
    assert [p for p in pieces if ours.FREQ.get(p) != reference.FREQ.get(p)] == []


def test_a_word_added_with_frequency_zero_is_always_split(pair) -> None:
    ours, _ = pair
    assert "资源池" not in list(ours.cut("资源池"))
    assert "计算资源池" in list(ours.cut("我们的计算资源池"))


def test_a_cold_query_reads_a_few_slices_of_the_dictionary(tmp_path: Path) -> None:
    Tokenizer((), (), tmp_path).terms("预热")  # builds the file once
    tokenizer = Tokenizer((), (), tmp_path)
    assert tokenizer.terms("计算资源") == ["计算资源", "~计算", "~资源"]
    # The buckets of 计算, 算资 and 资源 (the pieces `_parts` checks start with them): 3 of ~180k.
    assert tokenizer.segmenter.FREQ.loaded == 3


def test_past_many_buckets_the_whole_table_is_read_and_cuts_the_same(monkeypatch, pair, service) -> None:
    """A corpus to index switches to jieba's single table: same words, added words included."""
    _, reference = pair
    monkeypatch.setattr(dictionary, "FULL_AFTER", 50)
    prefix = dictionary.load(Path(reference.tmp_dir).parent / "full")
    ours = dictionary.segmenter(prefix)
    for word, freq in _user_words():
        ours.add_word(word, freq)
    texts = [search_form(t) for t in _texts(service)]
    assert [t for t in texts if list(ours.cut(t)) != list(reference.cut(t))] == []
    assert prefix.loaded == -1  # the whole table
    assert type(ours.FREQ) is dict  # which jieba now reads directly, at its own speed
    assert ours.FREQ == reference.FREQ


def test_a_damaged_dictionary_file_is_rebuilt(tmp_path: Path, pair) -> None:
    _, reference = pair
    dictionary.load(tmp_path)
    (path,) = tmp_path.glob("dictionary-*.bin")
    path.write_bytes(path.read_bytes()[:5000])  # truncated mid-write by a crash, say
    rebuilt = dictionary.segmenter(dictionary.load(tmp_path))
    assert list(rebuilt.cut("我们坚信计算资源很重要")) == list(reference.cut("我们坚信计算资源很重要"))
    assert path.stat().st_size > 5000


def test_without_a_writable_cache_the_dictionary_is_built_in_memory(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    segmenter = dictionary.segmenter(dictionary.load(blocked / "cache"))
    assert list(segmenter.cut("我们坚信计算资源很重要")) == ["我们", "坚信", "计算资源", "很", "重要"]


def test_a_tokenizer_pickles_as_its_configuration(tmp_path: Path) -> None:
    """A worker process (building a new generation, say) gets the same words from its own copy."""
    tokenizer = Tokenizer([DictEntry("莱特卡普", 2000, "nr")], ["的"], tmp_path)
    text = "莱特卡普的计算资源和GPT-5"
    before = tokenizer.terms(text)
    clone = pickle.loads(pickle.dumps(tokenizer))
    assert clone.terms(text) == before
    assert "莱特卡普" in before and "的" not in before


def test_threads_reading_the_dictionary_at_once_cut_as_one_thread_does(pair, service, tmp_path: Path) -> None:
    """Bots search from several threads; each bucket must be read once, with the added words in it."""
    _, reference = pair
    dictionary.load(tmp_path)  # the file, built before the race
    shared = dictionary.segmenter(dictionary.load(tmp_path))
    for word, freq in _user_words():
        shared.add_word(word, freq)
    texts = [search_form(t) for t in _texts(service)]
    results: dict[int, list[list[str]]] = {}

    def work(n: int) -> None:
        results[n] = [list(shared.cut(t)) for t in texts[n::4]]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n in range(4):
        assert results[n] == [list(reference.cut(t)) for t in texts[n::4]]


def test_a_rebuild_removes_files_no_install_will_read_and_keeps_the_others(tmp_path: Path) -> None:
    (tmp_path / "dictionary-0000000000000000.bin").write_bytes(b"QBDICT1\n an older layout")
    source = tmp_path / "other-jieba" / "dict.txt"  # another virtual environment's jieba
    source.parent.mkdir()
    source.write_bytes(dictionary.jieba_dictionary_file().read_bytes())
    dictionary.load(tmp_path, source)
    gone = tmp_path / "gone" / "dict.txt"  # one since removed
    gone.parent.mkdir()
    gone.write_bytes(source.read_bytes())
    dictionary.load(tmp_path, gone)
    shutil.rmtree(gone.parent)
    dictionary.load(tmp_path)  # this install's: a third file, the gone one's removed with the old layout
    kept = sorted(p.name for p in tmp_path.glob("dictionary-*.bin"))
    assert len(kept) == 2
    assert dictionary.load(tmp_path, source).get("计算") == dictionary.load(tmp_path).get("计算")
