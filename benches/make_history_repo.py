#!/usr/bin/env python3
"""Build a large, deterministic git repository with a long history, for
benchmarking `leakscan history` (and peers' git-history modes).

How it works
------------
The files of a real source tree (default: the Debian kernel source unpacked at
/work/bench-data/linux-source-6.1) are replayed into a fresh repository
through ONE `git fast-import` process (no git process per commit), as a
history of --commits commits:

* the first commit imports ~5% of the files; later commits add the rest a few
  files at a time, clustered by directory, so the final tree is (close to)
  the source tree;
* most commits edit 1-4 existing text files (append / insert / delete /
  replace a few lines, always changing the content, so every version is a
  new blob); some rename a file; some delete files;
* branches: `main`, `topic/alpha` and `topic/beta` (each forked from main,
  developed in parallel with it, and merged back with a merge commit), and
  `topic/gamma` (forked late, never merged). A topic branch only touches
  files it owns (files it added, plus files it claimed from main when it
  forked; main leaves those alone meanwhile), so merges never conflict and
  the merge commit's tree is simply main's tree plus the topic's changes;
* a few edits (--secrets, default 64) insert an obviously fake credential
  line (AWS-key-, GitHub-token-, Slack-token-, private-key- or
  password-shaped, generated from the seeded RNG); most are deleted again
  some commits later, as happens after a real leak. They are listed,
  with the commit that added each, in the manifest (see below), so a
  history scanner's findings can be checked against a known list.

Everything is deterministic: seeded RNG, a fixed list of authors, fixed
start date and seeded gaps between commits, and sorted directory walks. The
same --src, --seed, --commits and options give the same commit IDs.

After the import the repository is repacked (default
`git repack -adf --window=10 --depth=50`; `git gc --aggressive` is far too
slow for a 2 GB history on 2 cores), `main` is checked out (unless
--no-checkout), and statistics are printed and written, with the planted
secrets, to OUT.manifest.json (next to the repository, not inside it).

Usage
-----
    nice -n 10 python3 benches/make_history_repo.py \
        [--src /work/bench-data/linux-source-6.1] \
        [--out /work/bench-data/history-repo] \
        [--commits 24000] [--seed 1] [--force]

Reference run (2 cores, shared with a cargo build; defaults, seed 1, on
linux-source-6.1): 24,000 commits, 4 branches, 2 merges, 120,327 unique
blobs totalling 1,803,102,362 bytes, 272 MB pack; fast-import 168 s,
repack 247 s, checkout 23 s, 7.4 min in all, 1.1 GB peak RSS (the edited
files' current contents are kept in memory).

Other options: --secrets N, --max-edit-size BYTES, --repack {repack,gc,none},
--no-checkout. Run with --help for all. Standard library only; needs git.
Run the heavy build under `nice -n 10` on a shared machine.
"""

import argparse
import base64
import collections
import json
import os
import random
import shutil
import string
import subprocess
import sys
import time

MAIN = "main"
TOPICS = [
    # name, fork point and merge point as fractions of --commits
    # (merge None = never merged), files claimed from main at fork time
    ("topic/alpha", 0.20, 0.32, 300),
    ("topic/beta", 0.45, 0.62, 300),
    ("topic/gamma", 0.78, None, 200),
]
TOPIC_SHARE = 0.35          # chance that a step goes to an active topic
INITIAL_IMPORT = 0.05       # share of the source files in the first commit
START_DATE = 1420070400     # 2015-01-01T00:00:00Z
FIRST_NAMES = ["Ada", "Boris", "Chen", "Dana", "Emeka", "Farah", "Goran",
               "Hana", "Ivan", "Jun", "Kavya", "Lars", "Mei", "Nikos"]
LAST_NAMES = ["Andersen", "Brooks", "Costa", "Dubois", "Eriksen", "Fischer",
              "Garcia", "Haddad", "Ito", "Jensen", "Kowalski"]
TIMEZONES = ["+0000", "+0100", "-0500", "+0530", "+0900", "-0800"]


