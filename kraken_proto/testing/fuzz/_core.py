"""What every fuzz target shares: its description, the byte mutator and the mutation loop.

Pure: the loop takes its random numbers and its clock from the caller (the runners in
``kraken_proto.adapters.cli.fuzz`` and ``fuzz/_harness.py`` pass ``random.Random(seed)`` and
``time.monotonic``), so a run is reproducible from its seed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

__all__ = [
    "COMMON_TOKENS",
    "FuzzFinding",
    "FuzzTarget",
    "Random",
    "fuzz_loop",
    "mutate",
    "require",
    "split_frames",
]

T = TypeVar("T")

# Byte fragments that reach interesting branches in any JSON-ish or HTTP-ish parser.
COMMON_TOKENS: tuple[bytes, ...] = (
    b'"',
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"true",
    b"false",
    b"-1",
    b"0",
    b"1e999",
    b"NaN",
    b"18446744073709551616",
    b"1.50",
    b'""',
    b'"\\ud800"',
    b"\\",
    b"\xff",
    b"\xed\xa0\x80",
    b"\r\n",
    b"[" * 64,
    b"]" * 64,
)


class Random(Protocol):
    """The part of ``random.Random`` the mutator uses."""

    def randint(self, a: int, b: int) -> int: ...
    def randrange(self, start: int) -> int: ...
    def choice(self, seq: Sequence[T]) -> T: ...


@dataclass(frozen=True)
class FuzzTarget:
    """One fuzz target: its name, its invariant check, its seeds and mutation hints.

    ``check(data)`` returns when every invariant holds for ``data`` and raises (usually
    ``AssertionError``) when one breaks; it builds every object it uses from ``data`` alone, so
    an input that fails replays the same way in a fresh process. ``seeds()`` gives the inputs
    to start from; ``tokens`` are fragments the mutator (and libFuzzer's dictionary) inserts;
    ``max_len`` caps an input's size.
    """

    name: str
    check: Callable[[bytes], None]
    seeds: Callable[[], Iterable[bytes]]
    tokens: tuple[bytes, ...] = field(default=())
    max_len: int = 4096


class FuzzFinding(Exception):
    """An input broke the target's invariant: ``data`` is the input, ``__cause__`` the error."""

    def __init__(self, target: str, data: bytes) -> None:
        super().__init__(f"{target}: an input of {len(data)} bytes broke an invariant")
        self.target = target
        self.data = data


def require(condition: bool, message: str, *details: object) -> None:
    """Raise ``AssertionError(message % details)`` unless ``condition`` holds (the message
    is only formatted on failure, so a check in a hot loop costs a call, not a string)."""
    if not condition:
        raise AssertionError(message % details if details else message)


def split_frames(data: bytes, limit: int = 64) -> list[bytes]:
    """Split a multi-message input on ``\\n`` (at most ``limit`` pieces, the rest stays joined)."""
    return data.split(b"\n", limit - 1)


def mutate(data: bytes, rng: Random, pool: Sequence[bytes], tokens: Sequence[bytes]) -> bytes:
    """One to four random byte-level mutations of ``data``: a bit flip, a token inserted, a
    range deleted or repeated, the tail cut, part of another ``pool`` input spliced in, or
    random bytes inserted."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(7)
        at = rng.randint(0, len(out))
        if kind == 0 and out:  # flip bits of one byte
            index = rng.randrange(len(out))
            out[index] ^= 1 << rng.randrange(8)
        elif kind == 1:  # insert a token
            out[at:at] = rng.choice(tokens)
        elif kind == 2:  # delete a range
            out[at : at + rng.randint(1, 16)] = b""
        elif kind == 3:  # truncate
            del out[at:]
        elif kind == 4 and out:  # duplicate a range (duplicate keys, repeated entries)
            start = rng.randrange(len(out))
            out[at:at] = out[start : start + rng.randint(1, 64)]
        elif kind == 5:  # splice in part of another input
            other = rng.choice(pool)
            start = rng.randint(0, len(other))
            out[at:at] = other[start : start + rng.randint(1, 128)]
        else:  # random bytes
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(out)


def fuzz_loop(
    target: FuzzTarget,
    pool: Sequence[bytes],
    rng: Random,
    *,
    iterations: int | None = None,
    seconds: float | None = None,
    clock: Callable[[], float] | None = None,
) -> int:
    """Check every input of ``pool`` (the seeds or a corpus), then mutated ones until
    ``iterations`` inputs or ``seconds`` of ``clock`` have passed (both: whichever comes
    first; neither: forever). Mutations start from ``pool`` (``[b""]`` when it is empty), use
    the target's tokens after ``COMMON_TOKENS``, and are cut to ``target.max_len``.

    Returns how many inputs were checked (``pool``'s included). Raises ``FuzzFinding`` (the
    failing input; the check's exception as ``__cause__``) at the first broken invariant, and
    ``ValueError`` for ``seconds`` without a ``clock``.
    """
    if seconds is not None and clock is None:
        raise ValueError("fuzz_loop: seconds needs a clock")
    inputs = list(pool) or [b""]
    tokens = (*COMMON_TOKENS, *target.tokens)
    for data in inputs:
        _checked(target, data)
    deadline = None if seconds is None or clock is None else clock() + seconds
    done = 0
    while iterations is None or done < iterations:
        # Reading the clock every input would cost more than a quick check: every 64th.
        if deadline is not None and clock is not None and done % 64 == 0 and clock() >= deadline:
            break
        data = mutate(rng.choice(inputs), rng, inputs, tokens)
        _checked(target, data[: target.max_len])
        done += 1
    return len(inputs) + done


def _checked(target: FuzzTarget, data: bytes) -> None:
    try:
        target.check(data)
    except Exception as error:
        raise FuzzFinding(target.name, data) from error
