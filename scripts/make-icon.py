"""Draw the bundle's icon, packaging/mcpb/icon.png: 512x512 RGBA, a blue rounded square with a
white check mark over three list lines. Standard library only (PNG bytes written with zlib), so
it runs anywhere; the PNG is committed and this script is only rerun to change the design.

    .venv/bin/python scripts/make-icon.py [OUT]
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from pathlib import Path

SIZE = 512
BLUE = (37, 99, 235)
WHITE = (255, 255, 255)
LINES = [((150, 178), (400, 178)), ((150, 256), (400, 256)), ((150, 334), (300, 334))]
CHECK = [(96, 300), (176, 380), (336, 196)]  # drawn over the lines, in a wider stroke


def _segment_distance(x: float, y: float, a: tuple[int, int], b: tuple[int, int]) -> float:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(x - ax - t * dx, y - ay - t * dy)


def _rounded_square_distance(x: float, y: float, margin: int = 24, radius: int = 96) -> float:
    """Signed distance to the rounded square (negative inside)."""
    half = SIZE / 2 - margin - radius
    qx, qy = abs(x - SIZE / 2) - half, abs(y - SIZE / 2) - half
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - radius


def _coverage(distance: float) -> float:
    """Anti-aliasing: 1 well inside an edge, 0 well outside, linear over one pixel."""
    return max(0.0, min(1.0, 0.5 - distance))


def pixel(x: int, y: int) -> tuple[int, int, int, int]:
    cx, cy = x + 0.5, y + 0.5
    alpha = _coverage(_rounded_square_distance(cx, cy))
    if alpha == 0.0:
        return (0, 0, 0, 0)
    line = min(_segment_distance(cx, cy, a, b) for a, b in LINES) - 14
    check = min(_segment_distance(cx, cy, CHECK[i], CHECK[i + 1]) for i in range(2)) - 30
    halo = _coverage(check - 14)  # a blue ring keeps the check apart from the lines
    white = max(_coverage(line) * (1 - halo) * 0.55, _coverage(check))
    r, g, b = (round(BLUE[i] + (WHITE[i] - BLUE[i]) * white) for i in range(3))
    return (r, g, b, round(alpha * 255))


def png(width: int, height: int, rows: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 on every row
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "packaging" / "mcpb" / "icon.png"
    rows = [bytes(v for x in range(SIZE) for v in pixel(x, y)) for y in range(SIZE)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png(SIZE, SIZE, rows))
    print(f"make-icon: wrote {out} ({out.stat().st_size} bytes, {SIZE}x{SIZE})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
