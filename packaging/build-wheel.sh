#!/usr/bin/env bash
# packaging/build-wheel.sh - the `leakscan-bin` wheel (packaging/pypi): the
# release binary packaged by maturin (`bindings = "bin"`).
#
# Usage: packaging/build-wheel.sh OUTDIR --binary-dir DIR [--target TRIPLE]
#   DIR holds the binary that scripts/build-release.sh made (DIR/leakscan).
#
# maturin runs Cargo itself. It is given the environment and the target
# directory of scripts/build-release.sh (scripts/release-env.sh) and the same
# cargo-auditable rustc wrapper that `cargo auditable build` sets, so Cargo
# finds the release build up to date and the wheel gets the very same
# executable. That is checked: the wheel's binary must be byte-identical to
# DIR/leakscan, else the script fails (a wheel must carry the published,
# attested binary, not a second build of it).
set -euo pipefail

usage() { echo "usage: $0 OUTDIR --binary-dir DIR [--target TRIPLE]" >&2; exit 2; }
[ $# -ge 1 ] || usage
outdir=$1; shift
bindir=""; target=""
while [ $# -gt 0 ]; do
  case $1 in
    --binary-dir) [ $# -ge 2 ] || usage; bindir=$2; shift 2 ;;
    --target) [ $# -ge 2 ] || usage; target=$2; shift 2 ;;
    *) usage ;;
  esac
done
[ -n "$bindir" ] || usage
exe=leakscan
[ -f "$bindir/leakscan.exe" ] && exe=leakscan.exe
[ -f "$bindir/$exe" ] || { echo "build-wheel: no $bindir/$exe (run scripts/build-release.sh first)" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd -P)
target_dir=${LEAKSCAN_RELEASE_TARGET_DIR:-$root/target/release-build}
maturin=${MATURIN:-maturin}
# shellcheck source=scripts/release-env.sh
. "$root/scripts/release-env.sh"

if [ "${LEAKSCAN_NO_AUDITABLE:-0}" != 1 ]; then
  auditable=$(command -v cargo-auditable) || {
    echo "build-wheel: cargo-auditable is not installed (or set LEAKSCAN_NO_AUDITABLE=1 as for the release build)" >&2
    exit 2
  }
  # What `cargo auditable build --release --locked` sets for Cargo.
  export RUSTC_WORKSPACE_WRAPPER="$auditable"
  export CARGO_AUDITABLE_ORIG_ARGS='{"offline":false,"locked":true,"frozen":false,"config":[]}'
fi

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd -P)
args=(build --profile dist --locked --target-dir "$target_dir" --out "$outdir" --auditwheel skip)
[ -n "$target" ] && args+=(--target "$target")
before=$(ls "$outdir")
(cd "$root/packaging/pypi" && "$maturin" "${args[@]}")
wheel=""
for w in "$outdir"/leakscan_bin-*.whl; do
  case " $before " in *" $(basename "$w") "*) ;; *) wheel=$w ;; esac
done
[ -n "$wheel" ] || { echo "build-wheel: maturin made no new wheel in $outdir" >&2; exit 2; }

# The wheel must carry the release binary, byte for byte.
"${PYTHON:-python3}" - "$wheel" "$bindir/$exe" "$exe" <<'PY'
import hashlib, sys, zipfile
wheel, binary, exe = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.endswith(".data/scripts/" + exe)]
    if len(names) != 1:
        sys.exit(f"build-wheel: {wheel} has no single scripts/{exe}: {z.namelist()}")
    inside = z.read(names[0])
    mode = (z.getinfo(names[0]).external_attr >> 16) & 0o777
with open(binary, "rb") as fh:
    outside = fh.read()
h = lambda b: hashlib.sha256(b).hexdigest()
if inside != outside:
    sys.exit(f"build-wheel: the wheel's {exe} ({h(inside)}) differs from {binary} ({h(outside)})")
if exe == "leakscan" and not mode & 0o111:
    sys.exit(f"build-wheel: {names[0]} is not executable in the wheel (mode {oct(mode)})")
print(f"build-wheel: {wheel.rsplit('/', 1)[-1]} carries {exe} sha256 {h(inside)}")
PY
