#!/usr/bin/env python3
"""Fails when a module of src/ imports a stage downstream of it.

leakscan's stages flow one way (see ARCHITECTURE.md). Each top-level module
of src/ has a level; a module may use `crate::X` only when X's level is
lower than its own, or X is shared (error, exit, stats, paths). `cli` may be
used only by settings and commands (and main, which is the binary). Run by
.ci/run; `--self-test` proves the check fails on a planted violation.

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


def module_of(src, path):
    rel = os.path.relpath(path, src).split(os.sep)
    return rel[0][:-3] if rel[0].endswith(".rs") else rel[0]


def imports(text):
    text = re.sub(r"//[^\n]*", "", text)  # comments and doc comments
    found = set(USE.findall(text))
    for g in GROUP.findall(text):
        for part in g.split(","):
            name = part.strip().split("::")[0].strip()
            if name:
                found.add(name)
    return found


def check(src):
    problems = []
    for dirpath, _, files in os.walk(src):
        for f in sorted(files):
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            me = module_of(src, path)
            if me in ("lib", "main") or me in SHARED:
                if me in SHARED:
                    for dep in imports(open(path, encoding="utf-8").read()):
                        if dep not in SHARED:
                            problems.append(f"{path}: shared module `{me}` uses `{dep}`")
                continue
            if me not in LEVELS:
                problems.append(f"{path}: module `{me}` has no level in scripts/check-layers.py")
                continue
            for dep in sorted(imports(open(path, encoding="utf-8").read())):
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


def self_test():
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "matcher"))
        with open(os.path.join(d, "matcher", "mod.rs"), "w") as f:
            f.write("use crate::rules::RuleSet;\nuse crate::{finding::Finding, stats};\n")
        with open(os.path.join(d, "report.rs"), "w") as f:
            f.write("// crate::commands in a comment is fine\nuse crate::cli::Cli;\n")
        got = check(d)
    want = ["`matcher` (level 2) uses `finding`", "`report` uses `cli`"]
    missing = [w for w in want if not any(w in p for p in got)]
    if missing or len(got) != 2:
        print("check-layers self-test FAILED:", got, file=sys.stderr)
        return 1
    print("check-layers self-test: ok (2 planted violations found)")
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
