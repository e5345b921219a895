"""Reads the text back out of the QR images the API serves (PNG or SVG), so tests check what a scanner would read,
not merely that an image came back. A small decoder for clean, upright, generated symbols (no perspective, no
damage: error correction is not needed and not applied) in numeric, alphanumeric and byte modes — what
``qrcode`` writes. Only the standard's tables are taken from ``qrcode`` (block structure, alignment positions, mask
functions, the format string's BCH code); reading the modules, unmasking, de-interleaving and parsing are here.
"""
from __future__ import annotations

import re

import png
from qrcode import base, util

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def modules_from_png(data: bytes) -> list[list[bool]]:
    """The symbol's modules (True: dark), without the quiet zone, sampled at each module's centre."""
    width, height, rows, _ = png.Reader(bytes=data).asDirect()
    pixels = [[value == 0 for value in row] for row in rows]  # greyscale: 0 is black
    top = next(y for y, row in enumerate(pixels) if any(row))
    left = pixels[top].index(True)
    run = next((i for i, dark in enumerate(pixels[top][left:]) if not dark), width - left)
    box = run // 7  # the top-left finder's top edge is 7 modules of dark
    size = (width - 2 * left) // box
    return [[pixels[top + r * box + box // 2][left + c * box + box // 2] for c in range(size)] for r in range(size)]


def modules_from_svg(text: str) -> list[list[bool]]:
    """The modules of ``qrcode``'s SvgPathImage: one ``M x,y`` square per dark module, in module units."""
    dark = {(int(x), int(y)) for x, y in re.findall(r"M(\d+),(\d+)H", text)}
    left, top = min(x for x, _ in dark), min(y for _, y in dark)
    size = max(x for x, _ in dark) - left + 1
    return [[(left + c, top + r) in dark for c in range(size)] for r in range(size)]


def _reserved(size: int, version: int) -> list[list[bool]]:
    """Function patterns: finders with separators and format areas, timing, alignment, version information."""
    taken = [[False] * size for _ in range(size)]

    def mark(r0: int, c0: int, r1: int, c1: int) -> None:
        for r in range(max(r0, 0), min(r1, size)):
            for c in range(max(c0, 0), min(c1, size)):
                taken[r][c] = True

    mark(0, 0, 9, 9)
    mark(0, size - 8, 9, size)
    mark(size - 8, 0, size, 9)
    mark(6, 0, 7, size)
    mark(0, 6, size, 7)
    centres = util.pattern_position(version)
    for r in centres:
        for c in centres:
            on_finder = (r < 9 and c < 9) or (r < 9 and c > size - 9) or (r > size - 9 and c < 9)
            if not on_finder:  # the three that would sit on a finder do not exist
                mark(r - 2, c - 2, r + 3, c + 3)
    if version >= 7:
        mark(0, size - 11, 6, size - 8)
        mark(size - 11, 0, size - 8, 6)
    return taken


def decode(modules: list[list[bool]]) -> str:
    size = len(modules)
    version = (size - 17) // 4
    assert size == 17 + 4 * version and 1 <= version <= 40, f"not a QR symbol: {size} modules a side"
    # The format string, its copy beside the top-left finder (column 8, bit i from the top).
    rows_of_bits = [*range(6), 7, 8, *range(size - 7, size)]
    bits = sum(modules[r][8] << i for i, r in enumerate(rows_of_bits))
    found = [(ec, mask) for ec in range(4) for mask in range(8) if util.BCH_type_info((ec << 3) | mask) == bits]
    assert found, f"no format string in {bits:015b}"
    ec, mask = found[0]
    flip = util.mask_func(mask)
    reserved = _reserved(size, version)
    stream, upward, col = [], True, size - 1
    while col > 0:
        if col == 6:  # the vertical timing pattern is skipped whole
            col -= 1
        for r in (range(size - 1, -1, -1) if upward else range(size)):
            for c in (col, col - 1):
                if not reserved[r][c]:
                    stream.append(int(modules[r][c] ^ bool(flip(r, c))))
        upward, col = not upward, col - 2
    codewords = [int("".join(map(str, stream[i:i + 8])), 2) for i in range(0, len(stream) - 7, 8)]
    blocks = base.rs_blocks(version, ec)
    data: list[list[int]] = [[] for _ in blocks]
    position = 0
    for i in range(max(block.data_count for block in blocks)):
        for index, block in enumerate(blocks):
            if i < block.data_count:
                data[index].append(codewords[position])
                position += 1
    bitstring = "".join(f"{byte:08b}" for block in data for byte in block)
    return _parse(bitstring, version)


def _parse(bits: str, version: int) -> str:
    small, medium = version <= 9, version <= 26
    count_bits = {"0001": 10 if small else 12 if medium else 14, "0010": 9 if small else 11 if medium else 13,
                  "0100": 8 if small else 16}
    text, at = [], 0

    def take(n: int) -> int:
        nonlocal at
        value, at = int(bits[at:at + n], 2), at + n
        return value

    while at + 4 <= len(bits):
        mode = bits[at:at + 4]
        at += 4
        if mode == "0000":
            break
        assert mode in count_bits, f"unsupported mode {mode}"
        count = take(count_bits[mode])
        if mode == "0001":
            for group in range(0, count, 3):
                digits = min(3, count - group)
                text.append(str(take({3: 10, 2: 7, 1: 4}[digits])).zfill(digits))
        elif mode == "0010":
            for _ in range(count // 2):
                pair = take(11)
                text.append(ALPHANUMERIC[pair // 45] + ALPHANUMERIC[pair % 45])
            if count % 2:
                text.append(ALPHANUMERIC[take(6)])
        else:
            text.append(bytes(take(8) for _ in range(count)).decode("utf-8"))
    return "".join(text)


def read_png(data: bytes) -> str:
    return decode(modules_from_png(data))


def read_svg(data: bytes | str) -> str:
    return decode(modules_from_svg(data.decode("utf-8") if isinstance(data, bytes) else data))
