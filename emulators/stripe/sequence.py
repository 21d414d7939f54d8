"""One resource of one account: its objects in ``created`` order, built lazily, with changes layered on top.

Index ``i`` is the object's position in ascending (created, id) order, so the newest object has the highest index.
Generated ("base") objects are built on demand by a pure function of their index; objects the control API
creates later are appended as ``extras`` with ``created`` at the emulator's now, which keeps the order intact.
Updates live in ``overrides`` and deletions in ``deleted``. Each object's JSON is encoded once and cached until it
changes, so serving a page is mostly a byte join.
"""

from __future__ import annotations

import bisect
import json
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from emulators.stripe.ids import IdCodec

Obj = dict[str, Any]
_CACHE_LIMIT = 300_000


# Subclasses, dataclasses and datetimes go to json, which writes them its own way (orjson raises for them here).
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


_NEGATIVE_EXPONENT = re.compile(rb"e-(?<=\de-)")  # "e-" after a digit: a literal first, so re finds it fast


def encode(obj: Obj) -> bytes:
    """``json.dumps(obj, separators=(",", ":"))`` as bytes, by orjson whenever that gives the same bytes.

    A backfill reads each object once, so encoding it the first time is a good part of what serving it costs
    (~15 µs an object with json, ~5 with orjson and the checks below). The two write the same bytes for strings,
    integers, booleans, null, lists and dicts, except that orjson writes non-ASCII as UTF-8 (json: ``\\uXXXX``),
    leaves DEL unescaped, writes NaN as null (no generated object holds one), and writes floats below 1e-4 as
    ``0.00001`` or ``2.5e-7`` (json: ``1e-05``, ``2.5e-07``). A line where any of that may have happened (and
    anything orjson refuses, such as integers beyond 64 bits) is json's. The emulator keeps its own copy of this
    rule rather than importing the tap's (``tap_stripe_aep.exact_json``): a test double sharing the code under
    test could not catch its mistakes.
    """
    try:
        data = orjson.dumps(obj, option=_ORJSON_OPTIONS)
    except TypeError:
        return _json_encode(obj)
    # "e-" in text ("One-off charge": 4% of the objects) is no float: an exponent always follows a digit.
    no_small_float = b"0.0000" not in data and (b"e-" not in data or _NEGATIVE_EXPONENT.search(data) is None)
    if data.isascii() and b"\x7f" not in data and no_small_float:
        return data
    return _json_encode(obj)


def _json_encode(obj: Obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


class Sequence:
    """The objects of one resource (e.g. an account's charges), addressable by index and by id."""

    def __init__(
        self,
        name: str,
        object_name: str,
        codec: IdCodec,
        base_count: int,
        created_at: Callable[[int], int],
        build: Callable[[int], Obj],
    ) -> None:
        self.name = name
        self.object_name = object_name
        self.codec = codec
        self.base_count = base_count
        self._created_at = created_at
        self._build = build
        self.extras: list[Obj] = []
        self.extras_created: list[int] = []
        self.overrides: dict[int, Obj] = {}
        self.deleted: set[int] = set()
        self._encoded: dict[int, bytes] = {}
        self._created_list: list[int] | None = None  # ``created`` of every generated object, once a bisect needs it
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return self.base_count + len(self.extras)

    def id_of(self, index: int) -> str:
        return self.codec.make(index)

    def index_of(self, object_id: str) -> int | None:
        """The index of ``object_id`` if this resource ever had it (deleted objects included)."""
        index = self.codec.index(object_id)
        if index is None or index >= len(self):
            return None
        return index

    def created(self, index: int) -> int:
        if index >= self.base_count:
            return self.extras_created[index - self.base_count]
        return self._created_at(index)

    def original(self, index: int) -> Obj:
        """The object as first generated or created, before any update (what its created event shows)."""
        if index >= self.base_count:
            return self.extras[index - self.base_count]
        return self._build(index)

    def get(self, index: int) -> Obj:
        """The current state of the object (deleted ones included)."""
        found = self.overrides.get(index)
        return found if found is not None else self.original(index)

    def encoded(self, index: int) -> bytes:
        data = self._encoded.get(index)
        if data is None:
            # A copy of exactly its length: orjson's bytes keep the buffer it wrote into (16 KB for a 1.5 KB
            # charge), which made 72,000 cached charges 1.2 GB of RSS instead of 110 MB.
            data = memoryview(encode(self.get(index))).tobytes()
            if len(self._encoded) >= _CACHE_LIMIT:
                self._encoded.clear()  # a crude bound: re-encoding is cheap, memory at 1M objects is not
            self._encoded[index] = data
        return data

    def prebuild(self) -> int:
        """Build and encode every generated object now (the newest ``_CACHE_LIMIT`` of them), so that serving
        a page later is a byte join; returns how many were built. The bytes are the ones :meth:`encoded` would
        make on first read: an object is a pure function of (seed, account, index) until a mutation replaces
        it, and this runs before the server answers anything."""
        first = max(0, self.base_count - _CACHE_LIMIT)
        for index in range(first, self.base_count):
            self.encoded(index)
        return self.base_count - first

    def is_live(self, index: int) -> bool:
        return index not in self.deleted

    def replace(self, index: int, obj: Obj) -> None:
        """Store the new state of an object and drop its cached JSON."""
        self.overrides[index] = obj
        self._encoded.pop(index, None)

    def append(self, obj: Obj, created: int) -> int:
        """Add an object created now (``created`` must be >= every existing one) and return its index."""
        # created first: readers without the lock size the sequence by ``extras``
        self.extras_created.append(created)
        self.extras.append(obj)
        return len(self) - 1

    def delete(self, index: int) -> None:
        self.deleted.add(index)
        self._encoded.pop(index, None)

    def bound(self, created: int, *, right: bool) -> int:
        """bisect over ``created``: the first index with created > (right) or >= (left) the value."""
        fn = bisect.bisect_right if right else bisect.bisect_left
        if not self.extras_created:
            # The same probes as bisecting ``range(len(self))`` by ``self.created``, on a list of the generated
            # objects' times made once: building an object picks the ones it refers to by time (about one bisect
            # an object, 14 µs through the key function, a fifth of a first read).
            return fn(self._generated_created(), created)
        return fn(range(len(self)), created, key=self.created)

    def _generated_created(self) -> list[int]:
        times = self._created_list
        if times is None:  # two threads may both build it: the same list, either one kept
            times = self._created_list = [self._created_at(index) for index in range(self.base_count)]
        return times

    def live_desc(self) -> Iterator[int]:
        """Every live index, newest first."""
        for index in range(len(self) - 1, -1, -1):
            if index not in self.deleted:
                yield index


def count_at(seq: Sequence, created: int) -> int:
    """How many objects of ``seq`` exist at time ``created`` (created at or before it)."""
    return seq.bound(created, right=True)