def parse_args():
    p = argparse.ArgumentParser(
        description="Build a large deterministic git history from a source "
                    "tree via git fast-import (see module docstring).")
    p.add_argument("--src", default="/work/bench-data/linux-source-6.1",
                   help="source tree whose files are replayed")
    p.add_argument("--out", default="/work/bench-data/history-repo",
                   help="repository to create (must not exist, see --force)")
    p.add_argument("--commits", type=int, default=24000,
                   help="total number of commits, merges included")
    p.add_argument("--seed", type=int, default=1, help="RNG seed")
    p.add_argument("--secrets", type=int, default=64,
                   help="number of fake secrets to plant in the history")
    p.add_argument("--max-edit-size", type=int, default=512 * 1024,
                   help="only files up to this size are edited")
    p.add_argument("--repack", choices=["repack", "gc", "none"],
                   default="repack",
                   help="post-import packing: 'git repack -adf --window=10 "
                        "--depth=50' (default), plain 'git gc', or nothing")
    p.add_argument("--no-checkout", action="store_true",
                   help="leave the work tree empty (no index either)")
    p.add_argument("--force", action="store_true",
                   help="delete --out first if it exists")
    return p.parse_args()


def log(msg):
    print(f"[make_history_repo {time.strftime('%H:%M:%S')}] {msg}",
          file=sys.stderr, flush=True)


def quote_path(path):
    """C-style quote a path (bytes) for the fast-import stream."""
    out = bytearray(b'"')
    for b in path:
        if b == 0x22:
            out += b'\\"'
        elif b == 0x5C:
            out += b'\\\\'
        elif b < 0x20 or b == 0x7F:
            out += b"\\%03o" % b
        else:
            out.append(b)
    out += b'"'
    return bytes(out)


class IndexedSet:
    """Set with O(1) add, remove and uniform random choice (deterministic
    given the same sequence of operations)."""

    def __init__(self):
        self.items = []
        self.pos = {}

    def __len__(self):
        return len(self.items)

    def __contains__(self, x):
        return x in self.pos

    def add(self, x):
        if x not in self.pos:
            self.pos[x] = len(self.items)
            self.items.append(x)

    def remove(self, x):
        i = self.pos.pop(x)
        last = self.items.pop()
        if i < len(self.items):
            self.items[i] = last
            self.pos[last] = i

    def choice(self, rng):
        return self.items[rng.randrange(len(self.items))]


class FileState:
    __slots__ = ("mark", "mode", "src", "content", "size", "owner", "text")

    def __init__(self, mark, mode, src, size, owner, text):
        self.mark = mark        # fast-import mark of the current blob
        self.mode = mode        # b"100644", b"100755" or b"120000"
        self.src = src          # source file (content read lazily) ...
        self.content = None     # ... until edited: then kept in memory
        self.size = size
        self.owner = owner      # branch allowed to change it
        self.text = text        # editable as lines


class Branch:
    def __init__(self, name):
        self.name = name
        self.files = IndexedSet()                      # paths it may change
        self.hot = collections.deque(maxlen=256)      # recently touched
        self.tip = None                                # mark of last commit
        self.changes = {}       # topics: path -> FileState or None (deleted)
        self.base_paths = set()  # topics: claimed paths that exist on main
        self.commits = 0


def scan_source(src):
    """Sorted list of (relpath bytes, abspath, mode, size) under src;
    directories are shuffled later, files stay sorted within a directory."""
    src_b = os.fsencode(os.path.abspath(src))
    dirs = []
    all_dirs = set()
    for root, dirnames, filenames in os.walk(src_b):
        dirnames.sort()
        rel_root = os.path.relpath(root, src_b)
        rel_root = b"" if rel_root == b"." else rel_root + b"/"
        entries = []
        for fn in sorted(filenames):
            ap = os.path.join(root, fn)
            st = os.lstat(ap)
            if os.path.islink(ap):
                mode = b"120000"
            elif not os.path.isfile(ap):
                continue
            elif st.st_mode & 0o111:
                mode = b"100755"
            else:
                mode = b"100644"
            entries.append((rel_root + fn, ap, mode, st.st_size))
        for d in dirnames:
            all_dirs.add(rel_root + d)
        if entries:
            dirs.append(entries)
    return dirs, all_dirs


def is_text(data):
    return b"\0" not in data[:8192]


