"""Passages stored as columns: one set of flat arrays per corpus generation, read through a lazy view.

Rebuilding 100k `Passage` objects from a thousand JSON files was most of a start-up from the
caches, and most of those objects were never looked at: a query shows ten passages. Here every
field of every passage lives in a few arrays (strings as one UTF-8 buffer plus offsets, small
codes for kind and speaker), saved with the index in one memory-mapped file per generation
(`quotecore.cache.IndexCache`). `Passages` makes a `Passage` only when one is asked for; the
ranking reads the code arrays directly (`ranking.Layout.of`). A reload copies the columns of the
documents that did not change (`Columns.take`) and builds columns only for the ones that did.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, overload

import numpy as np

from quotecore.daily import is_eligible
from quotecore.ingest import LoadedDocument
from quotecore.models import KINDS, Document, Drop, Passage

#: The optional string fields of a passage: a flag array says which are None rather than "".
_OPTIONAL = ("original", "context", "topic")
_STRINGS = ("id", "text", *_OPTIONAL)
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}


def _pack(values: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as one UTF-8 buffer and byte offsets (n + 1 of them); None packs as ""."""
    encoded = [(v or "").encode() for v in values]
    at = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=at[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(), at


def content_digest(ids: tuple[np.ndarray, np.ndarray], texts: tuple[np.ndarray, np.ndarray]) -> str:
    """SHA-256 of passages' ids and texts as packed buffers and offsets (`_pack`): read in C, not per passage."""
    digest = hashlib.sha256()
    for blob, at in (ids, texts):
        digest.update(np.ascontiguousarray(at, dtype="<i8").data)
        digest.update(np.ascontiguousarray(blob).data)
    return digest.hexdigest()


def passages_digest(passages: Sequence[Passage]) -> str:
    """`content_digest` of Passage objects (a snapshot without columns): the same value as its columns'."""
    return content_digest(_pack([p.id for p in passages]), _pack([p.text for p in passages]))


@dataclass(frozen=True, slots=True)
class DocumentMeta:
    """What a generation keeps of each document besides its passages: metadata, drops, headings."""

    document: Document
    drops: tuple[Drop, ...]
    topics: tuple[str, ...]
    passages: int  # how many passages it has, in order: its rows are a contiguous range
    key: str = ""  # `ingest.key_digest` of the file it was loaded from: a reload reuses it while unchanged
    #: The JSON it was read from, written back as is by the next generation (`dataclasses.asdict`
    #: of a thousand documents and their drops was a third of a one-document reload).
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: a generation file holds numbers, bytes and this, never pickled objects."""
        if self.raw is not None:
            return self.raw
        return {
            "key": self.key,
            "document": asdict(self.document),
            "drops": [asdict(d) for d in self.drops],
            "topics": list(self.topics),
            "passages": self.passages,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocumentMeta:
        """The inverse of `to_json` (JSON lists back to the tuples the models hold)."""
        document = {k: tuple(v) if isinstance(v, list) else v for k, v in data["document"].items()}
        return cls(
            Document(**document),
            tuple(Drop(**d) for d in data["drops"]),
            tuple(data["topics"]),
            int(data["passages"]),
            str(data.get("key", "")),
            data,
        )


class Columns:
    """Every passage of a generation as arrays; see the module docstring.

    `arrays` holds, per string field F, `F` (uint8 UTF-8) and `F_at` (int64 offsets), plus
    `F_set` (bool) for the optional ones; `doc`, `position`, `line` (int32), `kind` (int8, index
    into KINDS), `speaker` (int16, index into `speakers`, -1 for nobody), `doubtful` and
    `quotable` (bool: `daily.is_eligible`), and the sentence spans as `sent` (int32 start/end
    pairs) with `sent_at` (int64 offsets, in pairs).
    """

    def __init__(
        self, arrays: dict[str, np.ndarray], documents: tuple[DocumentMeta, ...], speakers: tuple[str, ...]
    ) -> None:
        self.arrays = arrays
        self.documents = documents
        self.speakers = speakers
        self.size = int(arrays["kind"].size)
        self._fields: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # a string field's (bytes, offsets)
        #: The id lookup saved with the generation, if it was (`PassageIds`).
        self.ids: PassageIds | None = None
        counts = np.array([d.passages for d in documents], dtype=np.int64)
        ends = np.cumsum(counts)
        #: Each document's first row and one past its last.
        self.bounds = np.stack((ends - counts, ends), axis=1) if documents else np.zeros((0, 2), dtype=np.int64)

    # -- making -------------------------------------------------------------------------------

    @classmethod
    def of(cls, loaded: Sequence[LoadedDocument], keys: Sequence[str] = ()) -> Columns:
        """Columns of freshly loaded documents (the only place a generation reads Passage objects)."""
        passages = [p for doc in loaded for p in doc.passages]
        speakers = tuple(dict.fromkeys(p.speaker_id for p in passages if p.speaker_id))
        code = {s: i for i, s in enumerate(speakers)}
        doc_number = {doc.document.id: i for i, doc in enumerate(loaded)}
        arrays: dict[str, np.ndarray] = {}
        for name in _STRINGS:
            values = [getattr(p, name) for p in passages]
            arrays[name], arrays[f"{name}_at"] = _pack(values)
            if name in _OPTIONAL:
                arrays[f"{name}_set"] = np.array([v is not None for v in values], dtype=bool)
        arrays["doc"] = np.array([doc_number[p.doc_id] for p in passages], dtype=np.int32)
        arrays["position"] = np.array([p.position for p in passages], dtype=np.int32)
        arrays["line"] = np.array([p.line for p in passages], dtype=np.int32)
        arrays["kind"] = np.array([_KIND_CODE[p.kind] for p in passages], dtype=np.int8)
        arrays["speaker"] = np.array([code.get(p.speaker_id or "", -1) for p in passages], dtype=np.int16)
        arrays["doubtful"] = np.array([p.attribution == "doubtful" for p in passages], dtype=bool)
        arrays["quotable"] = np.array([is_eligible(p) for p in passages], dtype=bool)
        spans = [s for p in passages for s in p.sentences]
        arrays["sent"] = np.array(spans, dtype=np.int32).reshape(-1)
        arrays["sent_at"] = np.zeros(len(passages) + 1, dtype=np.int64)
        np.cumsum([len(p.sentences) for p in passages], out=arrays["sent_at"][1:])
        keys = list(keys) or [""] * len(loaded)
        documents = tuple(
            DocumentMeta(d.document, d.drops, d.topics, len(d.passages), k) for d, k in zip(loaded, keys, strict=True)
        )
        return cls(arrays, documents, speakers)

    def take(self, doc: int, until: int | None = None) -> Columns:
        """The columns of document `doc` (to `until`, exclusive): a reload keeps unchanged rows as they are."""
        until = doc + 1 if until is None else until
        a, b = int(self.bounds[doc][0]), int(self.bounds[until - 1][1])
        arrays: dict[str, np.ndarray] = {}
        for name in _STRINGS:
            at = self.arrays[f"{name}_at"]
            arrays[name] = self.arrays[name][at[a] : at[b]]
            arrays[f"{name}_at"] = at[a : b + 1] - at[a]
            if name in _OPTIONAL:
                arrays[f"{name}_set"] = self.arrays[f"{name}_set"][a:b]
        sent_at = self.arrays["sent_at"]
        arrays["sent"] = self.arrays["sent"][2 * sent_at[a] : 2 * sent_at[b]]
        arrays["sent_at"] = sent_at[a : b + 1] - sent_at[a]
        for name in ("position", "line", "kind", "speaker", "doubtful", "quotable"):
            arrays[name] = self.arrays[name][a:b]
        arrays["doc"] = (self.arrays["doc"][a:b] - doc).astype(np.int32)
        return Columns(arrays, self.documents[doc:until], self.speakers)

    @classmethod
    def concat(cls, parts: Sequence[Columns]) -> Columns:
        """One generation from its documents' columns, in order (codes renumbered, offsets shifted)."""
        speakers = tuple(dict.fromkeys(s for part in parts for s in part.speakers))
        code = {s: i for i, s in enumerate(speakers)}
        arrays: dict[str, np.ndarray] = {}
        for name in _STRINGS:
            arrays[name] = np.concatenate([p.arrays[name] for p in parts] or [np.zeros(0, np.uint8)])
            arrays[f"{name}_at"] = _join_offsets([p.arrays[f"{name}_at"] for p in parts])
            if name in _OPTIONAL:
                arrays[f"{name}_set"] = np.concatenate([p.arrays[f"{name}_set"] for p in parts] or [np.zeros(0, bool)])
        arrays["sent"] = np.concatenate([p.arrays["sent"] for p in parts] or [np.zeros(0, np.int32)])
        arrays["sent_at"] = _join_offsets([p.arrays["sent_at"] for p in parts])
        documents: list[DocumentMeta] = []
        docs, speaker = [], []
        for part in parts:
            docs.append(part.arrays["doc"] + len(documents))
            documents.extend(part.documents)
            table = np.array([code[s] for s in part.speakers] + [-1], dtype=np.int16)
            speaker.append(table[part.arrays["speaker"]])  # -1 indexes the table's last entry: -1
        arrays["doc"] = np.concatenate(docs or [np.zeros(0, np.int32)]).astype(np.int32)
        arrays["speaker"] = np.concatenate(speaker or [np.zeros(0, np.int16)]).astype(np.int16)
        for name, dtype in (("position", np.int32), ("line", np.int32), ("kind", np.int8)):
            arrays[name] = np.concatenate([p.arrays[name] for p in parts] or [np.zeros(0, dtype)])
        for name in ("doubtful", "quotable"):
            arrays[name] = np.concatenate([p.arrays[name] for p in parts] or [np.zeros(0, bool)])
        return cls(arrays, tuple(documents), speakers)

    # -- saving -------------------------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays, with the documents and speaker table as one JSON member (never pickled)."""
        meta = {"documents": [d.to_json() for d in self.documents], "speakers": list(self.speakers)}
        encoded = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode()
        ids = PassageIds(self)  # sorted once, where the generation is built: a reload only maps it
        return {**self.arrays, "meta": np.frombuffer(encoded, dtype=np.uint8), **ids.to_arrays()}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Columns:
        """Columns over saved (typically memory-mapped) arrays: nothing per passage is made."""
        meta = json.loads(arrays["meta"].tobytes().decode())
        own = {k: v for k, v in arrays.items() if k not in ("meta", "id_sorted", "id_order")}
        documents = tuple(DocumentMeta.from_json(d) for d in meta["documents"])
        columns = cls(own, documents, tuple(meta["speakers"]))
        if "id_sorted" in arrays:
            columns.ids = PassageIds(columns, arrays["id_sorted"], arrays["id_order"])
        return columns

    # -- reading ------------------------------------------------------------------------------

    def string(self, name: str, i: int) -> str | None:
        """Field `name` of row `i` (None for an optional field that was None)."""
        if name in _OPTIONAL and not self.arrays[f"{name}_set"][i]:
            return None
        data, at = self._fields.get(name) or self._field(name)
        start, end = at[i : i + 2].tolist()  # one call for both offsets: ranking reads twenty texts a query
        return data[start:end].tobytes().decode()

    def _field(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        field = self._fields[name] = (self.arrays[name], self.arrays[f"{name}_at"])
        return field

    def passage(self, i: int) -> Passage:
        """Row `i` as a Passage (what a result, "show" or the daily post needs)."""
        a = self.arrays
        sent_at = a["sent_at"]
        flat = a["sent"][2 * int(sent_at[i]) : 2 * int(sent_at[i + 1])].tolist()
        speaker = int(a["speaker"][i])
        return Passage(
            id=self.string("id", i) or "",
            doc_id=self.documents[int(a["doc"][i])].document.id,
            position=int(a["position"][i]),
            line=int(a["line"][i]),
            text=self.string("text", i) or "",
            kind=KINDS[int(a["kind"][i])],
            speaker_id=self.speakers[speaker] if speaker >= 0 else None,
            topic=self.string("topic", i),
            sentences=tuple(zip(flat[::2], flat[1::2], strict=True)),
            original=self.string("original", i),
            attribution="doubtful" if a["doubtful"][i] else "certain",
            context=self.string("context", i),
        )

    def digest(self) -> str:
        """What these passages say, as `content_digest` of their ids and texts."""
        a = self.arrays
        return content_digest((a["id"], a["id_at"]), (a["text"], a["text_at"]))

    def texts(self) -> Iterator[str]:
        """Every passage's text, in order (an index build reads these and nothing else)."""
        blob, at = self.arrays["text"], self.arrays["text_at"].tolist()
        raw = blob.tobytes()
        for i in range(self.size):
            yield raw[at[i] : at[i + 1]].decode()


def _join_offsets(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Offsets (each starting at 0, n + 1 long) of consecutive buffers as one offset array."""
    out = [np.zeros(1, dtype=np.int64)]
    base = 0
    for at in parts:
        out.append(at[1:] + base)
        base += int(at[-1]) if at.size else 0
    return np.concatenate(out).astype(np.int64)


class Passages(Sequence[Passage]):
    """A generation's passages as a read-only sequence; a Passage is made when one is read."""

    def __init__(self, columns: Columns) -> None:
        self.columns = columns

    def __len__(self) -> int:
        return self.columns.size

    @overload
    def __getitem__(self, index: int) -> Passage: ...

    @overload
    def __getitem__(self, index: slice) -> list[Passage]: ...

    def __getitem__(self, index: int | slice) -> Passage | list[Passage]:
        if isinstance(index, slice):
            return [self.columns.passage(i) for i in range(*index.indices(self.columns.size))]
        i = int(index)
        if i < 0:
            i += self.columns.size
        if not 0 <= i < self.columns.size:
            raise IndexError(index)
        return self.columns.passage(i)

    def __iter__(self) -> Iterator[Passage]:
        for i in range(self.columns.size):
            yield self.columns.passage(i)


class PassageIds(Mapping[str, int]):
    """Passage id → row, by binary search in a sorted array of the ids (no dict of 100k strings)."""

    def __init__(self, columns: Columns, keys: np.ndarray | None = None, order: np.ndarray | None = None) -> None:
        self._columns = columns
        if keys is not None and order is not None:
            self.keys, self._order = keys, order
            return
        at = np.asarray(columns.arrays["id_at"])
        lengths = np.diff(at)
        width = max(int(lengths.max()) if lengths.size else 1, 1)
        # Scattered into an (n, width) byte matrix and viewed as fixed-width strings: no loop in Python.
        matrix = np.zeros((columns.size, width), dtype=np.uint8)
        rows = np.repeat(np.arange(columns.size), lengths)
        matrix[rows, np.arange(rows.size) - np.repeat(at[:-1], lengths)] = columns.arrays["id"]
        keys = matrix.view(f"S{width}").reshape(-1)
        self._order = np.argsort(keys, kind="stable")
        self.keys = keys[self._order]  # sorted: other generations' ids compare against these

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The sorted ids and their rows, saved with the generation's columns."""
        return {"id_sorted": self.keys, "id_order": self._order.astype(np.int32)}

    def _row(self, key: object) -> int | None:
        if not isinstance(key, str) or not key.isascii():
            return None
        encoded = key.encode()
        at = int(np.searchsorted(self.keys, encoded))
        if at < self.keys.size and self.keys[at] == encoded and len(encoded) <= self.keys.dtype.itemsize:
            return int(self._order[at])
        return None

    def __getitem__(self, key: str) -> int:
        row = self._row(key)
        if row is None:
            raise KeyError(key)
        return row

    def get(self, key: str, default: Any = None) -> Any:  # noqa: D102 (Mapping's, without the exception)
        row = self._row(key)
        return default if row is None else row

    def __contains__(self, key: object) -> bool:
        return self._row(key) is not None

    def __len__(self) -> int:
        return self._columns.size

    def __iter__(self) -> Iterator[str]:
        for i in range(self._columns.size):
            yield self._columns.string("id", i) or ""


class EligibleIds(Sequence[str]):
    """The ids of the passages that may be served alone (daily post, `/quote` with no words), lazily."""

    def __init__(self, columns: Columns) -> None:
        self._columns = columns
        self._rows = np.flatnonzero(columns.arrays["quotable"])

    def __len__(self) -> int:
        return int(self._rows.size)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._columns.string("id", int(r)) or "" for r in self._rows[index]]
        return self._columns.string("id", int(self._rows[index])) or ""

    def __iter__(self) -> Iterator[str]:
        for row in self._rows.tolist():
            yield self._columns.string("id", row) or ""
