"""Runs the GitHub Action's own shell steps (read from action.yml) with real
bash, real git and the built leakscan, the way the runner would: the
environment the step declares, RUNNER_TEMP and GITHUB_OUTPUT.

- "Scan" (packaging/github-action/entry.py), on the recorded event payloads
  of tests/github-events/ with their commit ids replaced by a real test
  repository's: a pull request adding a fake token gives exit code 1, a SARIF
  and a JSON report from one scan and an annotation, one without gives 0, and
  a secret added to the pull request's own baseline does not silence it
  (--baseline-from the base); merge_group scans the group against its base;
  pull_request_target is refused with the reason; push scans before..after,
  a new branch from where it leaves the default branch, a force push the new
  commits (or from the default branch when the old tip is gone), a deleted
  branch nothing; schedule and workflow_dispatch the whole history; advisory
  mode warns and passes; the pull-request comment never holds the secret.
- "Download and verify": with a stand-in `gh` that serves release files from
  a directory (no network here), a binary whose checksum does not match
  SHA256SUMS is refused before it is run, and a matching one is installed
  only after `gh attestation verify` passed.

Needs LEAKSCAN_BIN (a built leakscan) and PyYAML (pre-commit's dependency).
"""

import hashlib
import json
import os
import pathlib
import secrets
import stat
import string
import subprocess
import tempfile
import unittest

HERE = pathlib.Path(__file__).resolve().parent
ACTION = HERE.parent.parent / "action.yml"
EVENTS = HERE.parent.parent / "tests" / "github-events"
# The commit ids in the recorded payloads (GitHub's documentation examples).
BASE = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
HEAD = "e5bd3914e2e596debea16f433f57875b5b90bcd6"
BEFORE = "9049f1265b7d61be4a8904a9a27120d2064dab3b"
AFTER = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"

try:
    import yaml
except ImportError:  # pragma: no cover
    yaml = None


def step(name):
    steps = yaml.safe_load(ACTION.read_text())["runs"]["steps"]
    for s in steps:
        if s.get("name") == name:
            return s
    raise KeyError(name)


def recorded(name, ids=None):
    """A recorded event payload with its commit ids replaced by `ids`."""
    text = (EVENTS / f"{name}.json").read_text()
    for old, new in (ids or {}).items():
        text = text.replace(old, new)
    return json.loads(text)


def fake_token():
    alphabet = string.ascii_letters + string.digits
    return "ghp" + "_" + "".join(secrets.choice(alphabet) for _ in range(36))


def run_step(name, env, cwd):
    s = step(name)
    out = pathlib.Path(env["RUNNER_TEMP"], "output")
    out.write_text("")
    full = dict(os.environ)
    full.update(env)
    full["GITHUB_OUTPUT"] = str(out)
    # As GitHub runs `shell: bash`: bash --noprofile --norc -eo pipefail {0}.
    script = pathlib.Path(env["RUNNER_TEMP"], "step.sh")
    script.write_text(s["run"])
    r = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd, env=full,
                       capture_output=True, text=True)
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    return r, outputs


GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_NOSYSTEM": "1"}


