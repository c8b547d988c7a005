#!/usr/bin/env python3
"""Writes the GitHub job summary (Markdown) for the leakscan action from a
leakscan JSON report (version 1).

The summary is redacted by construction: it shows each finding's rule,
place, commit and fingerprint, and never reads the `secret` field, so even a
report made with --show-secrets cannot leak into the summary.

Usage: summary.py REPORT.json [--exit-code N] [--mode MODE] [--max-rows N]
"""

import argparse
import json
import sys


def cell(text):
    """One Markdown table cell: no newlines, pipes escaped, code-quoted."""
    text = str(text).replace("\r", " ").replace("\n", " ").replace("`", "'")
    return "`" + text.replace("|", "\\|") + "`" if text else ""


def place(finding):
    path = finding.get("path")
    if isinstance(path, dict):
        path = "(path that is not UTF-8)"
    line = finding.get("line")
    return f"{path}:{line}" if line else str(path)


def render(report, exit_code=None, mode=None, max_rows=100):
    findings = report.get("findings") or []
    stats = report.get("stats") or {}
    out = ["## leakscan"]
    head = []
    if mode:
        head.append(f"mode **{mode}**")
    if stats.get("commits"):
        head.append(f"{stats['commits']} commits")
    if "scanned" in stats:
        head.append(f"{stats['scanned']} blobs or files scanned")
    if head:
        out.append(", ".join(head) + ".")
    out.append("")
    if exit_code not in (None, "", "0", 0, "1", 1):
        out.append(f"**leakscan failed (exit code {exit_code}).** See the job log.")
        out.append("")
    if not findings:
        out.append("No new findings.")
    else:
        n = len(findings)
        out.append(f"**{n} new finding{'s' if n != 1 else ''}** (secrets are not shown here):")
        out.append("")
        out.append("| # | rule | where | commit | author | fingerprint |")
        out.append("| --- | --- | --- | --- | --- | --- |")
        for i, f in enumerate(findings[:max_rows], 1):
            commit = f.get("commit") or {}
            cid = (commit.get("id") or "")[:12]
            date = (commit.get("date") or "")[:10]
            out.append(
                "| {} | {} | {} | {} | {} | {} |".format(
                    i,
                    cell(f.get("rule", "")),
                    cell(place(f)),
                    cell(f"{cid} {date}".strip()),
                    cell(commit.get("author") or ""),
                    cell((f.get("fingerprint") or "")[:16]),
                )
            )
        if n > max_rows:
            out.append("")
            out.append(f"... and {n - max_rows} more (see the SARIF results in code scanning).")
        out.append("")
        out.append(
            "Rotate each secret first (removing it from the code does not make it safe), "
            "then remove it or record it in the baseline (`leakscan baseline update`, "
            "merged into the target branch before this change)."
        )
    errors = stats.get("errors") or []
    if errors:
        out.append("")
        out.append(f"{len(errors)} read errors during the scan; see the job log.")
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report")
    ap.add_argument("--exit-code")
    ap.add_argument("--mode")
    ap.add_argument("--max-rows", type=int, default=100)
    a = ap.parse_args(argv)
    try:
        with open(a.report, encoding="utf-8") as fh:
            report = json.load(fh)
    except (OSError, ValueError) as e:
        sys.stdout.write(f"## leakscan\n\nNo report to summarise ({a.report}: {e}).\n")
        return 0
    sys.stdout.write(render(report, a.exit_code, a.mode, a.max_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
