# shellcheck shell=bash disable=SC2154,SC2034 # root and target_dir come from the sourcing script, which reads split_debuginfo
# scripts/release-env.sh - sourced by scripts/build-release.sh and
# packaging/build-wheel.sh: the environment of the reproducible release build.
# Expects `root` (the checkout) and `target_dir` (Cargo's target directory);
# exports SOURCE_DATE_EPOCH, TZ, LC_ALL, RUSTFLAGS, CFLAGS and CXXFLAGS with
# the path maps, and CARGO_PROFILE_DIST_STRIP on Linux; sets `target_dir` to
# its physical path, and `split_debuginfo` to 1 where the release scripts
# split the debug info out of the binary themselves (Linux), else 0.
# Both scripts must build with exactly this environment: the wheel's binary
# is checked to be byte-identical to the release binary.

cargo_home=${CARGO_HOME:-$HOME/.cargo}
cargo_home=$(cd "$cargo_home" && pwd -P)
mkdir -p "$target_dir"
target_dir=$(cd "$target_dir" && pwd -P)

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH
# Fixed, path-free settings for anything that reads them.
export TZ=UTC LC_ALL=C
unset CARGO_INCREMENTAL RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER

# Linux (ELF): Cargo's `dist` profile keeps the debug info in the executable
# (its strip = "debuginfo" is overridden), and scripts/split-debuginfo.sh
# moves it to leakscan.debug after the build. Set here, not in Cargo.toml,
# because macOS and Windows keep Cargo's own split (.dSYM, .pdb); set for
# build-release.sh and maturin alike, as a profile change rebuilds every
# crate.
case "${target:-$("${RUSTC:-rustc}" -vV | sed -n 's/^host: //p')}" in
  *-linux-*) export CARGO_PROFILE_DIST_STRIP=none; split_debuginfo=1 ;;
  *) unset CARGO_PROFILE_DIST_STRIP; split_debuginfo=0 ;;
esac

# Path maps: rustc, GCC and Clang all apply the last matching map, so the
# most specific prefix (the target directory) comes last.
remap_rust=""
remap_c=""
add_map() { # FROM TO
  remap_rust="$remap_rust --remap-path-prefix=$1=$2"
  remap_c="$remap_c -ffile-prefix-map=$1=$2"
}
# Under Git Bash on Windows, rustc sees native paths (C:/...), not /c/...
native() { if command -v cygpath >/dev/null 2>&1; then cygpath -m "$1"; else printf '%s' "$1"; fi; }
add_map "$(native "$cargo_home")" /cargo
add_map "$(native "$root")" /build/leakscan
add_map "$(native "$target_dir")" /build/target
# MSVC's cl.exe has no -ffile-prefix-map (and warns about it): the C maps
# are for GCC and Clang only. Windows builds are not claimed reproducible.
case "${target:-}" in *-msvc) remap_c="" ;; esac
if [ -z "${target:-}" ] && command -v cygpath >/dev/null 2>&1; then remap_c=""; fi

case "$cargo_home$root$target_dir" in
  *[[:space:]]*)
    echo "release-env: the checkout, CARGO_HOME and target paths must not contain spaces" >&2
    return 2 ;;
esac
export RUSTFLAGS="${RUSTFLAGS:-}$remap_rust"
export CFLAGS="${CFLAGS:-} $remap_c"
export CXXFLAGS="${CXXFLAGS:-} $remap_c"
unset CARGO_ENCODED_RUSTFLAGS
