#!/usr/bin/env bash
# packaging/build-wheel.sh - the `leakscan-bin` wheel (packaging/pypi): the
# release binary packaged by maturin (`bindings = "bin"`).
#
# Usage: packaging/build-wheel.sh OUTDIR --binary-dir DIR [--target TRIPLE]
#   DIR holds what scripts/build-release.sh made (DIR/leakscan, and on Linux
#   DIR/leakscan.debug).
#
# maturin runs Cargo itself. It is given the environment and the target
# directory of scripts/build-release.sh (scripts/release-env.sh) and the same
# cargo-auditable rustc wrapper that `cargo auditable build` sets, so Cargo
# finds the release build up to date: no second build. The wheel must carry
# the published binary, byte for byte:
# - macOS, Windows: maturin packages Cargo's executable, which is the release
#   binary; checked.
# - Linux: the release binary is Cargo's executable with its debug info moved
#   to leakscan.debug (scripts/split-debuginfo.sh), so maturin packages the
#   unsplit executable. That executable, split the same way, must give the
#   release binary byte for byte (proof that maturin's Cargo run built
#   nothing else); the wheel's copy is then replaced by the release binary
#   (`wheel unpack`, `wheel pack`, which rewrites RECORD). Needs the `wheel`
#   package in PYTHON (default python3).
# The script fails if the wheel's binary is not the release binary.
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

python=${PYTHON:-python3}
if [ "$split_debuginfo" = 1 ]; then
  [ -f "$bindir/leakscan.debug" ] || { echo "build-wheel: no $bindir/leakscan.debug (a Linux release build makes one)" >&2; exit 2; }
  work=$(mktemp -d "${TMPDIR:-/tmp}/leakscan-wheel.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  "$python" -m wheel unpack --dest "$work/unpacked" "$wheel" >/dev/null
  inside=$(find "$work/unpacked" -path '*.data/scripts/leakscan' -type f)
  [ "$(printf '%s\n' "$inside" | grep -c .)" = 1 ] || { echo "build-wheel: $wheel has no single scripts/leakscan" >&2; exit 2; }
  mkdir "$work/split"
  "$root/scripts/split-debuginfo.sh" "$inside" "$work/split/leakscan" "$work/split/leakscan.debug" >/dev/null
  if ! cmp -s "$work/split/leakscan" "$bindir/leakscan"; then
    echo "build-wheel: maturin's executable, split, differs from $bindir/leakscan: not the same build" \
      "(was $bindir made from this checkout by scripts/build-release.sh? did Cargo build again, with another" \
      "environment or profile?)" >&2
    exit 1
  fi
  echo "build-wheel: maturin's executable split as the release's is $bindir/leakscan byte for byte; packaging that"
  cp "$bindir/leakscan" "$inside"
  chmod 0755 "$inside"
  rm "$wheel"
  "$python" -m wheel pack --dest-dir "$outdir" "$(dirname "$(dirname "$(dirname "$inside")")")" >/dev/null
  [ -f "$wheel" ] || { echo "build-wheel: wheel pack did not remake $wheel" >&2; exit 2; }
fi

# The wheel must carry the release binary, byte for byte.
"$python" - "$wheel" "$bindir/$exe" "$exe" <<'PY'
import base64, hashlib, sys, zipfile
wheel, binary, exe = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.endswith(".data/scripts/" + exe)]
    if len(names) != 1:
        sys.exit(f"build-wheel: {wheel} has no single scripts/{exe}: {z.namelist()}")
    inside = z.read(names[0])
    mode = (z.getinfo(names[0]).external_attr >> 16) & 0o777
    record = [n for n in z.namelist() if n.endswith(".dist-info/RECORD")]
    lines = z.read(record[0]).decode().splitlines() if len(record) == 1 else []
with open(binary, "rb") as fh:
    outside = fh.read()
h = lambda b: hashlib.sha256(b).hexdigest()
if inside != outside:
    sys.exit(f"build-wheel: the wheel's {exe} ({h(inside)}) differs from {binary} ({h(outside)})")
if exe == "leakscan" and not mode & 0o111:
    sys.exit(f"build-wheel: {names[0]} is not executable in the wheel (mode {oct(mode)})")
# RECORD must list the binary with its hash (pip checks it on install).
digest = base64.urlsafe_b64encode(hashlib.sha256(inside).digest()).rstrip(b"=").decode()
if f"{names[0]},sha256={digest},{len(inside)}" not in lines:
    sys.exit(f"build-wheel: {wheel}'s RECORD does not list {names[0]} with its hash")
print(f"build-wheel: {wheel.rsplit('/', 1)[-1]} carries {exe} sha256 {h(inside)}")
PY