@unittest.skipUnless(os.environ.get("LEAKSCAN_BIN") and yaml, "needs LEAKSCAN_BIN and PyYAML")
class ScanStep(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = pathlib.Path(self.tmp.name)
        self.repo = self.d / "repo"
        self.runner_temp = self.d / "runner"
        self.runner_temp.mkdir()
        self.git("init", "-q", "-b", "main", str(self.repo), cwd=self.d)
        (self.repo / "README.md").write_text("hello\n")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "base")
        self.base = self.git("rev-parse", "HEAD").strip()

    def tearDown(self):
        self.tmp.cleanup()

    def git(self, *args, cwd=None):
        env = dict(os.environ, **GIT_ENV)
        return subprocess.run(["git", *args], cwd=cwd or self.repo, env=env, check=True,
                              capture_output=True, text=True).stdout

    def commit(self, name, text):
        (self.repo / name).write_text(text)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", f"add {name}")
        return self.git("rev-parse", "HEAD").strip()

    def scan(self, event, payload=None, **env):
        """Runs the Scan step on `event` with `payload` (a recorded payload
        from tests/github-events/, name without .json, or a dict) whose
        commit ids are replaced by `ids` (old -> new)."""
        ids = env.pop("ids", {})
        if isinstance(payload, str):
            payload = recorded(payload, ids)
        event_path = self.runner_temp / "event.json"
        event_path.write_text(json.dumps(payload or {}))
        base = {"LEAKSCAN": os.environ["LEAKSCAN_BIN"], "SCAN_MODE": "auto", "CONFIG": "",
                "BASELINE": "", "EXTRA_ARGS": "", "ADVISORY": "false", "EVENT": event,
                "EVENT_PATH": str(event_path), "ENTRY_SCRIPT": str(HERE / "entry.py"),
                "GITHUB_SHA": "", "RUNNER_TEMP": str(self.runner_temp)}
        base.update(env)
        return run_step("Scan", base, self.repo)

    def pr(self, head, base=None):
        return self.scan("pull_request", "pull_request", ids={BASE: base or self.base, HEAD: head})

    def test_pull_request_with_a_secret_fails_and_writes_sarif(self):
        head = self.commit("settings.py", f'TOKEN = "{fake_token()}"\n')
        r, out = self.pr(head)
        self.assertEqual(r.returncode, 0, r.stderr)  # the step itself; the verdict step fails
        self.assertEqual(out["exit-code"], "1", r.stdout + r.stderr)
        self.assertEqual(out["mode"], "pull-request")
        self.assertIn(f"{self.base}..{head} --baseline-from {self.base}", r.stdout)
        sarif = pathlib.Path(out["sarif"]).read_text()
        self.assertIn('"version": "2.1.0"', sarif.replace('":"', '": "'))
        self.assertIn("settings.py", sarif)
        # One scan wrote both reports, and the finding is annotated.
        self.assertEqual(r.stdout.count("leakscan history "), 1)
        report = json.loads(pathlib.Path(out["json"]).read_text())
        self.assertEqual(len(report["findings"]), 1)
        self.assertIn("::error file=settings.py,line=1,title=leakscan::", r.stdout)

    def test_clean_pull_request_passes(self):
        head = self.commit("hello.py", "print('hello')\n")
        r, out = self.pr(head)
        self.assertEqual(out["exit-code"], "0", r.stdout + r.stderr)

    def test_pull_request_cannot_baseline_its_own_secret(self):
        self.commit("settings.py", f'TOKEN = "{fake_token()}"\n')
        subprocess.run([os.environ["LEAKSCAN_BIN"], "baseline", "create", "--history"],
                       cwd=self.repo, check=True, capture_output=True)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "baseline it")
        head = self.git("rev-parse", "HEAD").strip()
        # The pull request's own baseline would suppress it...
        own = subprocess.run([os.environ["LEAKSCAN_BIN"], "history", f"{self.base}..{head}", "--quiet"],
                             cwd=self.repo, capture_output=True)
        self.assertEqual(own.returncode, 0, own.stdout)
        # ...the action reads the base's (none) and fails.
        r, out = self.pr(head)
        self.assertEqual(out["exit-code"], "1", r.stdout + r.stderr)

    def test_merge_group_scans_the_group_against_its_base(self):
        # Before: "mode pull-request needs a pull_request event", exit 2.
        head = self.commit("settings.py", f'TOKEN = "{fake_token()}"\n')
        r, out = self.scan("merge_group", "merge_group", ids={BASE: self.base, HEAD: head})
        self.assertEqual((out["mode"], out["exit-code"]), ("merge-group", "1"), r.stdout + r.stderr)
        self.assertIn(f"{self.base}..{head} --baseline-from {self.base}", r.stdout)
        clean = self.commit("hello.py", "print('hello')\n")
        r, out = self.scan("merge_group", "merge_group", ids={BASE: head, HEAD: clean})
        self.assertEqual(out["exit-code"], "0", r.stdout + r.stderr)

    def test_pull_request_target_is_refused_with_the_reason(self):
        head = self.commit("hello.py", "print('hello')\n")
        r, out = self.scan("pull_request_target", "pull_request_target", ids={BASE: self.base, HEAD: head})
        self.assertEqual(out["exit-code"], "2")
        self.assertIn("refusing to scan a pull_request_target event", r.stdout)
        self.assertIn("on: pull_request", r.stdout)
        self.assertNotIn("leakscan history", r.stdout)

    def test_push_mode_scans_only_the_pushed_range(self):
        old = self.commit("settings.py", f'TOKEN = "{fake_token()}"\n')
        new = self.commit("hello.py", "print('hello')\n")
        r, out = self.scan("push", "push", ids={BEFORE: old, AFTER: new})
        self.assertEqual(out["mode"], "push")
        self.assertEqual(out["exit-code"], "0", r.stdout + r.stderr)
        self.assertIn(f"leakscan history {old}..{new}", r.stdout)

    def test_new_branch_is_scanned_from_where_it_leaves_the_default_branch(self):
        self.git("update-ref", "refs/remotes/origin/main", self.base)
        self.git("checkout", "-q", "-b", "feature")
        new = self.commit("settings.py", f'TOKEN = "{fake_token()}"\n')
        r, out = self.scan("push", "push_new_branch", ids={AFTER: new})
        self.assertEqual(out["exit-code"], "1", r.stdout + r.stderr)
        self.assertIn(f"leakscan history origin/main..{new}", r.stdout)
        # A branch from main after the secret: only its own commits count.
        self.git("update-ref", "refs/remotes/origin/main", new)
        newer = self.commit("hello.py", "print('hello')\n")
        r, out = self.scan("push", "push_new_branch", ids={AFTER: newer})
        self.assertEqual(out["exit-code"], "0", r.stdout + r.stderr)

    def test_force_push_scans_the_new_commits_or_falls_back(self):
        old = self.commit("hello.py", "print('hello')\n")
        self.git("update-ref", "refs/remotes/origin/main", self.base)
        self.git("reset", "-q", "--hard", self.base)
        new = self.commit("settings.py", f'TOKEN = "{fake_token()}"\n')
        r, out = self.scan("push", "push_force", ids={BEFORE: old, AFTER: new})
        self.assertEqual(out["exit-code"], "1", r.stdout + r.stderr)
        self.assertIn(f"{old}..{new}", r.stdout)
        self.assertIn("force push", r.stdout)
        # The old tip is gone (no origin to fetch it from): from main instead.
        gone = "1" * 40
        r, out = self.scan("push", "push_force", ids={BEFORE: gone, AFTER: new})
        self.assertEqual(out["exit-code"], "1", r.stdout + r.stderr)
        self.assertIn(f"leakscan history origin/main..{new}", r.stdout)

    def test_deleted_branch_is_nothing_to_scan(self):
        r, out = self.scan("push", "push_deleted", ids={BEFORE: self.base})
        self.assertEqual((out["mode"], out["exit-code"]), ("push", "0"), r.stdout + r.stderr)
        self.assertIn("nothing to scan", r.stdout)

    def test_schedule_and_workflow_dispatch_scan_the_whole_history(self):
        self.commit("settings.py", f'TOKEN = "{fake_token()}"\n')
        for event in ("schedule", "workflow_dispatch"):
            r, out = self.scan(event, event)
            self.assertEqual((out["mode"], out["exit-code"]), ("history", "1"), r.stdout + r.stderr)
            self.assertIn("leakscan history --all", r.stdout)

    def test_history_mode_and_bad_mode(self):
        self.commit("settings.py", f'TOKEN = "{fake_token()}"\n')
        r, out = self.scan("workflow_dispatch", "workflow_dispatch", SCAN_MODE="history")
        self.assertEqual((out["mode"], out["exit-code"]), ("history", "1"), r.stderr)
        r, out = self.scan("pull_request", "pull_request", SCAN_MODE="everything")
        self.assertEqual(out["exit-code"], "2")
        self.assertIn("unknown mode", r.stdout)

    def test_advisory_mode_warns_and_the_verdict_passes(self):
        head = self.commit("settings.py", f'TOKEN = "{fake_token()}"\n')
        r, out = self.scan("pull_request", "pull_request", ids={BASE: self.base, HEAD: head}, ADVISORY="true")
        self.assertEqual(out["exit-code"], "1")
        self.assertIn("::warning file=settings.py,line=1", r.stdout)
        verdict, _ = run_step("Verdict", {"CODE": "1", "ADVISORY": "true",
                                          "RUNNER_TEMP": str(self.runner_temp)}, self.repo)
        self.assertEqual(verdict.returncode, 0, verdict.stdout)
        self.assertIn("::warning::leakscan found new secrets", verdict.stdout)
        verdict, _ = run_step("Verdict", {"CODE": "1", "ADVISORY": "false",
                                          "RUNNER_TEMP": str(self.runner_temp)}, self.repo)
        self.assertEqual(verdict.returncode, 1, verdict.stdout)

    def test_comment_never_holds_the_secret(self):
        token = fake_token()
        head = self.commit("settings.py", f'TOKEN = "{token}"\n')
        # Even when the workflow asks for --show-secrets.
        r, out = self.scan("pull_request", "pull_request", ids={BASE: self.base, HEAD: head},
                           EXTRA_ARGS="--show-secrets")
        self.assertIn(token, pathlib.Path(out["json"]).read_text())  # the raw report has it...
        body = pathlib.Path(out["comment"]).read_text()
        self.assertIn("settings.py", body)
        self.assertNotIn(token, body)  # ...the comment does not
        self.assertNotIn(token, r.stdout)  # nor do the annotations


