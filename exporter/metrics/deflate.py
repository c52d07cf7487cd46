"""One gzip document from independently compressed pieces (as pigz does).

Each piece is compressed on its own as raw deflate ending in a full flush: byte-aligned, no
final-block bit and no back-references into earlier pieces, so pieces compressed at
different times concatenate into one valid deflate stream. The renderer keeps the
compressed form of every unchanged family, so a scrape only compresses what changed. Small
documents (a few chargers) are compressed whole instead, for a better ratio.

The deflate and CRC-32 code is zlib-ng (python-zlib-ng) where it is installed (x86-64 and
64-bit Arm: ``pyproject.toml``), else zlib. At their fastest levels, zlib-ng writes the 13 MB
exposition of 1,000 chargers in 12 ms where zlib takes 30 ms (1.5 MB against 1.2 MB), and its
CRC-32 takes 0.5 ms against 6 ms; both write standard deflate, which any gzip reader takes.
(Intel's ISA-L is faster still, but leaves the vector registers in a state that slowed the
Python code after it, the rendering, by some 15 % on an AVX-512 machine.)
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

#: Below this many bytes the document is compressed in one go: it costs little, and small
#: pieces compressed one by one lose most of the ratio (each restarts the dictionary).
WHOLE_BELOW = 512 * 1024
#: gzip member header: magic, deflate, no flags, no mtime, no extra flags, unknown OS.
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_FINAL_EMPTY_BLOCK = b"\x03\x00"


class _Compressor(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...
    def flush(self, mode: int, /) -> bytes: ...


#: Speed over size: the fastest level (zlib's 1 is 2x faster than its 6, for a 15 % larger
#: body on the exposition).
LEVEL = 1


class Codec(NamedTuple):
    """A deflate implementation with zlib's interface (and its constants)."""

    name: str
    #: ``compressobj(level, method, wbits)``
    compressobj: Callable[[int, int, int], _Compressor]
    crc32: Callable[[bytes, int], int]

    def deflate(self, raw: bytes) -> bytes:
        """``raw`` as raw deflate, ending in a full flush."""
        compressor = self.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
        return compressor.compress(raw) + compressor.flush(zlib.Z_FULL_FLUSH)


ZLIB = Codec("zlib", zlib.compressobj, zlib.crc32)


def _zlib_ng() -> Codec | None:
    try:
        from zlib_ng import zlib_ng
    except ImportError:  # no wheel for this platform (32-bit Arm): zlib
        return None
    return Codec("zlib-ng", zlib_ng.compressobj, zlib_ng.crc32)


#: The codecs installed here, the fastest first.
CODECS: tuple[Codec, ...] = tuple(codec for codec in (_zlib_ng(), ZLIB) if codec is not None)
DEFAULT = CODECS[0]


class Piece:
    """Bytes of the document and, computed on first use and kept, their deflated form."""

    __slots__ = ("_codec", "_deflated", "raw")

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self._deflated = b""
        self._codec: Codec | None = None

    def deflated(self, codec: Codec = DEFAULT) -> bytes:
        if self._codec is not codec:
            self._deflated = codec.deflate(self.raw)
            self._codec = codec
        return self._deflated


def plain_parts(pieces: Sequence[Piece]) -> list[bytes]:
    """The document uncompressed, as parts to write one after the other."""
    return [piece.raw for piece in pieces]


def gzip_parts(
    pieces: Sequence[Piece], *, codec: Codec = DEFAULT, whole_below: int = WHOLE_BELOW
) -> list[bytes]:
    """The document as one gzip member (``Content-Encoding: gzip``), in parts."""
    if sum(len(piece.raw) for piece in pieces) < whole_below:
        pieces = [Piece(plain(pieces))]
    crc = 0
    size = 0
    parts = [_HEADER]
    for piece in pieces:
        crc = codec.crc32(piece.raw, crc)
        size += len(piece.raw)
        parts.append(piece.deflated(codec))
    parts.append(_FINAL_EMPTY_BLOCK)
    parts.append(struct.pack("<II", crc, size & 0xFFFFFFFF))
    return parts


def plain(pieces: Sequence[Piece]) -> bytes:
    """The document, uncompressed."""
    return b"".join(plain_parts(pieces))
