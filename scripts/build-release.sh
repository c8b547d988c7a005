#!/usr/bin/env bash
# scripts/build-release.sh - the reproducible release build.
#
# Usage: scripts/build-release.sh OUTDIR [--target TRIPLE]
#
# Builds the release binary of the checked-out commit into OUTDIR/leakscan
# (leakscan.exe on Windows) such that two builds of the same commit, with the
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
cargo_home=${CARGO_HOME:-$HOME/.cargo}
cargo_home=$(cd "$cargo_home" && pwd -P)
target_dir=${LEAKSCAN_RELEASE_TARGET_DIR:-$root/target/release-build}
mkdir -p "$target_dir" "$outdir"
target_dir=$(cd "$target_dir" && pwd -P)

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH
# Fixed, path-free settings for anything that reads them.
export TZ=UTC LC_ALL=C
unset CARGO_INCREMENTAL RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER

# Path maps: rustc, GCC and Clang all apply the last matching map, so the
# most specific prefix (the target directory) comes last.
remap_rust=""
remap_c=""
add_map() { # FROM TO
  remap_rust="$remap_rust --remap-path-prefix=$1=$2"
  remap_c="$remap_c -ffile-prefix-map=$1=$2"
}
add_map "$cargo_home" /cargo
add_map "$root" /build/leakscan
add_map "$target_dir" /build/target

case "$cargo_home$root$target_dir" in
  *[[:space:]]*)
    echo "build-release: the checkout, CARGO_HOME and target paths must not contain spaces" >&2
    exit 2 ;;
esac
export RUSTFLAGS="${RUSTFLAGS:-}$remap_rust"
export CFLAGS="${CFLAGS:-} $remap_c"
export CXXFLAGS="${CXXFLAGS:-} $remap_c"
unset CARGO_ENCODED_RUSTFLAGS

build=(build)
if [ "${LEAKSCAN_NO_AUDITABLE:-0}" != 1 ]; then
  if ! "$cargo" auditable --version >/dev/null 2>&1; then
    echo "build-release: cargo-auditable is not installed" \
      "(cargo install cargo-auditable --locked), or set LEAKSCAN_NO_AUDITABLE=1" >&2
    exit 2
  fi
  build=(auditable build)
fi
args=(--release --locked --target-dir "$target_dir" --manifest-path "$root/Cargo.toml")
bin_dir="$target_dir/release"
if [ -n "$target" ]; then
  args+=(--target "$target")
  bin_dir="$target_dir/$target/release"
fi

(cd "$root" && "$cargo" "${build[@]}" "${args[@]}" --bin leakscan)

exe=leakscan
if [ -f "$bin_dir/leakscan.exe" ]; then exe=leakscan.exe; fi
cp "$bin_dir/$exe" "$outdir/$exe"
if command -v sha256sum >/dev/null 2>&1; then
  (cd "$outdir" && sha256sum "$exe")
else
  (cd "$outdir" && shasum -a 256 "$exe")
fi
