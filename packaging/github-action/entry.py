#!/usr/bin/env python3
"""The leakscan GitHub Action's scan step: decides what to scan from the
event that started the workflow, scans it once (SARIF for code scanning and
JSON for the summary, annotations and the pull-request comment from the same
run) and writes the step outputs. action.yml runs it; the tests run it on
recorded event payloads (tests/github-events/).

What each event scans (mode `auto`):
- pull_request: base.sha..head.sha, judged by the base's baseline and
  configuration (--baseline-from base.sha), so a change cannot baseline its
  own secret.
- merge_group (merge queue): merge_group.base_sha..head_sha, likewise.
- push: before..after. A new branch (before = 0000...) is scanned from where
  it leaves the default branch (its whole history if there is none); a force
  push whose old tip cannot be fetched, likewise; a deleted branch is
  nothing to scan.
- pull_request_target: refused (exit 2), with the reason: the workflow runs
  with the base repository's token and secrets, so checking out and scanning
  the pull request's code there is how "pwn requests" happen. Use
  pull_request.
- schedule, workflow_dispatch and anything else: the whole history (--all).

Environment (set by action.yml): LEAKSCAN, SCAN_MODE, CONFIG, BASELINE,
EXTRA_ARGS, ADVISORY, EVENT (github.event_name), EVENT_PATH (the payload),
GITHUB_SHA, RUNNER_TEMP, GITHUB_OUTPUT.

Nothing written here holds a secret: annotations and the comment are built
from the rule, path, line and commit only (never the report's `secret`).
"""

import json
import os
import pathlib
import shlex
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import summary  # noqa: E402

ZERO = "0" * 40
MODES = ("auto", "pull-request", "merge-group", "push", "history")
# GitHub shows at most 10 warning and 10 error annotations per step.
MAX_ANNOTATIONS = 10


class Refused(Exception):
    """The event cannot be scanned as asked; the message says why."""


class Plan:
    def __init__(self, mode, args, fetch=(), fallback=None, note=None):
        self.mode = mode  # what was decided (pull-request, merge-group, push, history)
        self.args = args  # revision arguments for `leakscan history`; None: nothing to scan
        self.fetch = list(fetch)  # commits that must be present (a shallow checkout lacks them)
        self.fallback = fallback  # (args, note) when `fetch` cannot be had (a force push)
        self.note = note

    def __repr__(self):
        return f"Plan({self.mode!r}, {self.args!r}, fetch={self.fetch!r})"


def _sha(value):
    return value if isinstance(value, str) and len(value) == 40 and value != ZERO else None


def new_branch_args(payload, after):
    """A new branch: its commits that the default branch lacks."""
    repo = payload.get("repository") or {}
    default = repo.get("default_branch") or repo.get("master_branch")
    ref = payload.get("ref") or ""
    if default and ref != f"refs/heads/{default}":
        return [f"origin/{default}..{after}"], f"a new branch, scanned from where it leaves {default}"
    return [after], "a new branch with nothing to compare to: everything it reaches"


def plan(event, payload, mode="auto", sha=None):
    """What to scan for `event` with its `payload`; raises Refused."""
    if mode not in MODES:
        raise Refused(f"unknown mode '{mode}' ({', '.join(MODES)})")
    if event == "pull_request_target" and mode in ("auto", "pull-request"):
        raise Refused(
            "refusing to scan a pull_request_target event: it runs with the base repository's "
            "token and secrets, and checking out the pull request's code there lets that code "
            "run with them. Trigger this workflow with `on: pull_request` (read-only token, no "
            "secrets; the scan needs neither)"
        )
    if mode == "auto":
        mode = {"pull_request": "pull-request", "merge_group": "merge-group", "push": "push"}.get(
            event, "history")
    if mode == "pull-request" and event == "merge_group":
        mode = "merge-group"
    if mode == "pull-request":
        pr = payload.get("pull_request") or {}
        base, head = _sha((pr.get("base") or {}).get("sha")), _sha((pr.get("head") or {}).get("sha"))
        if not base or not head:
            raise Refused(f"mode pull-request needs a pull_request or merge_group event (this is {event or 'no event'})")
        return Plan(mode, [f"{base}..{head}", "--baseline-from", base], [base, head])
    if mode == "merge-group":
        group = payload.get("merge_group") or {}
        base, head = _sha(group.get("base_sha")), _sha(group.get("head_sha")) or _sha(sha)
        if not base or not head:
            raise Refused(f"mode merge-group needs a merge_group event with base_sha and head_sha (this is {event or 'no event'})")
        return Plan(mode, [f"{base}..{head}", "--baseline-from", base], [base, head])
    if mode == "push":
        if payload.get("deleted"):
            return Plan(mode, None, note=f"the push deleted {payload.get('ref', 'a ref')}: nothing to scan")
        after = _sha(payload.get("after")) or _sha(sha)
        if not after:
            raise Refused(f"mode push needs a push event (this is {event or 'no event'})")
        before = _sha(payload.get("before"))
        if not before or payload.get("created"):
            args, note = new_branch_args(payload, after)
            return Plan(mode, args, [after], note=note)
        fallback = new_branch_args(payload, after)
        if payload.get("forced"):
            fallback = (fallback[0], "a force push whose old tip is gone: " + fallback[1])
        note = "a force push: the commits the new tip has and the old one had not" if payload.get("forced") else None
        return Plan(mode, [f"{before}..{after}"], [before, after], fallback=fallback, note=note)
    return Plan("history", ["--all"])


