#!/usr/bin/env bash
# packaging/test-pre-commit-local.sh - the pre-commit framework routes that
# need nothing published, with the real `pre-commit` tool, in a scratch
# repository (README, "With the pre-commit framework"):
#   route 1: a `repo: local` hook with `language: system` running the
#            `leakscan` found on PATH (LEAKSCAN_BINARY);
#   route 2 (--rust REPO): this repository as a hooks repository
#            (`.pre-commit-hooks.yaml`, `language: rust`): pre-commit clones
#            REPO at its HEAD commit and builds leakscan with
#            `cargo install` (minutes: it compiles the whole crate).
# In both:
#   - a commit staging a fake GitHub token (made at run time) is blocked,
#     and the hook's output does not show the token;
#   - a clean commit goes through;
#   - the pre-push hook (`leakscan pre-push`) blocks a push of a commit
#     adding a token (committed with --no-verify) to a local bare remote.
#
# Usage: packaging/test-pre-commit-local.sh LEAKSCAN_BINARY
#        packaging/test-pre-commit-local.sh --rust REPO
# Needs: pre-commit, git, python3; for --rust also cargo and crates.io.
set -euo pipefail

usage() { echo "usage: $0 LEAKSCAN_BINARY | --rust REPO" >&2; exit 2; }
route=system
case ${1:-} in
  --rust) [ $# -eq 2 ] || usage; route=rust; hooks_repo=$(cd "$2" && pwd -P) ;;
  "") usage ;;
  *) [ $# -eq 1 ] || usage
     bin=$(cd "$(dirname "$1")" && pwd -P)/$(basename "$1")
     [ -x "$bin" ] || { echo "test-pre-commit-local: $1 is not an executable" >&2; exit 2; } ;;
esac
pre_commit=$(command -v "${PRE_COMMIT:-pre-commit}") || { echo "test-pre-commit-local: no pre-commit" >&2; exit 2; }
fail() { echo "test-pre-commit-local: FAIL: $*" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/leakscan-pre-commit-local.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=test GIT_AUTHOR_EMAIL=test@example.com
export GIT_COMMITTER_NAME=test GIT_COMMITTER_EMAIL=test@example.com
# The scratch HOME hides the user's git and pre-commit configuration; the
# Rust toolchain stays the user's (route 2: with HOME moved, rustup's proxy
# `cargo` would find no toolchain and pre-commit would try to download one).
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export GIT_CONFIG_NOSYSTEM=1 HOME="$work/home"
export PRE_COMMIT_HOME="$work/pre-commit-cache"
mkdir -p "$HOME" "$work/bin"
git config --global init.defaultBranch main
# The leakscan under test is the only one on PATH (route 2: none is, the
# hook runs the one pre-commit built).
if [ "$route" = system ]; then ln -s "$bin" "$work/bin/leakscan"; fi
path_clean=""
IFS=: read -r -a parts <<<"$PATH"
for p in "${parts[@]}"; do [ -x "$p/leakscan" ] || path_clean="$path_clean${path_clean:+:}$p"; done
export PATH="$work/bin:$path_clean"

git init -q --bare "$work/remote.git"
proj="$work/project"
git init -q "$proj"
cd "$proj"
git remote add origin "$work/remote.git"
# The configuration the README documents for this route.
if [ "$route" = system ]; then
cat > .pre-commit-config.yaml <<'YAML'
repos:
  - repo: local
    hooks:
      - id: leakscan
        name: leakscan (secrets in the staged change)
        entry: leakscan staged
        language: system
        pass_filenames: true
        stages: [pre-commit]
      - id: leakscan-pre-push
        name: leakscan (secrets in the pushed commits)
        entry: leakscan pre-push
        language: system
        pass_filenames: false
        stages: [pre-push]
YAML
else
  rev=$(git -C "$hooks_repo" rev-parse HEAD)
  cat > .pre-commit-config.yaml <<YAML
repos:
  - repo: $hooks_repo
    rev: $rev
    hooks:
      - id: leakscan
      - id: leakscan-pre-push
YAML
fi
echo "# project" > README.md
git add -A
git commit -q -m "initial commit" --no-verify
git push -q origin main
"$pre_commit" install --hook-type pre-commit --hook-type pre-push >/dev/null
if [ "$route" = rust ]; then
  t0=$SECONDS
  "$pre_commit" install-hooks >"$work/install.out" 2>&1 || { cat "$work/install.out" >&2; fail "pre-commit install-hooks (cargo install) failed"; }
  echo "test-pre-commit-local: route 2: pre-commit install-hooks built leakscan in $((SECONDS - t0)) s"
fi

token() { python3 -c 'import secrets, string; a = string.ascii_letters + string.digits; print("ghp" + "_" + "".join(secrets.choice(a) for _ in range(36)))'; }

# 1. A staged fake secret blocks the commit, and is not printed.
t1=$(token)
printf 'GITHUB_TOKEN = "%s"\n' "$t1" > settings.py
git add settings.py
if git commit -m "add settings" >"$work/blocked.out" 2>&1; then
  cat "$work/blocked.out" >&2; fail "the commit with a fake token was not blocked"
fi
grep -q "github" "$work/blocked.out" || { cat "$work/blocked.out" >&2; fail "the hook did not name the rule"; }
if grep -qF "$t1" "$work/blocked.out"; then fail "the hook printed the secret"; fi
[ "$(git rev-list --count HEAD)" = 1 ] || fail "a commit was recorded"

# 2. Without the secret, the commit goes through.
git reset -q HEAD settings.py
rm settings.py
echo "print('hello')" > hello.py
git add hello.py
git commit -q -m "add hello" >"$work/clean.out" 2>&1 || { cat "$work/clean.out" >&2; fail "a clean commit was blocked"; }
grep -q "leakscan" "$work/clean.out" || { cat "$work/clean.out" >&2; fail "the hook did not run on the clean commit"; }
git push -q origin main 2>"$work/push-clean.out" || { cat "$work/push-clean.out" >&2; fail "a clean push was blocked"; }

# 3. A commit that skipped the pre-commit hook is stopped at push.
t2=$(token)
printf 'GITHUB_TOKEN = "%s"\n' "$t2" > deploy.py
git add deploy.py
git commit -q -m "add deploy" --no-verify
if git push -q origin main >"$work/push.out" 2>&1; then
  cat "$work/push.out" >&2; fail "the push of a fake token was not blocked"
fi
if grep -qF "$t2" "$work/push.out"; then fail "the pre-push hook printed the secret"; fi
[ "$(git --git-dir="$work/remote.git" rev-list --count main)" = 2 ] || fail "the remote received the commit"

echo "test-pre-commit-local: route $([ "$route" = system ] && echo 1 || echo 2) ($route): 3 passed, 0 failed ($("$pre_commit" --version))"