FAKE_GH = """#!/usr/bin/env bash
# Stand-in for the GitHub CLI: serves release files from $FAKE_RELEASE and
# records attestation checks; fails them when $FAKE_ATTESTATION=bad.
set -euo pipefail
echo "gh $*" >> "$FAKE_LOG"
case "$1 $2" in
  "release download")
    shift 2; dir=""; pats=()
    while [ $# -gt 0 ]; do
      case $1 in --dir) dir=$2; shift 2;; --pattern) pats+=("$2"); shift 2;;
        --repo) shift 2;; --clobber) shift;; *) shift;; esac
    done
    for p in "${pats[@]}"; do cp "$FAKE_RELEASE/$p" "$dir/"; done ;;
  "attestation verify")
    [ "${FAKE_ATTESTATION:-good}" = good ] || { echo "no attestation" >&2; exit 1; } ;;
  *) exit 3 ;;
esac
"""


@unittest.skipUnless(os.environ.get("LEAKSCAN_BIN") and yaml, "needs LEAKSCAN_BIN and PyYAML")
class InstallStep(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        d = pathlib.Path(self.tmp.name)
        self.release = d / "release"
        self.release.mkdir()
        bindir = d / "bin"
        bindir.mkdir()
        gh = bindir / "gh"
        gh.write_text(FAKE_GH)
        gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
        self.log = d / "gh.log"
        self.runner_temp = d / "runner"
        self.runner_temp.mkdir()
        self.asset = "leakscan-x86_64-unknown-linux-musl"
        data = pathlib.Path(os.environ["LEAKSCAN_BIN"]).read_bytes()
        (self.release / self.asset).write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        (self.release / "SHA256SUMS").write_text(f"{digest}  {self.asset}\n{'0' * 64}  other\n")
        self.env = {"PATH": f"{bindir}:{os.environ['PATH']}", "FAKE_RELEASE": str(self.release),
                    "FAKE_LOG": str(self.log), "GH_TOKEN": "unused", "VERSION": "v9.9.9",
                    "REPO_INPUT": "", "ACTION_REPO": "owner/leakscan", "RUNNER_OS_NAME": "Linux",
                    "RUNNER_ARCH_NAME": "X64", "RUNNER_TEMP": str(self.runner_temp)}

    def tearDown(self):
        self.tmp.cleanup()

    def test_good_release_is_verified_then_installed(self):
        r, out = run_step("Download and verify leakscan", self.env, self.tmp.name)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(out["bin"].endswith(self.asset))
        self.assertIn("leakscan ", r.stdout)  # --version ran
        log = self.log.read_text()
        self.assertIn("release download v9.9.9 --repo owner/leakscan", log)
        self.assertIn("attestation verify", log)
        self.assertIn("--signer-workflow owner/leakscan/.github/workflows/release.yml", log)

    def test_tampered_binary_is_refused(self):
        with open(self.release / self.asset, "ab") as fh:
            fh.write(b"\0")
        r, out = run_step("Download and verify leakscan", self.env, self.tmp.name)
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("bin", out)
        self.assertNotIn("attestation verify", self.log.read_text())

    def test_missing_attestation_is_refused(self):
        r, out = run_step("Download and verify leakscan", dict(self.env, FAKE_ATTESTATION="bad"),
                          self.tmp.name)
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("bin", out)

    def test_unlisted_asset_is_refused(self):
        (self.release / "SHA256SUMS").write_text(f"{'0' * 64}  other\n")
        r, out = run_step("Download and verify leakscan", self.env, self.tmp.name)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not listed in SHA256SUMS", r.stdout)

    def test_latest_passes_no_tag(self):
        r, _ = run_step("Download and verify leakscan", dict(self.env, VERSION="latest"),
                        self.tmp.name)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("gh release download --repo owner/leakscan", self.log.read_text())


if __name__ == "__main__":
    unittest.main()
