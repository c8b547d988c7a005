#!/usr/bin/env python3
"""Build a repository with many small commits, to check that `leakscan
history` stays bounded in time and memory on a long history.

One `git fast-import` stream writes COMMITS commits on `main` (default
100,000); each appends a line to 2 of 5,000 small text files (~1-2 KB, in
50 x 7 directories), so every commit makes 2 new blobs and a handful of new
trees. Then `git repack -adq --window=10 --depth=50` packs it with deltas.
Deterministic (seeded RNG, fixed dates). No secrets are planted.

Usage:
    python3 benches/make_many_commits_repo.py OUT [COMMITS]

Reference (2 cores): 100,000 commits, 797,632 objects, 212 MB pack, ~65 s.
"""

import random
import subprocess
import sys


def main():
    out = sys.argv[1]
    commits = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    subprocess.run(["git", "init", "-q", "-b", "main", out], check=True)
    p = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=out, stdin=subprocess.PIPE)
    w = p.stdin.write
    rng = random.Random(1)
    files = {}
    t = 1_600_000_000
    for c in range(commits):
        t += 60
        msg = f"commit {c % 10}\n".encode()
        w(f"commit refs/heads/main\ncommitter A <a@example.com> {t} +0000\ndata {len(msg)}\n".encode())
        w(msg)
        for _ in range(2):
            n = rng.randrange(5000)
            path = f"d{n % 50}/e{n % 7}/file{n}.txt"
            body = files.get(path) or "".join(f"line {i} {rng.random()}\n" for i in range(40))
            body += f"change {c} {rng.random()}\n"
            files[path] = body
            b = body.encode()
            w(f"M 100644 inline {path}\ndata {len(b)}\n".encode() + b + b"\n")
    p.stdin.close()
    if p.wait() != 0:
        sys.exit("git fast-import failed")
    subprocess.run(["git", "repack", "-adq", "--window=10", "--depth=50"], cwd=out, check=True)


if __name__ == "__main__":
    main()