class FakeSecrets:
    """Generates credential-shaped strings from the seeded RNG. They are
    random, so they are not anyone's credentials."""

    KINDS = ["aws", "github", "slack", "private-key", "password"]

    def __init__(self, rng):
        self.rng = rng

    def _rand(self, alphabet, n):
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def make(self, kind):
        an = string.ascii_letters + string.digits
        if kind == "aws":
            key_id = "AKIA" + self._rand(string.ascii_uppercase + "234567", 16)
            secret = self._rand(an + "+/", 40)
            lines = [f'aws_access_key_id = "{key_id}"',
                     f'aws_secret_access_key = "{secret}"']
            value = key_id
        elif kind == "github":
            value = "ghp_" + self._rand(an, 36)
            lines = [f'static const char *gh_token = "{value}";']
        elif kind == "slack":
            value = "-".join(["xoxb", self._rand(string.digits, 12),
                              self._rand(string.digits, 13),
                              self._rand(an, 24)])
            lines = [f'SLACK_BOT_TOKEN="{value}"']
        elif kind == "private-key":
            raw = bytes(self.rng.getrandbits(8) for _ in range(192))
            b64 = base64.b64encode(raw).decode()
            body = [b64[i:i + 64] for i in range(0, len(b64), 64)]
            head = "-----BEGIN RSA " + "PRIVATE KEY-----"
            lines = [head] + body + ["-----END RSA " + "PRIVATE KEY-----"]
            value = body[0]
        else:
            value = self._rand(an + "!#%&*", 20)
            lines = [f'db_password = "{value}"']
        return value, [l.encode() for l in lines]


