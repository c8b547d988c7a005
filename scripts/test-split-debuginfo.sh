#!/usr/bin/env bash
# scripts/test-split-debuginfo.sh - shows that scripts/split-debuginfo.sh's
# checks catch what they claim to: given Cargo's unsplit Linux executable
# (target/release-build/dist/leakscan after scripts/build-release.sh), it
# splits it as the release does (must pass), then breaks one thing at a time
# with a wrapped binutils tool and expects the split to fail naming it:
#   - objcopy that does not strip       -> "still holds DWARF"
#   - an input without debug info       -> "has no .debug_info"
#   - a .debug file changed after the link -> "CRC"
#   - addr2line that resolves nothing   -> "addr2line"
# Usage: scripts/test-split-debuginfo.sh UNSPLIT_BINARY
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 UNSPLIT_BINARY" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd -P)
split="$root/scripts/split-debuginfo.sh"
bin=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/leakscan-split-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
real_objcopy=$(command -v "${OBJCOPY:-objcopy}")
failures=0

# expect_failure NAME MESSAGE [ENV=VALUE...] -- INPUT
expect_failure() {
  local name=$1 message=$2; shift 2
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  local input=$2 out="$work/$name"
  mkdir -p "$out"
  if env ${envs[@]+"${envs[@]}"} "$split" "$input" "$out/leakscan" "$out/leakscan.debug" >"$out/log" 2>&1; then
    echo "test-split-debuginfo: FAILED: $name: the split passed" >&2
    failures=$((failures + 1))
  elif ! grep -q -- "$message" "$out/log"; then
    echo "test-split-debuginfo: FAILED: $name: no '$message' in: $(cat "$out/log")" >&2
    failures=$((failures + 1))
  else
    echo "test-split-debuginfo: ok: $name fails: $(grep -- "$message" "$out/log" | head -1 | cut -c1-150)"
  fi
}

# The release's own split must pass.
mkdir "$work/good"
"$split" "$bin" "$work/good/leakscan" "$work/good/leakscan.debug" >/dev/null
echo "test-split-debuginfo: ok: the release's split passes"

mkdir "$work/tools"
# objcopy that drops --strip-debug (and --only-keep-debug works as usual).
cat >"$work/tools/objcopy-no-strip" <<EOF
#!/usr/bin/env bash
args=(); for a in "\$@"; do [ "\$a" = --strip-debug ] || args+=("\$a"); done
exec "$real_objcopy" "\${args[@]}"
EOF
# objcopy that, after adding the debuglink, appends a byte to the debug file.
cat >"$work/tools/objcopy-late-change" <<EOF
#!/usr/bin/env bash
"$real_objcopy" "\$@" || exit
for a in "\$@"; do case \$a in --add-gnu-debuglink=*) printf x >>"\${a#*=}" ;; esac; done
EOF
# addr2line that knows nothing.
printf '#!/bin/sh\nprintf "??\\n??:0\\n"\n' >"$work/tools/addr2line-blind"
chmod +x "$work"/tools/objcopy-* "$work/tools/addr2line-blind"
# An input whose debug info is gone already.
"$real_objcopy" --strip-debug "$bin" "$work/no-dwarf"

expect_failure not-stripped "still holds DWARF" OBJCOPY="$work/tools/objcopy-no-strip" -- "$bin"
expect_failure no-debug-info "has no .debug_info" -- "$work/no-dwarf"
expect_failure crc-mismatch "CRC" OBJCOPY="$work/tools/objcopy-late-change" -- "$bin"
expect_failure addr2line-blind "addr2line" ADDR2LINE="$work/tools/addr2line-blind" -- "$bin"

[ $failures = 0 ] || exit 1
echo "test-split-debuginfo: ok, every check fails when it should"
