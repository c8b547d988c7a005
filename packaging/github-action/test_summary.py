"""Tests of the GitHub Action's job summary (summary.py): it lists findings
without their secrets, also for a report made with --show-secrets, and with a
real leakscan report when LEAKSCAN_BIN names a built binary.

Run: python3 -m unittest discover -s packaging/github-action -p 'test_*.py'
"""

import importlib.util
import json
import os
import pathlib
import secrets
import string
import subprocess
import tempfile
import unittest

HERE = pathlib.Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("summary", HERE / "summary.py")
summary = importlib.util.module_from_spec(spec)
spec.loader.exec_module(summary)


def fake_github_token():
    """A GitHub-token-shaped string made at run time (never a literal)."""
    alphabet = string.ascii_letters + string.digits
    return "ghp" + "_" + "".join(secrets.choice(alphabet) for _ in range(36))


class Render(unittest.TestCase):
    def test_no_findings(self):
        text = summary.render({"findings": [], "stats": {"commits": 3}}, "0", "push")
        self.assertIn("No new findings.", text)
        self.assertIn("mode **push**, 3 commits", text)

    def test_findings_table_never_shows_the_secret(self):
        token = fake_github_token()
        report = {
            "findings": [
                {
                    "rule": "github-pat",
                    "path": "src/a|b.py",
                    "line": 12,
                    "secret": token,
                    "fingerprint": "0123456789abcdef0123",
                    "commit": {"id": "a" * 40, "author": "Ann", "date": "2026-01-02T00:00:00+00:00"},
                },
                {"rule": "aws-key", "path": {"bytes": "/w=="}, "line": 1, "secret": token},
            ],
            "stats": {},
        }
        text = summary.render(report, "1", "pull-request")
        self.assertNotIn(token, text)
        self.assertNotIn(token[:12], text)
        self.assertIn("**2 new findings**", text)
        self.assertIn("`src/a\\|b.py:12`", text)  # the pipe cannot break the table
        self.assertIn("`aaaaaaaaaaaa 2026-01-02`", text)
        self.assertIn("(path that is not UTF-8)", text)

    def test_row_limit_and_error_code(self):
        report = {"findings": [{"rule": "r", "path": "p", "line": i} for i in range(5)]}
        text = summary.render(report, "2", None, max_rows=2)
        self.assertIn("and 3 more", text)
        self.assertIn("exit code 2", text)
        self.assertEqual(text.count("| `r` |"), 2)

    def test_unreadable_report(self):
        with tempfile.TemporaryDirectory() as d:
            out = subprocess.run(
                ["python3", str(HERE / "summary.py"), os.path.join(d, "missing.json")],
                capture_output=True, text=True,
            )
            self.assertEqual(out.returncode, 0)
            self.assertIn("No report to summarise", out.stdout)


@unittest.skipUnless(os.environ.get("LEAKSCAN_BIN"), "LEAKSCAN_BIN not set")
class RealReport(unittest.TestCase):
    def test_real_history_report_with_show_secrets(self):
        token = fake_github_token()
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
                       GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
            run = lambda *a: subprocess.run(a, cwd=d, env=env, check=True, capture_output=True)
            run("git", "init", "-q", ".")
            pathlib.Path(d, "config.py").write_text(f'TOKEN = "{token}"\n')
            run("git", "add", "config.py")
            run("git", "commit", "-q", "-m", "add config")
            report = os.path.join(d, "r.json")
            scan = subprocess.run(
                [os.environ["LEAKSCAN_BIN"], "history", "--all", "--format", "json",
                 "--show-secrets", "--quiet", "--output", report],
                cwd=d, capture_output=True, text=True,
            )
            self.assertEqual(scan.returncode, 1, scan.stderr)
            self.assertIn(token, pathlib.Path(report).read_text())  # the report has it...
            out = subprocess.run(
                ["python3", str(HERE / "summary.py"), report, "--exit-code", "1", "--mode", "history"],
                capture_output=True, text=True, check=True,
            ).stdout
            self.assertNotIn(token, out)  # ...the summary does not
            self.assertIn("**1 new finding**", out)
            self.assertIn("`config.py:1`", out)
            self.assertIn("github", out)


if __name__ == "__main__":
    unittest.main()
