#!/usr/bin/env python3
"""Build the sweep's fork benchmark: a directory holding three clones of a
repository, each with one commit of its own, and a bare mirror of it — four
repositories that share almost every object, as forks and mirrors do.

    OUT/clone1, OUT/clone2, OUT/clone3   `git clone --no-checkout SRC`, then one
                                         commit adding `fork-N.txt` (written with
                                         plumbing: the index is read from HEAD and
                                         nothing is checked out, so no work tree
                                         of SRC's size is written)
    OUT/mirror.git                       `git clone --mirror SRC`

Local clones hard-link SRC's pack files, so OUT costs little disk. Each
`fork-N.txt` holds a fake token generated here (seeded), so every clone has
one secret of its own. `leakscan sweep OUT` is then compared with
`leakscan history --repo SRC --all` (scripts/bench.sh sweep-forks).

Usage:
    python3 benches/make_forks.py SRC OUT
(SRC: e.g. the history benchmark repository from make_history_repo.py.)
"""

import os
import random
import string
import subprocess
import sys


def git(cwd, *args, stdin=None, env=None):
    e = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null",
             GIT_AUTHOR_NAME="Fork Bench", GIT_AUTHOR_EMAIL="fork@example.com",
             GIT_COMMITTER_NAME="Fork Bench", GIT_COMMITTER_EMAIL="fork@example.com",
             GIT_AUTHOR_DATE="1700000000 +0000", GIT_COMMITTER_DATE="1700000000 +0000")
    e.update(env or {})
    out = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, env=e)
    if out.returncode != 0:
        sys.exit(f"git {args} in {cwd}: {out.stderr.decode()}")
    return out.stdout.decode().strip()


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if os.path.exists(out):
        sys.exit(f"{out} exists")
    os.makedirs(out)
    rng = random.Random(7)
    for n in (1, 2, 3):
        clone = os.path.join(out, f"clone{n}")
        git(out, "clone", "-q", "--no-checkout", src, clone)
        tok = "ghp_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(36))
        blob = git(clone, "hash-object", "-w", "--stdin", stdin=f'token = "{tok}"\n'.encode())
        git(clone, "read-tree", "HEAD")
        git(clone, "update-index", "--add", "--cacheinfo", f"100644,{blob},fork-{n}.txt")
        tree = git(clone, "write-tree")
        commit = git(clone, "commit-tree", tree, "-p", "HEAD", "-m", f"fork {n}")
        git(clone, "update-ref", "HEAD", commit)
    git(out, "clone", "-q", "--mirror", src, os.path.join(out, "mirror.git"))
    print(f"{out}: clone1..3 (one commit each) and mirror.git of {src}")


if __name__ == "__main__":
    main()
