"""Fuzz the adapters' WebSocket layer (``WebSocketSession`` in ``adapters/transport/_ws.py``)
with raw server bytes, fed whole and then one byte at a time.

Input layout: the first byte holds flags: bit 0 prepends a valid ``101 Switching Protocols``
answer to the session's own handshake (so the rest reaches the frame parser), bit 1 reports EOF
(``receive_data(None)``) after the bytes. The rest is what the server sent.

Invariants:

* ``receive_data`` returns complete text messages or raises ``HandshakeError`` or
  ``WebSocketClosed``; nothing else escapes;
* fed whole or byte by byte, the session returns the same messages, ends the same way (same
  exception and close code, or still open) and queues replies of the same total size;
* memory is bounded: the session never holds more than its message-size cap of partial message
  text, nor more queued reply bytes than the input could make it answer.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``fuzz`` and ``tests`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kraken_proto.adapters.transport._endpoint import parse_endpoint
from kraken_proto.adapters.transport._ws import (
    HandshakeError,
    WebSocketClosed,
    WebSocketSession,
)
from tests.v1.fixtures_v1 import REAL_FRAMES

from fuzz._harness import Target, run

__all__ = ["TARGET", "check", "frame", "main", "seeds"]

_ENDPOINT = parse_endpoint("ws://127.0.0.1:8080/")
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_KEY = re.compile(rb"Sec-WebSocket-Key: *([^\r\n]+)", re.IGNORECASE)
MAX_MESSAGE = 1024
"""The message-size cap the sessions under test get (small, so the fuzzer can exceed it)."""


def accept_response(handshake: bytes) -> bytes:
    """A valid ``101`` answer to ``handshake`` (the client's upgrade request)."""
    match = _KEY.search(handshake)
    assert match is not None, handshake
    accept = base64.b64encode(hashlib.sha1(match.group(1).strip() + _GUID).digest())
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


def _new_session() -> WebSocketSession:
    return WebSocketSession(_ENDPOINT, max_message_size=MAX_MESSAGE)


Outcome = tuple[list[str], str, int]


def _feed(chunks: Sequence[bytes | None], flags: int) -> Outcome:
    """Feed ``chunks`` to a fresh session; return (messages, how it ended, reply bytes)."""
    session = _new_session()
    handshake = session.handshake()
    if flags & 1:
        chunks = [accept_response(handshake), *chunks]
    messages: list[str] = []
    replies = 0
    fed = 0
    ending = "open"
    for chunk in chunks:
        try:
            messages.extend(session.receive_data(chunk))
        except HandshakeError:
            ending = "HandshakeError"
            break
        except WebSocketClosed as closed:
            ending = f"closed({closed.code})"
            break
        finally:
            fed += len(chunk or b"")
            replies += len(session.bytes_to_send())
            held = sum(map(len, session._parts))  # the partial message it keeps
            if held > MAX_MESSAGE:
                raise AssertionError(f"session holds {held} chars of a partial message")
        if ending == "open" and not session.is_open and session._closed is not None:
            ending = f"closed({session._closed.code})"
    # A pong echoes at most the ping's payload plus a 14-byte header; a close reply is smaller
    # than the close that caused it. So replies are bounded by the input, plus the close frame.
    if replies > 2 * fed + 256:
        raise AssertionError(f"{replies} reply bytes queued for {fed} input bytes")
    return messages, ending, replies


def _same_ending(whole: str, split: str) -> bool:
    if "(1009)" in whole or "(1009)" in split:
        # Over the cap, where the chunks end decides which error is seen first (the size, or
        # an invalid byte further on), so only "it closed" is compared.
        return whole.startswith("closed") and split.startswith("closed")
    return whole == split


def check(data: bytes) -> None:
    """Feed whole, then byte by byte; the two runs must agree."""
    if not data:
        return
    flags, payload = data[0], data[1:]
    eof: list[bytes | None] = [None] if flags & 2 else []
    whole = _feed([payload, *eof], flags)
    split = _feed([payload[i : i + 1] for i in range(len(payload))] + eof, flags)
    if whole[0] != split[0]:
        raise AssertionError(f"messages differ: whole {whole[0]!r} vs bytewise {split[0]!r}")
    if not _same_ending(whole[1], split[1]):
        raise AssertionError(f"endings differ: whole {whole[1]} vs bytewise {split[1]}")
    if whole[1] == split[1] and whole[2] != split[2]:
        raise AssertionError(f"reply bytes differ: whole {whole[2]} vs bytewise {split[2]}")


# --- seeds ---------------------------------------------------------------------------------


def frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bytes | None = None) -> bytes:
    """One WebSocket frame as a server (or, with ``mask``, a client) would send it."""
    first = (0x80 if fin else 0) | opcode
    length = len(payload)
    mask_bit = 0x80 if mask is not None else 0
    if length < 126:
        head = struct.pack("!BB", first, mask_bit | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, length)
    if mask is None:
        return head + payload
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return head + mask + masked


