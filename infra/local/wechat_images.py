"""The WeChat stand-in's images (infra/local/wechat_standin.py): a mini-program code drawn as a PNG or a baseline
JPEG from a seed, with nothing but the standard library — equal seeds give identical images."""
from __future__ import annotations

import hashlib
import struct
import zlib

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _cells(seed: bytes, cells: int = 16) -> list[list[bool]]:
    """A ``cells`` x ``cells`` grid of dark (True) and light cells, one bit of SHA-256 of ``seed`` each: equal
    seeds give identical images, different seeds visibly different ones."""
    digest = hashlib.sha256(seed).digest()
    bit = lambda n: bool((digest[n // 8] >> (7 - n % 8)) & 1)  # noqa: E731
    return [[bit(y * cells + x) for x in range(cells)] for y in range(cells)]


def _render_png(seed: bytes, size: int = 64, cells: int = 16, hyaline: bool = False) -> bytes:
    """Render a valid PNG whose black/white cells derive from ``seed`` (``_cells``): grayscale, or with
    ``hyaline`` grayscale with alpha, the light cells transparent (WeChat's ``is_hyaline``)."""
    grid = _cells(seed, cells)
    cell_size = size // cells
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter type "None" for this scanline
        for x in range(size):
            dark = grid[y // cell_size][x // cell_size]
            rows.extend((0, 255) if hyaline and dark else (255, 0) if hyaline else (0 if dark else 255,))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    colour = 4 if hyaline else 0  # 8-bit grayscale with alpha, or without
    header = struct.pack(">IIBBBBB", size, size, 8, colour, 0, 0, 0)
    return (
        _PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows)))
        + chunk(b"IEND", b"")
    )


def _huffman_codes(counts: list[int], symbols: list[int]) -> dict[int, tuple[int, int]]:
    """Canonical Huffman codes (JPEG Annex C): symbol → (code, length)."""
    codes, code, index = {}, 0, 0
    for length, count in enumerate(counts, start=1):
        for _ in range(count):
            codes[symbols[index]] = (code, length)
            code, index = code + 1, index + 1
        code <<= 1
    return codes


# The standard luminance DC table (Annex K.3), and an AC table holding only end-of-block: every block is flat.
_JPEG_DC_COUNTS, _JPEG_DC_SYMBOLS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], list(range(12))
_JPEG_AC_COUNTS, _JPEG_AC_SYMBOLS = [1] + [0] * 15, [0x00]


def _render_jpeg(seed: bytes, cells: int = 16) -> bytes:
    """Render a valid baseline JPEG (JFIF, grayscale, 8·cells pixels square) whose black/white cells derive from
    ``seed`` (``_cells``), as WeChat's mini-program codes are JPEG. Each cell is one flat 8x8 block, so a block
    is its DC coefficient alone: quantised by 8, the DC of a flat block of value v is v - 128 exactly."""
    grid = _cells(seed, cells)
    dc_codes = _huffman_codes(_JPEG_DC_COUNTS, _JPEG_DC_SYMBOLS)
    eob = _huffman_codes(_JPEG_AC_COUNTS, _JPEG_AC_SYMBOLS)[0x00]
    out, acc, nbits = bytearray(), 0, 0

    def put(code: int, length: int) -> None:
        nonlocal acc, nbits
        acc, nbits = (acc << length) | code, nbits + length
        while nbits >= 8:
            nbits -= 8
            byte = (acc >> nbits) & 0xFF
            out.append(byte)
            if byte == 0xFF:
                out.append(0x00)  # byte stuffing
        acc &= (1 << nbits) - 1

    previous = 0
    for row in grid:
        for dark in row:
            dc = (0 if dark else 255) - 128
            diff, previous = dc - previous, dc
            category = abs(diff).bit_length()
            put(*dc_codes[category])
            if category:
                put(diff if diff > 0 else diff + (1 << category) - 1, category)
            put(*eob)
    if nbits:
        put((1 << (8 - nbits)) - 1, 8 - nbits)  # pad the last byte with ones

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload

    size = 8 * cells
    return b"".join((
        b"\xff\xd8",  # SOI
        segment(0xE0, b"JFIF\x00\x01\x01\x00" + struct.pack(">HH", 1, 1) + b"\x00\x00"),
        segment(0xDB, b"\x00" + bytes([8] * 64)),  # one quantisation table, all 8
        segment(0xC0, struct.pack(">BHHB", 8, size, size, 1) + b"\x01\x11\x00"),  # baseline, one component
        segment(0xC4, b"\x00" + bytes(_JPEG_DC_COUNTS) + bytes(_JPEG_DC_SYMBOLS)),
        segment(0xC4, b"\x10" + bytes(_JPEG_AC_COUNTS) + bytes(_JPEG_AC_SYMBOLS)),
        segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),  # one component, spectral 0..63
        bytes(out),
        b"\xff\xd9",  # EOI
    ))
