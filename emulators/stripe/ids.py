"""Stripe-like ids that encode their list position, and a tiny deterministic random source.

Each id is ``prefix + tag + base62(index, 8 chars) + suffix``. Base62 with the alphabet ``0-9A-Za-z`` sorts the
same way as ASCII, so ids of one resource sort exactly like their index. The emulator keeps every resource in
``created`` order by index, which makes Stripe's "created desc, then id desc" order the plain reverse index order,
and lets a retrieve or a ``starting_after`` decode the position from the id without any lookup table.
"""

from __future__ import annotations

import hashlib

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DIGIT = {c: i for i, c in enumerate(ALPHABET)}
INDEX_WIDTH = 8
MASK64 = (1 << 64) - 1
_MADE_LIMIT = 200_000  # ids remembered per resource and account (about 25 MB at 300,000)


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of ``parts`` that is the same in every process (unlike ``hash``)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def mix64(x: int) -> int:
    """splitmix64's finaliser: a cheap, well-spread 64-bit scramble."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


class Rng:
    """splitmix64: a few integer operations a draw, seeded per object so objects build independently."""

    __slots__ = ("state",)

    def __init__(self, seed: int) -> None:
        self.state = seed & MASK64

    def next(self) -> int:
        state = self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        x = (state + 0x9E3779B97F4A7C15) & MASK64  # mix64(state), inlined: the draw behind every generated value
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
        return x ^ (x >> 31)

    def below(self, n: int) -> int:
        return self.next() % n if n > 0 else 0

    def chance(self, p: float) -> bool:
        return (self.next() >> 11) * (1.0 / 9007199254740992.0) < p

    def pick(self, items: list | tuple):  # type: ignore[no-untyped-def]
        return items[self.next() % len(items)]

    def text(self, n: int, alphabet: str = ALPHABET) -> str:
        """``n`` characters of ``alphabet``: each draw's base-``len(alphabet)`` digits, least significant first.

        The plain form, which :func:`_digits_of_draw` reproduces two digits a division (the same characters and
        the same draws; ``tests/emulators/test_stripe_first_read.py`` compares the two)::

            x = self.next()
            for _ in range(n):
                if x < len(alphabet):
                    x = self.next()
                x, r = divmod(x, len(alphabet))
                out.append(alphabet[r])
        """
        text = _digits_of_draw(self.next(), alphabet, first=True, want=n)
        while len(text) < n:
            text += _digits_of_draw(self.next(), alphabet, first=False, want=n - len(text))
        return text[:n]


# alphabet -> its digit pairs: entry ``r`` of ``len(alphabet) ** 2`` is digit ``r % b`` then digit ``r // b``.
_PAIRS: dict[str, tuple[str, ...]] = {}


def _pairs_of(alphabet: str) -> tuple[str, ...]:
    pairs = _PAIRS.get(alphabet)
    if pairs is None:
        pairs = _PAIRS[alphabet] = tuple(low + high for high in alphabet for low in alphabet)
    return pairs


def _digits_of_draw(x: int, alphabet: str, *, first: bool, want: int = 64) -> str:
    """The characters the plain loop in :meth:`Rng.text` takes from one draw ``x``.

    The loop divides ``x`` by the base until, at the top of an iteration, what is left is a single digit (below the
    base): so it takes every digit but the most significant one, least significant first. A draw below the base
    gives nothing when it is the first (the loop draws again at once) and itself when it replaced a spent one
    (the loop checks only before drawing). Stops once it has ``want`` characters or more.
    """
    base = len(alphabet)
    if x < base:
        return "" if first else alphabet[x]
    pairs = _pairs_of(alphabet)
    square = base * base
    parts = []
    while x >= square:
        x, r = divmod(x, square)
        parts.append(pairs[r])
        want -= 2
        if want <= 0:
            return "".join(parts)
    if x >= base:  # two digits left: keep the lower one; else the one left is the most significant
        parts.append(alphabet[x % base])
    return "".join(parts)


def _suffix(seed: int, length: int) -> str:
    """``Rng(seed).text(length)`` with ``Rng.next`` (splitmix64) inlined: the same characters."""
    state = ((seed & MASK64) + 0x9E3779B97F4A7C15) & MASK64
    x = (state + 0x9E3779B97F4A7C15) & MASK64  # Rng.next is mix64(state), and mix64 adds the constant again
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    text = _digits_of_draw(x ^ (x >> 31), ALPHABET, first=True, want=length)
    while len(text) < length:
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        x = (state + 0x9E3779B97F4A7C15) & MASK64
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
        text += _digits_of_draw(x ^ (x >> 31), ALPHABET, first=False, want=length - len(text))
    return text[:length]


# Entry ``r`` of 62 * 62: digit ``r // 62`` then digit ``r % 62`` (``base62(r, 2)``).
_HIGH_LOW = tuple(high + low for high in ALPHABET for low in ALPHABET)


def base62(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, 62)
        chars.append(ALPHABET[r])
    return "".join(reversed(chars))


class IdCodec:
    """Turns an index into a Stripe-like id and back, for one resource of one account."""

    def __init__(self, prefix: str, salt: int, suffix_len: int = 14) -> None:
        self.prefix = prefix
        self.salt = salt
        self.tag = base62(salt % (62 * 62), 2)
        self.suffix_len = suffix_len
        self._head = prefix + self.tag
        self._head_len = len(self._head)
        # a per-resource offset keeps ids looking random while preserving their order
        self._offset = salt % (62**7)
        self._made: dict[int, str] = {}

    def make(self, index: int) -> str:
        # An object makes three or four ids (its own and those it refers to), a third of them new: the others
        # are remembered (a quarter of a first read went to making ids again).
        made = self._made.get(index)
        if made is None:
            made = self._make(index)
            if len(self._made) >= _MADE_LIMIT:
                self._made.clear()  # a crude bound, as for the objects' JSON (``sequence.py``)
            self._made[index] = made
        return made

    def _make(self, index: int) -> str:
        # ``self._head + base62(index + offset, 8) + Rng(seed).text(suffix_len)`` computed inline.
        n = index + self._offset
        n, d01 = divmod(n, 3844)  # the 8 index digits two at a time (base62 below, least significant pair first)
        n, d23 = divmod(n, 3844)
        n, d45 = divmod(n, 3844)
        head = self._head + _HIGH_LOW[n % 3844] + _HIGH_LOW[d45] + _HIGH_LOW[d23] + _HIGH_LOW[d01]
        if not self.suffix_len:
            return head
        return head + _suffix(self.salt ^ (index * 0x9E3779B1), self.suffix_len)

    def index(self, object_id: str) -> int | None:
        """The index ``object_id`` encodes, or None when it is not an id this codec made."""
        if not object_id.startswith(self._head):
            return None
        digits = object_id[self._head_len : self._head_len + INDEX_WIDTH]
        if len(digits) != INDEX_WIDTH:
            return None
        n = 0
        for c in digits:
            d = _DIGIT.get(c)
            if d is None:
                return None
            n = n * 62 + d
        n -= self._offset
        return n if n >= 0 and IdCodec.make(self, n) == object_id else None
