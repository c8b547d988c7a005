#!/usr/bin/env python3
"""Writes src/rules/keywords/gram_costs.bin: how rare each byte pair is in source code.

The keyword search (src/rules/keywords/mod.rs) indexes each keyword by its rarest
four bytes; it estimates rarity with a bigram model of case-folded text:
cost(abcd) = c0[a] + c[a][b] + c[b][c] + c[c][d], where c0[a] ~ -log2 P(a) and
c[x][y] ~ -log2 P(y | x), in eighths of a bit, clamped to 0..255.

The file is 256 + 65536 bytes: c0, then c row by row. Only speed depends on
it (a worse model picks commoner grams; the search finds the same keywords).

Usage: scripts/gen_gram_costs.py CORPUS_DIR [MAX_MB]
  We trained it on ~/.cargo/registry/src after a build (Rust crates with their
  docs, tests and data files: a mix unrelated to the Linux kernel tree we
  benchmark on, so the benchmark does not flatter the model).
"""
import math
import os
import sys


def corpus(root, limit):
    data = bytearray()
    for base, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            try:
                with open(os.path.join(base, name), "rb") as f:
                    b = f.read(1 << 20)
            except OSError:
                continue
            if b"\0" in b[:8192]:
                continue
            data += b.lower()
            if len(data) >= limit:
                return bytes(data)
    return bytes(data)


def main():
    root = sys.argv[1]
    limit = int(float(sys.argv[2]) * 1e6) if len(sys.argv) > 2 else 100_000_000
    text = corpus(root, limit)
    uni = [0] * 256
    for b in text:
        uni[b] += 1
    pair = [0] * 65536
    view = memoryview(text)
    for x, y in zip(view, view[1:]):
        pair[x << 8 | y] += 1
    n = len(text)
    q = lambda p: max(0, min(255, round(-math.log2(p) * 8)))
    out = bytearray(q((uni[a] + 0.5) / (n + 1)) for a in range(256))
    for x in range(256):
        for y in range(256):
            out.append(q((pair[x << 8 | y] + 0.5) / (uni[x] + 1)))
    dest = os.path.join(os.path.dirname(__file__), "..", "src", "rules", "keywords", "gram_costs.bin")
    with open(dest, "wb") as f:
        f.write(out)
    print(f"{dest}: trained on {n} bytes")


if __name__ == "__main__":
    main()
