#!/usr/bin/env python3
"""make_y4m.py: a synthetic 4:2:0 y4m clip for machines without ffmpeg (the GPU machines).

    tests/media/make_y4m.py WIDTH HEIGHT FRAMES FPS OUT.y4m

Each frame: a diagonal luma ramp that drifts, a bright box moving across, chroma ramps,
and seeded noise (the same bytes on every run and machine), so an upscaler has edges,
gradients and texture to work on. Pure Python, no numpy: a few seconds for SD clips.
"""
import random
import sys


def frame(w, h, n, rng):
    y = bytearray(w * h)
    for r in range(h):
        base = (r + 2 * n) % 256
        row = bytes(((base + c) // 2 + 16) & 0xFF for c in range(w))
        y[r * w:(r + 1) * w] = row
    bx, by, bs = (n * 7) % max(1, w - w // 5), h // 3, max(4, w // 5)
    for r in range(by, min(h, by + bs)):
        y[r * w + bx:r * w + min(w, bx + bs)] = b"\xeb" * (min(w, bx + bs) - bx)
    noise = rng.randbytes(w * h)
    y = bytes(max(16, min(235, v + (d & 15) - 8)) for v, d in zip(y, noise))
    cw, ch = (w + 1) // 2, (h + 1) // 2
    u = bytes((64 + (c * 128) // cw) & 0xFF for r in range(ch) for c in range(cw))
    v = bytes((192 - (r * 128) // ch) & 0xFF for r in range(ch) for c in range(cw))
    return y + u + v


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: make_y4m.py WIDTH HEIGHT FRAMES FPS OUT.y4m")
    w, h, frames, fps = (int(a) for a in sys.argv[1:5])
    rng = random.Random(20261125)
    with open(sys.argv[5], "wb") as f:
        f.write(b"YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420mpeg2\n" % (w, h, fps))
        for n in range(frames):
            f.write(b"FRAME\n")
            f.write(frame(w, h, n, rng))


if __name__ == "__main__":
    main()
