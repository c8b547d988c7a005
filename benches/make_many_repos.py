#!/usr/bin/env python3
"""Build the sweep's many-repositories benchmark: COUNT (default 1,000) small
independent repositories under OUT, in 10 group directories
(OUT/g0/repo0000 ...), to measure `leakscan sweep` in repositories per
second and check that its memory does not grow with the number of
repositories (beyond the cross-repository blob cache).

Each repository is written by one `git fast-import` stream: 5 commits on
`main` over 12 text files (~2 KB each; each commit edits 3 of them), and a
second branch `topic` with one more commit. One repository in seven gets a
fake token (generated here, seeded) in one commit, removed in the next one
in half of those (EVERY, default 7: one in EVERY gets a token; 5 gives the
200 distinct tokens of the `sweep --verify` figure). Deterministic (seeded RNG, fixed dates). Objects are
in the one pack fast-import writes per repository.

Usage:
    python3 benches/make_many_repos.py OUT [COUNT [EVERY]]
"""

import os
import random
import string
import subprocess
import sys

FILES = 12
COMMITS = 5


def body(rng, n):
    return "".join(f"line {i} value {rng.random():.12f}\n" for i in range(n))


def stream(rng, idx, every=7):
    out = []
    t = 1_600_000_000 + idx * 1000
    files = {f"src/m{f}.py": body(rng, 60) for f in range(FILES)}
    secret = idx % every == 0
    tok = "ghp_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(36))
    mark = 0
    for c in range(COMMITS):
        t += 60
        mark += 1
        msg = f"commit {c}\n"
        out.append(f"commit refs/heads/main\nmark :{mark}\ncommitter A <a@example.com> {t} +0000\n"
                   f"data {len(msg)}\n{msg}")
        changed = list(files) if c == 0 else rng.sample(sorted(files), 3)
        for p in changed:
            if c > 0:
                files[p] += f"edit {c} {rng.random():.12f}\n"
            data = files[p].encode()
            out.append(f"M 100644 inline {p}\ndata {len(data)}\n")
            out.append(data.decode() + "\n")
        if secret and c == 2:
            cfg = f'token = "{tok}"\n'
            out.append(f"M 100644 inline config.ini\ndata {len(cfg)}\n{cfg}\n")
        if secret and c == 3 and idx % 14 == 0:
            out.append("D config.ini\n")
    t += 60
    msg = "topic\n"
    out.append(f"commit refs/heads/topic\ncommitter A <a@example.com> {t} +0000\ndata {len(msg)}\n{msg}"
               f"from :{mark}\n")
    data = body(rng, 20)
    out.append(f"M 100644 inline topic.txt\ndata {len(data)}\n{data}\n")
    return "".join(out).encode()


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = os.path.abspath(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    every = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    rng = random.Random(3)
    for i in range(count):
        repo = os.path.join(out, f"g{i % 10}", f"repo{i:04d}")
        os.makedirs(repo)
        subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
        p = subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=stream(rng, i, every))
        if p.returncode != 0:
            sys.exit(f"git fast-import failed in {repo}")
    print(f"{out}: {count} repositories")


if __name__ == "__main__":
    main()