class Builder:
    def __init__(self, args, stream):
        self.args = args
        self.rng = random.Random(args.seed)
        self.secret_rng = random.Random(args.seed * 7919 + 17)
        self.out = stream
        self.next_mark = 1
        self.files = {}                         # path -> FileState (latest)
        self.branches = {MAIN: Branch(MAIN)}
        self.date = START_DATE
        self.reserved = set()                   # every path ever used
        self.rename_counter = 0
        self.edit_counter = 0
        self.stats = collections.Counter()
        self.planted = []                       # manifest entries
        self.pending_removals = []      # (due, branch, path, lines, entry)
        self.notes = []                 # manifest fields to set at commit
        self.authors = [(f, l) for f in FIRST_NAMES for l in LAST_NAMES]
        random.Random(args.seed + 1).shuffle(self.authors)
        self.authors = self.authors[:40]

    # ---------------------------------------------------------------- stream
    def mark(self):
        m = self.next_mark
        self.next_mark += 1
        return m

    def emit_blob(self, data):
        m = self.mark()
        self.out.write(b"blob\nmark :%d\ndata %d\n" % (m, len(data)))
        self.out.write(data)
        self.out.write(b"\n")
        self.stats["blobs_written"] += 1
        self.stats["blob_bytes_written"] += len(data)
        return m

    def emit_commit(self, branch, message, ops, parent=None, merge=None):
        m = self.mark()
        self.date += self.rng.randint(60, 4 * 3600)
        name, last = self.authors[self.rng.randrange(len(self.authors))]
        tz = TIMEZONES[(len(name) + len(last)) % len(TIMEZONES)]
        ident = f"{name} {last} <{name.lower()}.{last.lower()}@example.org>"
        who = f"{ident} {self.date} {tz}".encode()
        msg = message.encode()
        w = self.out.write
        w(b"commit refs/heads/%s\nmark :%d\n" % (branch.name.encode(), m))
        w(b"author " + who + b"\ncommitter " + who + b"\n")
        w(b"data %d\n" % len(msg) + msg + b"\n")
        if parent is not None:
            w(b"from :%d\n" % parent)
        if merge is not None:
            w(b"merge :%d\n" % merge)
        for op in ops:
            w(op + b"\n")
        w(b"\n")
        branch.tip = m
        branch.commits += 1
        self.stats["commits"] += 1
        if self.stats["commits"] % 1000 == 0:
            w(b"progress %d commits\n" % self.stats["commits"])
        return m

    # ------------------------------------------------------------- content
    def content(self, fs):
        if fs.content is not None:
            return fs.content
        if fs.mode == b"120000":
            return os.fsencode(os.readlink(fs.src))
        with open(fs.src, "rb") as f:
            return f.read()

    def record_change(self, branch, path, fs):
        if branch.name != MAIN:
            branch.changes[path] = fs

    # ----------------------------------------------------------- operations
    def op_add(self, branch, entry):
        path, src, mode, size = entry
        fs = FileState(0, mode, src, size, branch.name, False)
        data = self.content(fs)
        fs.mark = self.emit_blob(data)
        fs.text = (mode != b"120000" and size <= self.args.max_edit_size
                   and is_text(data))
        self.files[path] = fs
        branch.files.add(path)
        branch.hot.append(path)
        self.record_change(branch, path, fs)
        self.stats["adds"] += 1
        return b"M " + mode + b" :%d " % fs.mark + quote_path(path)

    def pick(self, branch, want_text, hot=True):
        for _ in range(16):
            if hot and branch.hot and self.rng.random() < 0.5:
                path = branch.hot[self.rng.randrange(len(branch.hot))]
                if path not in branch.files:
                    continue
            elif len(branch.files):
                path = branch.files.choice(self.rng)
            else:
                return None
            fs = self.files[path]
            if not want_text or fs.text:
                return path
        return None

    def new_line(self):
        self.edit_counter += 1
        words = ["fix", "tune", "check", "handle", "update", "note",
                 "clean up", "guard", "rework", "document"]
        w = self.rng.choice(words)
        return (b"/* bench: %s path %d (rev %d) */"
                % (w.encode(), self.rng.randrange(1 << 20), self.edit_counter))

    def edit_lines(self, lines):
        """Apply 1-3 random line edits in place; always changes content."""
        for _ in range(self.rng.randint(1, 3)):
            kind = self.rng.random()
            n = len(lines)
            if kind < 0.30 or n == 0:                     # append
                lines.extend(self.new_line()
                             for _ in range(self.rng.randint(1, 6)))
            elif kind < 0.65:                             # insert
                at = self.rng.randrange(n + 1)
                lines[at:at] = [self.new_line()
                                for _ in range(self.rng.randint(1, 6))]
            elif kind < 0.85:                             # delete
                at = self.rng.randrange(n)
                del lines[at:at + self.rng.randint(1, 4)]
            else:                                         # replace
                at = self.rng.randrange(n)
                lines[at] = self.new_line()

    def op_edit(self, branch, path, extra_lines=None, remove_lines=None):
        fs = self.files[path]
        data = self.content(fs)
        lines = data.split(b"\n")
        if remove_lines:
            # drop the planted lines (later edits may have split the block)
            found = [l for l in remove_lines if l in lines]
            if not found:
                return None
            for l in found:
                lines.remove(l)
            lines.insert(self.rng.randrange(len(lines) + 1), self.new_line())
        else:
            self.edit_lines(lines)
        if extra_lines:
            at = self.rng.randrange(len(lines) + 1)
            lines[at:at] = extra_lines
        new = b"\n".join(lines)
        if new == data:
            new += b"\n" + self.new_line()
        fs.content = new
        fs.size = len(new)
        fs.mark = self.emit_blob(new)
        branch.hot.append(path)
        self.record_change(branch, path, fs)
        self.stats["edits"] += 1
        return b"M " + fs.mode + b" :%d " % fs.mark + quote_path(path)

    def op_rename(self, branch, path):
        fs = self.files[path]
        d, _, base = path.rpartition(b"/")
        stem, dot, ext = base.partition(b".")
        while True:
            self.rename_counter += 1
            if self.rng.random() < 0.7 or not d:
                new_base = b"%s_v%d%s%s" % (stem, self.rename_counter, dot, ext)
                new = (d + b"/" if d else b"") + new_base
            else:
                new = d + b"/moved%d/" % (self.rename_counter % 7) + base
            if new not in self.reserved:
                break
        self.reserved.add(new)
        del self.files[path]
        branch.files.remove(path)
        self.files[new] = fs
        branch.files.add(new)
        branch.hot.append(new)
        if branch.name != MAIN:
            branch.changes[path] = None
            branch.changes[new] = fs
        for k, item in enumerate(self.pending_removals):
            if item[2] == path:     # keep following a planted secret
                self.pending_removals[k] = item[:2] + (new,) + item[3:]
        self.stats["renames"] += 1
        return b"R " + quote_path(path) + b" " + quote_path(new)

    def op_delete(self, branch, path):
        del self.files[path]
        branch.files.remove(path)
        if branch.name != MAIN:
            branch.changes[path] = None
        for item in list(self.pending_removals):
            if item[2] == path:     # the file with a planted secret goes
                self.pending_removals.remove(item)
                self.notes.append(("removed_in_commit", item[4]))
        self.stats["deletes"] += 1
        return b"D " + quote_path(path)

    # ---------------------------------------------------------- commit kinds
    def area(self, path):
        parts = path.decode("utf-8", "replace").split("/")
        return "/".join(parts[:2]) if len(parts) > 2 else (
            parts[0] if len(parts) == 2 else "toplevel")

    def regular_commit(self, branch, i, pool, add_rate):
        ops, touched, desc = [], {}, []   # touched: ordered
        # additions, clustered: consecutive entries of the pool
        n_add = min(len(pool), int(self.rng.expovariate(1.0 / add_rate))
                    if add_rate > 0 else 0)
        for _ in range(n_add):
            entry = pool.popleft()
            ops.append(self.op_add(branch, entry))
            touched.setdefault(entry[0], True)
        if n_add:
            desc.append(f"add {n_add} file{'s' if n_add > 1 else ''}")
        # scheduled removals of planted secrets
        for item in list(self.pending_removals):
            due, bname, path, block, entry = item
            if bname != branch.name or due > i:
                continue
            self.pending_removals.remove(item)
            if path in branch.files and path not in touched:
                op = self.op_edit(branch, path, remove_lines=block)
                if op:
                    ops.append(op)
                    touched.setdefault(path, True)
                    desc.append("remove leaked credential")
                    self.notes.append(("removed_in_commit", entry))
        # edits
        edited = []
        if self.rng.random() < 0.85 or not ops:
            for _ in range(self.rng.choice([1, 1, 1, 2, 2, 3, 4])):
                path = self.pick(branch, want_text=True)
                if path is None or path in touched:
                    continue
                plant = None
                if self.planted_due and self.planted_due[0] <= i:
                    self.planted_due.pop(0)
                    plant = self.plant(branch, path)
                ops.append(self.op_edit(branch, path, extra_lines=plant))
                touched.setdefault(path, True)
                edited.append(path)
            if edited:
                more = f" and {len(edited) - 1} more" if len(edited) > 1 else ""
                desc.append("update " + os.path.basename(edited[0]).decode(
                    "utf-8", "replace") + more)
        # occasional rename / delete
        if self.rng.random() < 0.04:
            path = self.pick(branch, want_text=False, hot=False)
            if path is not None and path not in touched and \
                    self.files[path].mode != b"120000":
                ops.append(self.op_rename(branch, path))
                touched.setdefault(path, True)
                desc.append("rename " + os.path.basename(path).decode(
                    "utf-8", "replace"))
        if self.rng.random() < 0.03:
            gone = 0
            for _ in range(self.rng.randint(1, 3)):
                path = self.pick(branch, want_text=False, hot=False)
                if path is not None and path not in touched:
                    ops.append(self.op_delete(branch, path))
                    touched.setdefault(path, True)
                    gone += 1
            if gone:
                desc.append(f"remove {gone} obsolete file{'s' if gone > 1 else ''}")
        if not ops:                 # nothing happened: force an append
            path = self.pick(branch, want_text=True)
            if path is None and pool:
                ops.append(self.op_add(branch, pool.popleft()))
            elif path is not None:
                ops.append(self.op_edit(branch, path))
                touched.setdefault(path, True)
        area = self.area(next(iter(touched))) if touched else "tree"
        msg = f"{area}: {', '.join(desc) or 'misc updates'}\n"
        m = self.emit_commit(branch, msg, ops)
        for key, entry in self.notes:
            entry[key] = m         # commit mark, turned into an ID later
        self.notes.clear()

    def plant(self, branch, path):
        kind = FakeSecrets.KINDS[len(self.planted) % len(FakeSecrets.KINDS)]
        value, block = self.fakes.make(kind)
        entry = {"kind": kind, "value": value,
                 "lines": [l.decode() for l in block],
                 "branch": branch.name,
                 "path_at_plant": path.decode("utf-8", "replace"),
                 "commit": None, "removed_in_commit": None}
        self.planted.append(entry)
        self.notes.append(("commit", entry))
        if self.secret_rng.random() < 0.75:   # most leaks get cleaned up
            due = self.step + self.secret_rng.randint(5, 400)
            self.pending_removals.append((due, branch.name, path, block,
                                          entry))
        return block

    def fork(self, name, claim):
        main = self.branches[MAIN]
        t = Branch(name)
        self.branches[name] = t
        for _ in range(min(claim, len(main.files) // 4)):
            path = self.pick(main, want_text=True)
            if path is None or path in t.files:
                continue
            main.files.remove(path)
            t.files.add(path)
            t.base_paths.add(path)
            self.files[path].owner = name
        return t

    def merge(self, t):
        main = self.branches[MAIN]
        ops = []
        for path in sorted(t.changes):
            fs = t.changes[path]
            if fs is None:
                if path in t.base_paths:
                    ops.append(b"D " + quote_path(path))
            else:
                ops.append(b"M " + fs.mode + b" :%d " % fs.mark
                           + quote_path(path))
        for path in list(t.files.items):
            t.files.remove(path)
            main.files.add(path)
            self.files[path].owner = MAIN
        self.emit_commit(main, f"Merge branch '{t.name}'\n", ops,
                         parent=main.tip, merge=t.tip)
        self.stats["merges"] += 1

    # ----------------------------------------------------------------- main
    def run(self, dirs, all_dirs):
        n = self.args.commits
        for entries in dirs:
            for e in entries:
                self.reserved.add(e[0])
        self.reserved |= all_dirs
        order = list(range(len(dirs)))
        self.rng.shuffle(order)
        pool = collections.deque(e for k in order for e in dirs[k])
        total_files = len(pool)
        self.fakes = FakeSecrets(self.secret_rng)
        self.planted_due = sorted(self.secret_rng.sample(
            range(n // 20, n), min(self.args.secrets, max(0, n - n // 20))))
        main = self.branches[MAIN]

        # root commit: the initial import
        initial = collections.deque(
            pool.popleft() for _ in range(int(total_files * INITIAL_IMPORT)))
        ops = [self.op_add(main, e) for e in initial]
        self.emit_commit(main, "Initial import\n", ops)

        forks = {int(f * n): (name, claim) for name, f, _, claim in TOPICS}
        merges = {int(m * n): name for name, _, m, _ in TOPICS if m}
        active = []
        for i in range(1, n):
            self.step = i
            remaining = n - i
            add_rate = len(pool) / max(1.0, remaining * 0.9)
            if i in merges:
                t = self.branches[merges[i]]
                active.remove(t)
                self.merge(t)
                continue
            if i in forks:
                name, claim = forks[i]
                t = self.fork(name, claim)
                active.append(t)
                branch = t
            elif active and self.rng.random() < TOPIC_SHARE:
                branch = active[self.rng.randrange(len(active))]
            else:
                branch = main
            if branch.commits == 0 and branch is not main:
                self.out.write(b"reset refs/heads/%s\nfrom :%d\n\n"
                               % (branch.name.encode(), main.tip))
            self.regular_commit(branch, i, pool, add_rate)
            if i % 2000 == 0:
                log(f"{i}/{n} commits generated, {len(pool)} files left "
                    f"in pool, {self.stats['blob_bytes_written'] >> 20} MiB "
                    f"of blobs written")
        # anything left in the pool goes into one final commit on main
        if pool:
            log(f"{len(pool)} source files never added (pool not exhausted)")
        self.out.write(b"done\n")


def git(repo, *args, capture=False):
    cmd = ["git", "-C", repo, *args]
    if capture:
        return subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                              text=True, errors="replace").stdout
    subprocess.run(cmd, check=True)
    return None


def repo_stats(repo):
    blobs = blob_bytes = 0
    out = subprocess.run(
        ["git", "-C", repo, "cat-file", "--batch-all-objects",
         "--batch-check=%(objecttype) %(objectsize)"],
        check=True, stdout=subprocess.PIPE, text=True).stdout
    for line in out.splitlines():
        kind, size = line.split()
        if kind == "blob":
            blobs += 1
            blob_bytes += int(size)
    counts = {}
    for line in git(repo, "count-objects", "-v", capture=True).splitlines():
        k, _, v = line.partition(": ")
        counts[k] = v
    branches = git(repo, "for-each-ref", "--format=%(refname:short)",
                   "refs/heads", capture=True).split()
    return {
        "commits": int(git(repo, "rev-list", "--all", "--count",
                           capture=True)),
        "merge_commits": int(git(repo, "rev-list", "--all", "--merges",
                                 "--count", capture=True)),
        "branches": branches,
        "unique_blobs": blobs,
        "unique_blob_bytes": blob_bytes,
        "pack_size_bytes": int(counts.get("size-pack", "0")) * 1024,
        "head": git(repo, "rev-parse", "main", capture=True).strip(),
        "head_tree_files": len(git(repo, "ls-tree", "-r", "--name-only",
                                   "-z", "main", capture=True).split("\0"))
        - 1,
    }


def main():
    args = parse_args()
    out = os.path.abspath(args.out)
    if os.path.exists(out):
        if not args.force:
            sys.exit(f"{out} exists; pass --force to replace it")
        shutil.rmtree(out)
    if args.commits < 10:
        sys.exit("--commits must be at least 10")
    timings = {}
    t0 = time.monotonic()
    log(f"scanning {args.src}")
    dirs, all_dirs = scan_source(args.src)
    log(f"{sum(len(d) for d in dirs)} files in {len(dirs)} directories")

    subprocess.run(["git", "init", "-q", "-b", MAIN, out], check=True)
    git(out, "config", "gc.auto", "0")
    marks_file = out + ".marks"
    imp = subprocess.Popen(
        ["git", "-C", out, "fast-import", "--quiet", "--done",
         f"--export-marks={marks_file}"],
        stdin=subprocess.PIPE, stdout=sys.stderr, bufsize=1 << 20)
    builder = Builder(args, imp.stdin)
    try:
        builder.run(dirs, all_dirs)
    finally:
        imp.stdin.close()
    if imp.wait() != 0:
        sys.exit("git fast-import failed")
    timings["import_s"] = round(time.monotonic() - t0, 1)
    log(f"fast-import done in {timings['import_s']} s: "
        f"{dict(builder.stats)}")

    # resolve commit marks of planted secrets to commit IDs
    marks = {}
    with open(marks_file) as f:
        for line in f:
            m, sha = line.split()
            marks[int(m[1:])] = sha
    os.remove(marks_file)
    for p in builder.planted:
        for key in ("commit", "removed_in_commit"):
            if p[key] is not None:
                p[key] = marks[p[key]]

    t1 = time.monotonic()
    if args.repack == "repack":
        log("git repack -adf --window=10 --depth=50")
        git(out, "repack", "-adf", "--window=10", "--depth=50", "-q")
    elif args.repack == "gc":
        log("git gc")
        git(out, "gc", "-q")
    timings["repack_s"] = round(time.monotonic() - t1, 1)
    log(f"packing ({args.repack}) took {timings['repack_s']} s")

    if not args.no_checkout:
        t2 = time.monotonic()
        git(out, "reset", "-q", "--hard", MAIN)
        timings["checkout_s"] = round(time.monotonic() - t2, 1)
        log(f"checkout took {timings['checkout_s']} s")
    timings["total_s"] = round(time.monotonic() - t0, 1)

    stats = repo_stats(out)
    stats["operations"] = {k: builder.stats[k] for k in
                           ("adds", "edits", "renames", "deletes", "merges")}
    stats["timings"] = timings
    stats["args"] = {k: v for k, v in vars(args).items()}
    stats["planted_secrets"] = builder.planted
    manifest = out + ".manifest.json"
    with open(manifest, "w") as f:
        json.dump(stats, f, indent=1)
    summary = {k: v for k, v in stats.items() if k != "planted_secrets"}
    summary["planted_secrets"] = len(builder.planted)
    print(json.dumps(summary, indent=1))
    log(f"manifest written to {manifest}")


if __name__ == "__main__":
    main()
