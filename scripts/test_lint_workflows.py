"""Tests of scripts/lint-workflows.py: it must fail on each kind of unpinned
`uses:` and on pull_request_target, and pass on this repository's files.

Run: python3 -m unittest discover -s scripts -p 'test_*.py'
"""

import importlib.util
import pathlib
import subprocess
import sys
import tempfile
import unittest

HERE = pathlib.Path(__file__).resolve().parent
SCRIPT = HERE / "lint-workflows.py"
spec = importlib.util.spec_from_file_location("lint_workflows", SCRIPT)
lint = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lint)

SHA = "de0fac2e4500dabe0009e67214ff5f5447ce83dd"

GOOD = f"""name: ok
on:
  push:
  pull_request:
permissions: {{}}
jobs:
  a:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@{SHA} # v6.0.2
      - uses: ./local-action
      - name: x
        uses: "github/codeql-action/upload-sarif@{SHA}"  # v4.31.9
      - uses: docker://alpine@sha256:{'a' * 64}
"""


class CheckText(unittest.TestCase):
    def test_pinned_file_passes(self):
        self.assertEqual(lint.check_text("ok.yml", GOOD), [])

    def assert_one_problem(self, text, words):
        problems = lint.check_text("bad.yml", text)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn(words, problems[0])
        return problems[0]

    def test_tag_fails(self):
        p = self.assert_one_problem(
            GOOD.replace(f"actions/checkout@{SHA} # v6.0.2", "actions/checkout@v6"),
            "not pinned to a full 40-character commit id",
        )
        self.assertTrue(p.startswith("bad.yml:10:"), p)

    def test_short_sha_fails(self):
        self.assert_one_problem(
            GOOD.replace(f"checkout@{SHA}", f"checkout@{SHA[:12]}"), "40-character"
        )

    def test_uppercase_or_41_hex_fails(self):
        self.assert_one_problem(GOOD.replace(f"checkout@{SHA}", f"checkout@{SHA.upper()}"), "40")
        self.assert_one_problem(GOOD.replace(f"checkout@{SHA}", f"checkout@{SHA}0"), "40")

    def test_branch_fails(self):
        self.assert_one_problem(
            GOOD.replace(f"checkout@{SHA} # v6.0.2", "checkout@main # v6.0.2"), "40-character"
        )

    def test_no_ref_fails(self):
        self.assert_one_problem(
            GOOD.replace(f"actions/checkout@{SHA} # v6.0.2", "actions/checkout"), "no version"
        )

    def test_missing_version_comment_fails(self):
        self.assert_one_problem(
            GOOD.replace(f"{SHA} # v6.0.2", SHA), "no `# vX.Y.Z` comment"
        )

    def test_docker_tag_fails(self):
        self.assert_one_problem(
            GOOD.replace(f"alpine@sha256:{'a' * 64}", "alpine:3"), "sha256 digest"
        )

    def test_pull_request_target_fails(self):
        self.assert_one_problem(
            GOOD.replace("  pull_request:\n", "  pull_request_target:\n"), "pull_request_target"
        )
        self.assert_one_problem(
            GOOD.replace("on:\n  push:\n  pull_request:\n", "on: [push, pull_request_target]\n"),
            "pull_request_target",
        )

    def test_commented_out_uses_is_ignored(self):
        text = GOOD + "      # - uses: actions/checkout@v4\n"
        self.assertEqual(lint.check_text("ok.yml", text), [])


class WholeRepository(unittest.TestCase):
    def test_this_repository_passes(self):
        root = HERE.parent
        files = lint.files_under(root)
        names = {f.relative_to(root).as_posix() for f in files}
        # The files this check exists for are really looked at.
        self.assertIn(".github/workflows/release.yml", names)
        self.assertIn("action.yml", names)
        run = subprocess.run(
            [sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True
        )
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)

    def test_exit_code_1_on_a_bad_file(self):
        with tempfile.TemporaryDirectory() as d:
            wf = pathlib.Path(d, ".github", "workflows")
            wf.mkdir(parents=True)
            (wf / "ci.yml").write_text(GOOD.replace(f"{SHA} # v6.0.2", "v6"))
            run = subprocess.run(
                [sys.executable, str(SCRIPT), d], capture_output=True, text=True
            )
            self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
            self.assertIn("ci.yml:10:", run.stdout)

    def test_exit_code_2_when_nothing_to_check(self):
        with tempfile.TemporaryDirectory() as d:
            run = subprocess.run(
                [sys.executable, str(SCRIPT), d], capture_output=True, text=True
            )
            self.assertEqual(run.returncode, 2)


if __name__ == "__main__":
    unittest.main()
