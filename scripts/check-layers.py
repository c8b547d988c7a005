#!/usr/bin/env python3
"""Fails when a module of src/ imports a stage downstream of it.

leakscan's stages flow one way (see ARCHITECTURE.md). Each top-level module
of src/ has a level; a module may use `crate::X` only when X's level is
lower than its own, or X is shared (error, exit, stats, paths). `cli` may be
used only by settings and commands (and main, which is the binary).

Two more rules:
- `src/git/` is the only door to git: no `git2` (libgit2) outside it; the
  object id type is named `git::Oid` elsewhere. This holds for the crate
  root `src/lib.rs` too (its fuzzing entry points may drive any stage, as
  `main` does, but only through modules that exist and never through
  libgit2).
- Subcommands do not import each other: a module of `commands/X` may not use
  `commands::Y` (shared work belongs in a stage below `commands`, or in
  `commands/mod.rs` itself).

Run by .ci/run; `--self-test` proves the check fails on each planted
violation.

Usage: scripts/check-layers.py [SRC_DIR] | --self-test
"""
import os
import re
import sys
import tempfile

SHARED = {"error", "exit", "stats", "paths"}
LEVELS = {
    "rules": 1, "git": 1, "blob": 1, "archive": 1,
    "config": 2, "source": 2, "matcher": 2,
    "finding": 3,
    "suppress": 4, "verify": 4,
    "report": 5,
    "progress": 6,
    "pipeline": 7,
    "cli": 8,
    "settings": 9,
    "outcome": 10,
    "commands": 11,
}
CLI_USERS = {"settings", "commands"}
USE = re.compile(r"\bcrate::([a-z_]+)")
# `use crate::{a, b::c}` groups.
GROUP = re.compile(r"\buse\s+crate::\{([^}]*)\}", re.S)
# libgit2's crate, named anywhere (paths, `use git2`, `extern crate git2`).
GIT2 = re.compile(r"\bgit2\b\s*(::|;|\bas\b)|\bextern\s+crate\s+git2\b")
# `super::x`, `super::super::x`, and `super::{x, y}` groups.
SUPER = re.compile(r"\b((?:super::)+)(?:([a-z_][a-z0-9_]*)|\{([^}]*)\})", re.S)
COMMANDS_PATH = re.compile(r"\bcrate::commands::(?:([a-z_][a-z0-9_]*)|\{([^}]*)\})", re.S)


def module_of(src, path):
    rel = os.path.relpath(path, src).split(os.sep)
    return rel[0][:-3] if rel[0].endswith(".rs") else rel[0]


def code(text):
    """The text without comments and string literals' contents."""
    text = re.sub(r"//[^\n]*", "", text)  # comments and doc comments
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def imports(text):
    text = code(text)
    found = set(USE.findall(text))
    for g in GROUP.findall(text):
        for part in g.split(","):
            name = part.strip().split("::")[0].strip()
            if name:
                found.add(name)
    return found


def module_path(src, path):
    """`src/commands/push/client.rs` → ["commands", "push", "client"]."""
    rel = os.path.relpath(path, src).split(os.sep)
    last = rel[-1][:-3]
    parts = rel[:-1] + ([] if last in ("mod", "lib", "main") else [last])
    return parts


def names(single, group):
    if single:
        return [single]
    out = []
    for part in (group or "").split(","):
        name = part.strip().split("::")[0].strip()
        if name and name != "self":
            out.append(name)
    return out


def sibling_commands(src, path, text):
    """Sibling subcommands a module of commands/X uses."""
    me = module_path(src, path)
    if len(me) < 2 or me[0] != "commands":
        return []
    cmd_dir = os.path.join(src, "commands")
    commands = {f[:-3] for f in os.listdir(cmd_dir) if f.endswith(".rs") and f != "mod.rs"}
    commands |= {d for d in os.listdir(cmd_dir) if os.path.isdir(os.path.join(cmd_dir, d))}
    text = code(text)
    used = set()
    for m in COMMANDS_PATH.finditer(text):
        used.update(names(m.group(1), m.group(2)))
    for m in SUPER.finditer(text):
        ups = m.group(1).count("super::")
        # `super` from a file's own module: mod.rs is its directory's module.
        base = me[:len(me) - ups] if ups <= len(me) else []
        if base == ["commands"]:
            used.update(names(m.group(2), m.group(3)))
    return sorted(u for u in used if u in commands and u != me[1])


