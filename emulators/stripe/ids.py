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
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        return mix64(self.state)

    def below(self, n: int) -> int:
        return self.next() % n if n > 0 else 0

    def chance(self, p: float) -> bool:
        return (self.next() >> 11) * (1.0 / 9007199254740992.0) < p

    def pick(self, items: list | tuple):  # type: ignore[no-untyped-def]
        return items[self.next() % len(items)]

    def text(self, n: int, alphabet: str = ALPHABET) -> str:
        x = self.next()
        out = []
        for _ in range(n):
            if x < len(alphabet):
                x = self.next()
            x, r = divmod(x, len(alphabet))
            out.append(alphabet[r])
        return "".join(out)


def _suffix(seed: int, length: int) -> str:
    """``Rng(seed).text(length)`` with ``Rng.next`` (splitmix64) inlined: the same characters."""
    state = ((seed & MASK64) + 0x9E3779B97F4A7C15) & MASK64  # Rng.text draws once before its loop
    x = (state + 0x9E3779B97F4A7C15) & MASK64  # Rng.next is mix64(state), and mix64 adds the constant again
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    x ^= x >> 31
    out = []
    for _ in range(length):
        if x < 62:
            state = (state + 0x9E3779B97F4A7C15) & MASK64
            x = (state + 0x9E3779B97F4A7C15) & MASK64
            x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
            x ^= x >> 31
        x, r = divmod(x, 62)
        out.append(ALPHABET[r])
    return "".join(out)


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

    def make(self, index: int) -> str:
        # ``self._head + base62(index + offset, 8) + Rng(seed).text(suffix_len)`` computed inline: an object
        # makes three or four ids (its own and those it refers to), through the helpers a fifth of its build.
        n = index + self._offset
        digits = []
        for _ in range(INDEX_WIDTH):
            n, r = divmod(n, 62)
            digits.append(ALPHABET[r])
        digits.reverse()
        head = self._head + "".join(digits)
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
