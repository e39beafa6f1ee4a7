"""PNG files for Cohort's PNG reader to decode (Tests/CohortDataTests/PNGReaderTests.swift).

For each mode (L, LA, RGB, RGBA) two files: one saved by Pillow (optimize=True: its own
adaptive row filters), and one whose rows cycle through the five filter types (None, Sub,
Up, Average, Paeth), encoded here with zlib. Prints per file its path, mode, width, height
and the pixels Pillow decodes from it, in hex, for the reader to match.

    python png_reference.py OUT_DIR
"""
import struct
import sys
import zlib

from PIL import Image

out = sys.argv[1]
w, h = 23, 17
BANDS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
COLOR_TYPE = {"L": 0, "LA": 4, "RGB": 2, "RGBA": 6}


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def cycled_filters(mode, data):
    bpp, stride = BANDS[mode], w * BANDS[mode]
    raw = b""
    for y in range(h):
        row, up = data[y * stride:(y + 1) * stride], data[(y - 1) * stride:y * stride] if y else bytes(stride)
        f = y % 5
        enc = bytearray([f])
        for i in range(stride):
            a = row[i - bpp] if i >= bpp else 0
            b = up[i]
            c = up[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][f]
            enc.append((row[i] - pred) % 256)
        raw += bytes(enc)
    header = struct.pack(">IIBBBBB", w, h, 8, COLOR_TYPE[mode], 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"tEXt", b"Comment\x00cycled filters") \
        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


for mode, bands in BANDS.items():
    data = bytes(((x * 7 + y * 13 + b * 61 + (x * y) % 11) * 5) % 256 for y in range(h) for x in range(w) for b in range(bands))
    pillow = f"{out}/{mode}-pillow.png"
    Image.frombytes(mode, (w, h), data).save(pillow, optimize=True)
    cycled = f"{out}/{mode}-cycled.png"
    with open(cycled, "wb") as f:
        f.write(cycled_filters(mode, data))
    for path in (pillow, cycled):
        decoded = Image.open(path)
        decoded.load()
        print(path, mode, decoded.size[0], decoded.size[1], decoded.tobytes().hex())
