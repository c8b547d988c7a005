#!/usr/bin/env bash
# scripts/check-reproducible.sh - proves that scripts/build-release.sh is
# reproducible: clones the committed HEAD twice, into two fresh directories
# at different paths (and depths), builds each with scripts/build-release.sh
# one after the other (so at different times, with separate target
# directories), and compares the two binaries byte for byte (and on Linux
# the two leakscan.debug files).
#
# Usage: scripts/check-reproducible.sh [--target TRIPLE] [--keep DIR] [--wheel DIR]
#   --keep DIR   copy the first build's binary (and leakscan.debug) to DIR.
#   --wheel DIR  package the first build as the leakscan-bin wheel into DIR
#                (packaging/build-wheel.sh, in the first clone, which checks
#                that the wheel carries that very binary); needs maturin.
# Uncommitted changes are not part of the check: commit first.
# Prints both SHA-256 hashes; exits 0 when they are equal, 1 when not (with
# the first differing bytes), 2 on a build error.
set -euo pipefail

target_args=()
keep=""
wheel=""
while [ $# -gt 0 ]; do
  case $1 in
    --target) target_args=(--target "$2"); shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --wheel) wheel=$2; shift 2 ;;
    *) echo "usage: $0 [--target TRIPLE] [--keep DIR] [--wheel DIR]" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd -P)
commit=$(git -C "$root" rev-parse HEAD)
work=$(mktemp -d "${TMPDIR:-/tmp}/leakscan-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT

one="$work/one/leakscan"
two="$work/second/checkout/at/another/depth/ls-b"
for dir in "$one" "$two"; do
  mkdir -p "$(dirname "$dir")"
  git clone --quiet --no-checkout "$root" "$dir"
  git -C "$dir" checkout --quiet --detach "$commit"
done

build() { # CHECKOUT OUT
  local start=$SECONDS
  echo "check-reproducible: building $commit in $1" >&2
  "$1/scripts/build-release.sh" "$2" ${target_args[@]+"${target_args[@]}"} >&2 || exit 2
  echo "check-reproducible: built in $((SECONDS - start)) s" >&2
}
build "$one" "$work/out-one"
if [ -n "$wheel" ]; then
  mkdir -p "$wheel"
  wheel=$(cd "$wheel" && pwd -P)
  "$one/packaging/build-wheel.sh" "$wheel" --binary-dir "$work/out-one" ${target_args[@]+"${target_args[@]}"} >&2 || exit 2
fi
# Different times: the second build starts at least a second later anyway,
# but make it explicit for very fast machines.
sleep 1
build "$two" "$work/out-two"

exe=leakscan
[ -f "$work/out-one/leakscan.exe" ] && exe=leakscan.exe
hash() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}
# The binary, and on Linux its separate debug info.
files=("$exe")
[ -f "$work/out-one/leakscan.debug" ] && files+=(leakscan.debug)
status=0
for f in "${files[@]}"; do
  h1=$(hash "$work/out-one/$f")
  h2=$(hash "$work/out-two/$f")
  echo "build 1 ($one): $f $h1"
  echo "build 2 ($two): $f $h2"
  if [ "$h1" != "$h2" ]; then
    echo "check-reproducible: FAILED, the two builds' $f differ" >&2
    cmp "$work/out-one/$f" "$work/out-two/$f" | head -5 >&2 || true
    status=1
  fi
done
if [ -n "$keep" ]; then
  mkdir -p "$keep"
  for f in "${files[@]}"; do cp "$work/out-one/$f" "$keep/$f"; done
fi
[ $status = 0 ] || exit 1
echo "check-reproducible: ok, identical (${files[*]}: $(cat "${files[@]/#/$work/out-one/}" | wc -c) bytes)"
