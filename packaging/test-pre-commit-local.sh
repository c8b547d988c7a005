#!/usr/bin/env bash
# packaging/test-pre-commit-local.sh - the pre-commit framework route that
# needs nothing published: a `repo: local` hook with `language: system`
# running the `leakscan` found on PATH (README, "With the pre-commit
# framework", route 1). With the real `pre-commit` tool, in a scratch
# repository:
#   - a commit staging a fake GitHub token (made at run time) is blocked,
#     and the hook's output does not show the token;
#   - a clean commit goes through;
#   - the pre-push hook (`leakscan pre-push`) blocks a push of a commit
#     adding a token (committed with --no-verify) to a local bare remote.
#
# Usage: packaging/test-pre-commit-local.sh LEAKSCAN_BINARY
# Needs: pre-commit, git, python3.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 LEAKSCAN_BINARY" >&2; exit 2; }
bin=$(cd "$(dirname "$1")" && pwd -P)/$(basename "$1")
[ -x "$bin" ] || { echo "test-pre-commit-local: $1 is not an executable" >&2; exit 2; }
pre_commit=$(command -v "${PRE_COMMIT:-pre-commit}") || { echo "test-pre-commit-local: no pre-commit" >&2; exit 2; }
fail() { echo "test-pre-commit-local: FAIL: $*" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/leakscan-pre-commit-local.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=test GIT_AUTHOR_EMAIL=test@example.com
export GIT_COMMITTER_NAME=test GIT_COMMITTER_EMAIL=test@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME="$work/home"
export PRE_COMMIT_HOME="$work/pre-commit-cache"
mkdir -p "$HOME" "$work/bin"
git config --global init.defaultBranch main
# The leakscan under test is the only one on PATH.
ln -s "$bin" "$work/bin/leakscan"
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
echo "# project" > README.md
git add -A
git commit -q -m "initial commit" --no-verify
git push -q origin main
"$pre_commit" install --hook-type pre-commit --hook-type pre-push >/dev/null

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

echo "test-pre-commit-local: 3 passed, 0 failed ($("$pre_commit" --version))"
