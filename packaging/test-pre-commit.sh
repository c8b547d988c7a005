#!/usr/bin/env bash
# packaging/test-pre-commit.sh - the pre-commit framework path, for real:
# the hooks repository template (packaging/pre-commit-hooks) as a local git
# repository, its `language: python` hook installed by the real `pre-commit`
# tool from a local wheelhouse holding the leakscan-bin wheel (no index:
# PIP_NO_INDEX, PIP_FIND_LINKS), then in a scratch repository:
#   - a commit staging a fake GitHub token (made at run time) is blocked,
#     and the hook's output does not show the token;
#   - a clean commit goes through.
# Prints the fresh-cache `pre-commit install-hooks` time.
#
# Usage: packaging/test-pre-commit.sh WHEELDIR
#   WHEELDIR holds leakscan_bin-*.whl (packaging/build-wheel.sh).
# Needs: pre-commit, git, python3 with virtualenv (pre-commit's dependency).
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 WHEELDIR" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd -P)
wheeldir=$(cd "$1" && pwd -P)
pre_commit=${PRE_COMMIT:-pre-commit}
fail() { echo "test-pre-commit: FAIL: $*" >&2; exit 1; }

# The hooks repository pins the wheel of this version.
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
grep -q "^version = \"$version\"" "$root/packaging/pre-commit-hooks/pyproject.toml" \
  || fail "packaging/pre-commit-hooks/pyproject.toml's version is not $version (Cargo.toml)"
grep -q "\"leakscan-bin==$version\"" "$root/packaging/pre-commit-hooks/pyproject.toml" \
  || fail "packaging/pre-commit-hooks/pyproject.toml does not pin leakscan-bin==$version"
ls "$wheeldir"/leakscan_bin-"$version"-*.whl >/dev/null 2>&1 \
  || fail "no leakscan_bin-$version wheel in $wheeldir"

work=$(mktemp -d "${TMPDIR:-/tmp}/leakscan-pre-commit.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=test GIT_AUTHOR_EMAIL=test@example.com
export GIT_COMMITTER_NAME=test GIT_COMMITTER_EMAIL=test@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME="$work/home"
mkdir -p "$HOME"
git config --global init.defaultBranch main
git config --global protocol.file.allow always

# A wheelhouse with the leakscan-bin wheel and the build backend the hooks
# repository's own package needs (setuptools, from virtualenv's bundled
# wheels): everything installs without a package index.
mkdir "$work/wheelhouse"
cp "$wheeldir"/leakscan_bin-"$version"-*.whl "$work/wheelhouse/"
embed=$(python3 -c 'import os, virtualenv.seed.wheels.embed as e; print(os.path.dirname(e.__file__))' 2>/dev/null \
  || "$(dirname "$(command -v "$pre_commit")")/python" -c 'import os, virtualenv.seed.wheels.embed as e; print(os.path.dirname(e.__file__))')
cp "$embed"/setuptools-*.whl "$work/wheelhouse/"
export PIP_NO_INDEX=1 PIP_FIND_LINKS="$work/wheelhouse"
export PRE_COMMIT_HOME="$work/pre-commit-cache"
# Make sure no other leakscan can answer for the hook's.
path_clean=""
IFS=: read -r -a parts <<<"$PATH"
for p in "${parts[@]}"; do [ -x "$p/leakscan" ] || path_clean="$path_clean${path_clean:+:}$p"; done
export PATH="$path_clean"

# The hooks repository, from the template, tagged.
hooks="$work/leakscan-pre-commit"
cp -R "$root/packaging/pre-commit-hooks" "$hooks"
git -C "$hooks" init -q
git -C "$hooks" add -A
git -C "$hooks" commit -q -m "leakscan hooks v$version"
git -C "$hooks" tag "v$version"

# A project using it.
proj="$work/project"
git init -q "$proj"
cd "$proj"
cat > .pre-commit-config.yaml <<YAML
repos:
  - repo: file://$hooks
    rev: v$version
    hooks:
      - id: leakscan
YAML
echo "# project" > README.md
git add -A
git commit -q -m "initial commit" --no-verify
"$pre_commit" install >/dev/null

start=$(date +%s.%N)
"$pre_commit" install-hooks
end=$(date +%s.%N)
install_s=$(python3 -c "print(f'{$end - $start:.1f}')")
bin=$(find "$PRE_COMMIT_HOME" -path '*py_env-*/bin/leakscan' -type f | head -1)
[ -n "$bin" ] || fail "the hook environment has no leakscan binary"
cmp -s "$bin" <(cd "$work" && python3 -c "
import sys, zipfile, glob
w = glob.glob('wheelhouse/leakscan_bin-*.whl')[0]
z = zipfile.ZipFile(w)
n = [n for n in z.namelist() if n.endswith('.data/scripts/leakscan')][0]
sys.stdout.buffer.write(z.read(n))") || fail "the installed leakscan is not the wheel's binary"

# 1. A staged fake secret blocks the commit, and is not printed.
token=$(python3 -c 'import secrets, string; a = string.ascii_letters + string.digits; print("ghp" + "_" + "".join(secrets.choice(a) for _ in range(36)))')
printf 'GITHUB_TOKEN = "%s"\n' "$token" > settings.py
git add settings.py
if git commit -m "add settings" >"$work/blocked.out" 2>&1; then
  cat "$work/blocked.out" >&2
  fail "the commit with a fake token was not blocked"
fi
grep -q "github" "$work/blocked.out" || { cat "$work/blocked.out" >&2; fail "the hook did not name the rule"; }
if grep -qF "$token" "$work/blocked.out"; then fail "the hook printed the secret"; fi
[ "$(git rev-list --count HEAD)" = 1 ] || fail "a commit was recorded"

# 2. Without the secret, the commit goes through.
git reset -q HEAD settings.py
rm settings.py
echo "print('hello')" > hello.py
git add hello.py
git commit -q -m "add hello" >"$work/clean.out" 2>&1 || { cat "$work/clean.out" >&2; fail "a clean commit was blocked"; }
grep -q "leakscan" "$work/clean.out" || { cat "$work/clean.out" >&2; fail "the hook did not run on the clean commit"; }
[ "$(git rev-list --count HEAD)" = 2 ] || fail "the clean commit was not recorded"

echo "test-pre-commit: pre-commit install-hooks (fresh cache, local wheelhouse): ${install_s} s"
echo "test-pre-commit: 2 passed, 0 failed"
