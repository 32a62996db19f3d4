"""A tiny PNG bar chart with the standard library only (zlib + struct): no matplotlib dependency.

    chart = BarChart("CPU MS PER POLL", groups=["N=1000", ...], series=["OURS", "PEER", "IDEAL"])
    chart.add("N=1000", [0.31, 1.2, 0.27]); chart.save("chart.png")

Text is drawn with a built-in 5x7 pixel font (upper-case letters, digits and a little punctuation).
"""

from __future__ import annotations

import struct
import zlib

# 5x7 glyphs, one string of 7 rows of 5 bits per character.
_FONT = {
    "A": "01110 10001 10001 11111 10001 10001 10001", "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110", "D": "11110 10001 10001 10001 10001 10001 11110",
    "E": "11111 10000 10000 11110 10000 10000 11111", "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111", "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110", "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001", "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001", "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110", "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101", "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110", "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110", "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010", "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 01010 00100 00100 00100 00100", "Z": "11111 00001 00010 00100 01000 10000 11111",
    "0": "01110 10001 10011 10101 11001 10001 01110", "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111", "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010", "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110", "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110", "9": "01110 10001 10001 01111 00001 00010 01100",
    ".": "00000 00000 00000 00000 00000 01100 01100", ",": "00000 00000 00000 00000 01100 00100 01000",
    ":": "00000 01100 01100 00000 01100 01100 00000", "/": "00001 00001 00010 00100 01000 10000 10000",
    "(": "00010 00100 01000 01000 01000 00100 00010", ")": "01000 00100 00010 00010 00010 00100 01000",
    "-": "00000 00000 00000 11111 00000 00000 00000", "=": "00000 00000 11111 00000 11111 00000 00000",
    "%": "11000 11001 00010 00100 01000 10011 00011",
    " ": "00000 00000 00000 00000 00000 00000 00000", "+": "00000 00100 00100 11111 00100 00100 00000",
    "<": "00010 00100 01000 10000 01000 00100 00010", ">": "01000 00100 00010 00001 00010 00100 01000",
    "_": "00000 00000 00000 00000 00000 00000 11111",
}

PALETTE = [(52, 101, 164), (204, 0, 0), (115, 210, 22), (245, 121, 0), (117, 80, 123)]


class Canvas:
    def __init__(self, width: int, height: int, background=(255, 255, 255)) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, color) -> None:
        x0, x1 = max(0, min(x0, x1)), min(self.width, max(x0, x1))
        y0, y1 = max(0, min(y0, y1)), min(self.height, max(y0, y1))
        row = bytes(color) * (x1 - x0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self.pixels[start:start + len(row)] = row

    def text(self, x: int, y: int, text: str, color=(0, 0, 0), scale: int = 1) -> int:
        for ch in text.upper():
            glyph = _FONT.get(ch, _FONT[" "])
            for gy, bits in enumerate(glyph.split()):
                for gx, bit in enumerate(bits):
                    if bit == "1":
                        self.rect(x + gx * scale, y + gy * scale, x + (gx + 1) * scale, y + (gy + 1) * scale, color)
            x += 6 * scale
        return x

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(self.pixels[y * self.width * 3:(y + 1) * self.width * 3])
                       for y in range(self.height))

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + \
            chunk(b"IEND", b"")


def text_width(text: str, scale: int = 1) -> int:
    return 6 * scale * len(text)


def bar_panels(panels: list[dict], path: str, width: int = 900, panel_height: int = 260) -> None:
    """Panels side by side vertically; each: {"title", "groups": [..], "series": [..], "values": {group: [..]}}.

    Values are drawn as bars with their number on top; the scale of each panel is its own.
    """
    height = panel_height * len(panels) + 10
    canvas = Canvas(width, height)
    for index, panel in enumerate(panels):
        top = index * panel_height + 10
        canvas.text(20, top, panel["title"], scale=2)
        series = panel["series"]
        # legend
        x = width - 20 - sum(text_width(s) + 26 for s in series)
        for s_index, name in enumerate(series):
            canvas.rect(x, top + 2, x + 10, top + 12, PALETTE[s_index % len(PALETTE)])
            x = canvas.text(x + 14, top + 3, name) + 12
        plot_top, plot_bottom = top + 40, top + panel_height - 40
        groups = panel["groups"]
        peak = max((v for g in groups for v in panel["values"].get(g, []) if v == v), default=1.0) or 1.0
        slot = (width - 80) / max(1, len(groups))
        bar = max(6, int(slot * 0.7 / max(1, len(series))))
        canvas.rect(40, plot_bottom, width - 30, plot_bottom + 2, (0, 0, 0))
        for g_index, group in enumerate(groups):
            values = panel["values"].get(group, [])
            x0 = int(50 + g_index * slot + (slot - bar * len(series)) / 2)
            for s_index, value in enumerate(values):
                if value != value:  # NaN
                    continue
                h = int((plot_bottom - plot_top - 14) * value / peak)
                bx = x0 + s_index * bar
                canvas.rect(bx + 1, plot_bottom - h, bx + bar - 1, plot_bottom, PALETTE[s_index % len(PALETTE)])
                label = f"{value:.3g}"
                canvas.text(bx + max(0, (bar - text_width(label)) // 2), plot_bottom - h - 10, label)
            canvas.text(int(50 + g_index * slot + (slot - text_width(group)) / 2), plot_bottom + 8, group)
    with open(path, "wb") as fh:
        fh.write(canvas.png())