# -- running it ---------------------------------------------------------------

def git(*args):
    return subprocess.run(["git", *args], capture_output=True, text=True)


def have(commit):
    return git("cat-file", "-e", f"{commit}^{{commit}}").returncode == 0


def ensure(commit):
    """Whether `commit` is here, fetching it from origin if need be."""
    if have(commit):
        return True
    git("fetch", "--no-tags", "--quiet", "origin", commit)
    return have(commit)


def ensure_range_base(args):
    """Fetches the default branch named by `origin/NAME..X`; without it, X whole."""
    out = []
    for a in args:
        if a.startswith("origin/") and ".." in a:
            ref, tip = a.split("..", 1)
            name = ref[len("origin/"):]
            if git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
                git("fetch", "--no-tags", "--quiet", "origin", f"+refs/heads/{name}:refs/remotes/origin/{name}")
            if git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
                print(f"leakscan-action: {ref} is not available; scanning everything {tip[:12]} reaches")
                a = tip
        out.append(a)
    return out


def annotations(report, advisory):
    """Workflow commands marking each finding's place (no secret in them)."""
    level = "warning" if advisory else "error"
    lines = []
    findings = report.get("findings") or []
    for f in findings[:MAX_ANNOTATIONS]:
        path = f.get("path")
        if not isinstance(path, str):
            continue
        commit = ((f.get("commit") or {}).get("id") or "")[:12]
        where = f" in commit {commit}" if commit else ""
        msg = f"leakscan: {f.get('rule', 'secret')} found{where}; rotate it, then remove it or baseline it"
        esc = lambda s: str(s).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")  # noqa: E731
        prop = lambda s: esc(s).replace(":", "%3A").replace(",", "%2C")  # noqa: E731
        lines.append(f"::{level} file={prop(path)},line={int(f.get('line') or 1)},title=leakscan::{esc(msg)}")
    if len(findings) > MAX_ANNOTATIONS:
        lines.append(f"::{level}::leakscan: {len(findings) - MAX_ANNOTATIONS} more findings (see the job summary)")
    return lines


def main():
    env = os.environ
    event = env.get("EVENT", "")
    payload = {}
    if env.get("EVENT_PATH"):
        try:
            payload = json.loads(pathlib.Path(env["EVENT_PATH"]).read_text())
        except (OSError, ValueError) as e:
            print(f"::error::cannot read the event payload {env['EVENT_PATH']}: {e}")
            return 2
    advisory = env.get("ADVISORY", "false").lower() == "true"
    out_dir = pathlib.Path(env.get("RUNNER_TEMP", ".")) / "leakscan-results"
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = {"mode": "", "exit-code": "2", "advisory": str(advisory).lower()}

    def finish(code):
        outputs["exit-code"] = str(code)
        with open(env["GITHUB_OUTPUT"], "a") as f:
            for k, v in outputs.items():
                f.write(f"{k}={v}\n")
        return 0  # the Verdict step decides; later steps still run

    try:
        p = plan(event, payload, env.get("SCAN_MODE", "auto") or "auto", env.get("GITHUB_SHA"))
    except Refused as e:
        print(f"::error::{e}")
        return finish(2)
    outputs["mode"] = p.mode
    if p.note:
        print(f"leakscan-action: {p.note}")
    if p.args is None:
        return finish(0)
    args = p.args
    missing = [c for c in p.fetch if not ensure(c)]
    if missing and p.fallback:
        args, note = p.fallback
        print(f"leakscan-action: {missing[0][:12]} cannot be fetched; {note}")
    elif missing:
        print(f"::error::commit {missing[0]} is not in the checkout and cannot be fetched "
              "(use actions/checkout with fetch-depth: 0)")
        return finish(2)
    args = ensure_range_base(args)
    if env.get("CONFIG"):
        args += ["--config", env["CONFIG"]]
    if env.get("BASELINE"):
        args += ["--baseline", env["BASELINE"]]
    args += env.get("EXTRA_ARGS", "").split()
    sarif, report_json = out_dir / "leakscan.sarif", out_dir / "leakscan.json"
    print("leakscan history " + " ".join(shlex.quote(a) for a in args))
    sys.stdout.flush()
    # One scan, two reports.
    code = subprocess.run([env["LEAKSCAN"], "history", *args, "--format", "sarif", "--output", str(sarif),
                           "--also-output", f"json={report_json}"]).returncode
    outputs.update({"sarif": str(sarif), "json": str(report_json)})
    try:
        report = json.loads(report_json.read_text())
    except (OSError, ValueError):
        report = None
    if report is not None:
        for line in annotations(report, advisory):
            print(line)
        comment = out_dir / "comment.md"
        comment.write_text(summary.render(report, exit_code=code, mode=p.mode) + "\n")
        outputs["comment"] = str(comment)
    return finish(code)


if __name__ == "__main__":
    sys.exit(main())