def _close(code: int, reason: bytes = b"") -> bytes:
    return frame(0x8, struct.pack("!H", code) + reason)


def seeds() -> list[bytes]:
    """Every fixture frame as a text frame after the handshake, and frame-level edge cases."""
    texts = [frame(0x1, text) for text in REAL_FRAMES]
    out = [b"\x01" + text for text in texts]
    out.append(b"\x03" + b"".join(texts[:10]))
    sample = REAL_FRAMES[0]
    out += [
        b"\x01" + frame(0x1, sample[:5], fin=False) + frame(0x0, sample[5:]),  # fragmented
        b"\x01" + frame(0x1, b"ab", fin=False) + frame(0x9, b"p") + frame(0x0, b"cd"),
        b"\x01" + frame(0x9, b"ping payload") + frame(0xA, b"pong") + frame(0x1, sample),
        b"\x01" + frame(0x2, b"\x00\x01binary") + frame(0x1, sample),
        b"\x01" + frame(0x1, sample) + _close(1000, b"bye") + frame(0x1, sample),
        b"\x01" + _close(1001),
        b"\x01" + frame(0x8, b""),
        b"\x03" + frame(0x1, "caf\u00e9 \u20ac".encode()),
        b"\x01" + frame(0x1, b"\xff\xfe"),  # invalid UTF-8
        b"\x01" + frame(0x1, b"x" * 2000),  # over the cap
        b"\x01" + frame(0x1, b"x" * 600, fin=False) + frame(0x0, b"y" * 600),
        b"\x01" + frame(0x1, sample, mask=b"abcd"),  # a masked server frame is an error
        b"\x01" + bytes([0x81, 0x7E, 0x00]),  # truncated length
        # A frame wsproto reads, then a text frame cut short with a bad byte early: wsproto
        # finds the byte as it arrives, so the fast path must too, however the reads are cut.
        b"\x01" + frame(0x2, b"\x00\x01binary") + frame(0x1, b"y\x81" + sample)[:-5],
        b"\x03" + frame(0x1, sample)[:-3],  # EOF mid-frame
        b"\x00HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!",
        b"\x00HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
        b"\x02HTTP/1.1 200 OK\r\n\r\n",
        b"\x00garbage\r\n\r\n",
    ]
    return out


TARGET = Target(
    "websocket",
    check,
    seeds,
    (
        b"\x81",
        b"\x01",
        b"\x80",
        b"\x88\x02\x03\xe8",
        b"\x89\x00",
        b"\x8a\x00",
        b"\x7e\x01\x00",
        b"\x7f\x00\x00\x00\x00\x00\x01\x00\x00",
        b"HTTP/1.1 ",
        b"\r\n\r\n",
    ),
    max_len=8192,
)


def main(argv: Sequence[str] | None = None) -> int:
    return run(TARGET, argv)


if __name__ == "__main__":
    sys.exit(main())
