#!/usr/bin/env bash
# scripts/build-release.sh - the reproducible release build.
#
# Usage: scripts/build-release.sh OUTDIR [--target TRIPLE]
#
# Builds the release binary of the checked-out commit into OUTDIR/leakscan
# (leakscan.exe on Windows), and its debug info beside it (Linux:
# OUTDIR/leakscan.debug, split out and checked by scripts/split-debuginfo.sh;
# Windows .pdb, macOS .dSYM), such that two builds of the same commit, with the
# same toolchain, from different checkout paths and at different times, give
# byte-identical files:
# - every absolute path that could reach the binary is remapped: the checkout
#   (Rust: --remap-path-prefix; the bundled C of libgit2, libdeflate and
#   mimalloc: -ffile-prefix-map in CFLAGS, which covers __FILE__ and the
#   DWARF line tables and compilation directory), Cargo's home (registry
#   sources) and the target directory;
# - SOURCE_DATE_EPOCH is the commit time (unless already set);
# - --locked: Cargo.lock is used as is;
# - build.rs writes rules.json from rules.toml through sorted maps.
# The binary embeds its dependency list (`cargo auditable`; read it back with
# `cargo audit bin` or `rust-audit-info`). Set LEAKSCAN_NO_AUDITABLE=1 to
# build without it (the result is then not the published binary).
#
# The build uses its own target directory (target/release-build under the
# checkout, or $LEAKSCAN_RELEASE_TARGET_DIR), so the everyday target/ keeps
# its cache. Environment passed through: CARGO, CC_<target> and the like
# for cross builds.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR [--target TRIPLE]" >&2; exit 2; }
[ $# -ge 1 ] || usage
outdir=$1; shift
target=""
while [ $# -gt 0 ]; do
  case $1 in
    --target) [ $# -ge 2 ] || usage; target=$2; shift 2 ;;
    --target=*) target=${1#--target=}; shift ;;
    *) usage ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd -P)
cargo=${CARGO:-cargo}
target_dir=${LEAKSCAN_RELEASE_TARGET_DIR:-$root/target/release-build}
mkdir -p "$outdir"
# shellcheck source=scripts/release-env.sh
. "$root/scripts/release-env.sh"

build=(build)
if [ "${LEAKSCAN_NO_AUDITABLE:-0}" != 1 ]; then
  if ! "$cargo" auditable --version >/dev/null 2>&1; then
    echo "build-release: cargo-auditable is not installed" \
      "(cargo install cargo-auditable --locked), or set LEAKSCAN_NO_AUDITABLE=1" >&2
    exit 2
  fi
  build=(auditable build)
fi
# Cargo's `dist` profile: the release profile with the debug info stripped
# from the executable (Cargo.toml says why); on Linux, Cargo keeps it and
# scripts/split-debuginfo.sh moves it to OUTDIR/leakscan.debug
# (scripts/release-env.sh).
args=(--profile dist --locked --target-dir "$target_dir" --manifest-path "$root/Cargo.toml")
bin_dir="$target_dir/dist"
if [ -n "$target" ]; then
  args+=(--target "$target")
  bin_dir="$target_dir/$target/dist"
fi

(cd "$root" && "$cargo" "${build[@]}" "${args[@]}" --bin leakscan)

exe=leakscan
if [ -f "$bin_dir/leakscan.exe" ]; then exe=leakscan.exe; fi
# The debug info, a separate artifact: leakscan.debug (Linux: split here,
# checked by scripts/split-debuginfo.sh), leakscan.pdb (Windows),
# leakscan.dSYM (macOS) (both made by Cargo).
debug=()
rm -rf "${outdir:?}/leakscan.debug"
if [ "$split_debuginfo" = 1 ]; then
  "$root/scripts/split-debuginfo.sh" "$bin_dir/$exe" "$outdir/$exe" "$outdir/leakscan.debug"
  debug+=(leakscan.debug)
else
  cp "$bin_dir/$exe" "$outdir/$exe"
fi
for d in leakscan.pdb leakscan.dSYM; do
  if [ -e "$bin_dir/$d" ]; then
    rm -rf "${outdir:?}/$d"
    cp -R "$bin_dir/$d" "$outdir/$d"
    debug+=("$d")
  fi
done
if command -v sha256sum >/dev/null 2>&1; then
  (cd "$outdir" && sha256sum "$exe")
else
  (cd "$outdir" && shasum -a 256 "$exe")
fi
if [ ${#debug[@]} -gt 0 ]; then
  echo "build-release: debug info in $outdir/${debug[*]}"
fi