def check(src):
    problems = []
    for dirpath, _, files in os.walk(src):
        for f in sorted(files):
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            me = module_of(src, path)
            if me == "lib":
                text = open(path, encoding="utf-8").read()
                if GIT2.search(code(text)):
                    problems.append(
                        f"{path}: the crate root uses `git2` (libgit2 is used only inside "
                        "src/git/; name object ids `git::Oid`)")
                for dep in sorted(imports(text)):
                    if dep not in LEVELS and dep not in SHARED:
                        problems.append(f"{path}: the crate root uses unknown module `{dep}`")
                continue
            if me == "main" or me in SHARED:
                if me in SHARED:
                    for dep in imports(open(path, encoding="utf-8").read()):
                        if dep not in SHARED:
                            problems.append(f"{path}: shared module `{me}` uses `{dep}`")
                continue
            if me not in LEVELS:
                problems.append(f"{path}: module `{me}` has no level in scripts/check-layers.py")
                continue
            text = open(path, encoding="utf-8").read()
            if me != "git" and GIT2.search(code(text)):
                problems.append(
                    f"{path}: `{me}` uses `git2` (libgit2 is used only inside src/git/; "
                    "name object ids `git::Oid`)")
            for dep in sibling_commands(src, path, text):
                problems.append(
                    f"{path}: subcommand `{module_path(src, path)[1]}` uses its sibling `commands::{dep}`")
            for dep in sorted(imports(text)):
                if dep == me or dep in SHARED:
                    continue
                if dep == "cli" and me not in CLI_USERS:
                    problems.append(f"{path}: `{me}` uses `cli` (only settings and commands may)")
                elif dep not in LEVELS:
                    problems.append(f"{path}: `{me}` uses unknown module `{dep}`")
                elif LEVELS[dep] >= LEVELS[me]:
                    problems.append(
                        f"{path}: `{me}` (level {LEVELS[me]}) uses `{dep}` (level {LEVELS[dep]}), "
                        "which is not upstream of it")
    return problems


PLANTED = {
    # file: (text, the problem it must raise)
    "matcher/mod.rs": ("use crate::rules::RuleSet;\nuse crate::{finding::Finding, stats};\n",
                       "`matcher` (level 2) uses `finding`"),
    "report.rs": ("// crate::commands in a comment is fine\nuse crate::cli::Cli;\n",
                  "`report` uses `cli`"),
    "pipeline/walk.rs": ("// git2::Oid in a comment is fine\nfn f(id: git2::Oid) {}\n",
                         "`pipeline` uses `git2`"),
    "finding/commit.rs": ('use git2;\nconst S: &str = "git2::Oid";\n', "`finding` uses `git2`"),
    "commands/push/mod.rs": ("fn f() { super::history::collect(); }\n",
                             "subcommand `push` uses its sibling `commands::history`"),
    "commands/sweep/scan.rs": ("use crate::commands::{scan, sweep::key};\nuse super::key::Key;\n",
                               "subcommand `sweep` uses its sibling `commands::scan`"),
    "commands/staged.rs": ("use super::{hook, self as me};\n",
                           "subcommand `staged` uses its sibling `commands::hook`"),
    "lib.rs": ("pub mod git;\npub mod fuzzing { pub fn f() { let _ = git2::Oid::zero(); } }\n",
               "the crate root uses `git2`"),
}
# Files that must raise nothing: libgit2 inside src/git/, a command's own
# submodules, the dispatcher.
CLEAN = {
    "git/mod.rs": "pub use git2::Oid;\nuse git2::Repository;\n",
    "commands/mod.rs": "pub mod history;\nfn run() { history::run(); scan::run(); }\n",
    "commands/history.rs": "use super::super::error::Error;\n",
    "commands/scan.rs": "",
    "commands/hook.rs": "",
    "commands/sweep/key.rs": "use super::scan::Sweeper;\n",
    # The crate root may drive any stage (fuzzing entry points), `cli` too.
    "lib.rs": "pub mod git;\nfn f() { crate::commands::run(crate::cli::parse()); crate::git::open(); }\n",
}


def self_test():
    """Each planted violation alone must fail the check with its message;
    the clean files together must pass."""
    failures = []
    for planted, (text, want) in PLANTED.items():
        with tempfile.TemporaryDirectory() as d:
            for rel, body in list(CLEAN.items()) + [(planted, text)]:
                os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
                with open(os.path.join(d, rel), "w") as f:
                    f.write(body)
            got = check(d)
        if not got or not any(want in p for p in got) or len(got) != 1:
            failures.append(f"{planted}: want exactly [{want}], got {got}")
    with tempfile.TemporaryDirectory() as d:
        for rel, body in CLEAN.items():
            os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(d, rel), "w") as f:
                f.write(body)
        got = check(d)
    if got:
        failures.append(f"clean tree: want no problem, got {got}")
    if failures:
        for f in failures:
            print("check-layers self-test FAILED:", f, file=sys.stderr)
        return 1
    print(f"check-layers self-test: ok ({len(PLANTED)} planted violations found, one at a time; "
          "the clean tree passes)")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")
    problems = check(src)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"check-layers: {len(problems)} import(s) against the stage order", file=sys.stderr)
        return 1
    print("check-layers: every module imports only stages upstream of it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
