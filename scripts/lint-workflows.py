#!/usr/bin/env python3
"""Checks what actionlint and zizmor do not insist on, in every GitHub
workflow (.github/workflows/*.yml) and action (action.yml) of the repository:

- every `uses:` of another repository's action is pinned to a full 40-hex
  commit id and carries the version it stands for in a comment
  (`uses: actions/checkout@<40 hex> # v6.0.2`), so that dependabot and a
  reader can tell what it is; a Docker action is pinned by sha256 digest;
- no workflow runs on `pull_request_target` (it runs with the target
  repository's token and secrets, next to a pull request's untrusted code).

Usage: lint-workflows.py [ROOT | FILE...]   (default: the repository root)
Prints one line per problem (FILE:LINE: message) and exits 1 if there is
any, 0 if none, 2 if nothing was found to check.
"""

import pathlib
import re
import sys

USES = re.compile(r"""^\s*(?:-\s+)?uses:\s*(?P<q>["']?)(?P<ref>[^\s"'#]+)(?P=q)\s*(?P<comment>#.*)?$""")
FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
DOCKER_DIGEST = re.compile(r"^docker://[^@\s]+@sha256:[0-9a-f]{64}$")
VERSION_COMMENT = re.compile(r"#\s*v?\d+(\.\d+)*\S*")
TRIGGER = re.compile(r"^\s*(?:-\s+)?[\"']?pull_request_target[\"']?\s*:?")


def check_text(name, text):
    """Returns the list of problems in one workflow or action file."""
    problems = []
    in_on = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        # Triggers: `on: pull_request_target`, `on: [a, pull_request_target]`
        # or a `pull_request_target:` key inside the `on:` block.
        if re.match(r"^[\"']?on[\"']?\s*:", line):
            in_on = True
            if "pull_request_target" in line.split("#", 1)[0]:
                problems.append(f"{name}:{number}: runs on pull_request_target")
            continue
        if in_on and not line.startswith((" ", "\t", "-")):
            in_on = False
        if in_on and TRIGGER.match(line):
            problems.append(f"{name}:{number}: runs on pull_request_target")
        m = USES.match(line)
        if not m:
            continue
        ref = m.group("ref")
        comment = m.group("comment") or ""
        if ref.startswith("./"):
            continue  # an action of this repository, at the same commit
        if ref.startswith("docker://"):
            if not DOCKER_DIGEST.match(ref):
                problems.append(f"{name}:{number}: {ref} is not pinned to a sha256 digest")
            continue
        action, sep, version = ref.partition("@")
        if not sep or not version:
            problems.append(f"{name}:{number}: {ref} has no version")
        elif not FULL_SHA.match(version):
            problems.append(
                f"{name}:{number}: {ref} is not pinned to a full 40-character commit id"
            )
        elif not VERSION_COMMENT.search(comment):
            problems.append(
                f"{name}:{number}: {action} is pinned, but no `# vX.Y.Z` comment says which version"
            )
    return problems


def files_under(root):
    root = pathlib.Path(root)
    found = []
    workflows = root / ".github" / "workflows"
    if workflows.is_dir():
        found += sorted(p for p in workflows.iterdir() if p.suffix in (".yml", ".yaml"))
    for p in sorted(root.rglob("action.y*ml")):
        if p.name in ("action.yml", "action.yaml") and not any(
            part in ("target", ".git", "node_modules") for part in p.relative_to(root).parts
        ):
            found.append(p)
    return found


def main(argv):
    args = argv[1:] or [str(pathlib.Path(__file__).resolve().parent.parent)]
    files = []
    for arg in args:
        p = pathlib.Path(arg)
        files += files_under(p) if p.is_dir() else [p]
    if not files:
        print("lint-workflows: no workflow or action file found", file=sys.stderr)
        return 2
    problems = []
    for f in files:
        problems += check_text(str(f), f.read_text(encoding="utf-8"))
    for p in problems:
        print(p)
    uses = sum(
        1 for f in files for line in f.read_text(encoding="utf-8").splitlines() if USES.match(line)
    )
    print(
        f"lint-workflows: {len(files)} files, {uses} `uses:`, {len(problems)} problems",
        file=sys.stderr,
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
