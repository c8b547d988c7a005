#!/usr/bin/env bash
# scripts/split-debuginfo.sh - the Linux (ELF) release binary without its
# debug info, and that debug info as a separate file which symbolizes the
# binary's addresses (a crash report, a core dump).
#
# Usage: scripts/split-debuginfo.sh BINARY OUT_BINARY OUT_DEBUG
#
# With GNU binutils:
#   objcopy --only-keep-debug BINARY OUT_DEBUG
#   objcopy --strip-debug --add-gnu-debuglink=OUT_DEBUG BINARY OUT_BINARY
# OUT_BINARY keeps its symbol table (a panic's backtrace still names
# functions) and names OUT_DEBUG's file name and CRC-32 in .gnu_debuglink,
# where gdb looks for it (next to the binary, or under /usr/lib/debug).
# Both outputs are functions of BINARY alone: the split keeps a
# reproducible build reproducible.
#
# Then checks, failing (exit 1) on any:
#   - OUT_BINARY holds no DWARF (no .debug_info, .debug_line, ... section);
#   - OUT_DEBUG holds .debug_info and .debug_line;
#   - the CRC-32 in OUT_BINARY's .gnu_debuglink is OUT_DEBUG's;
#   - addr2line, given OUT_DEBUG alone, resolves the address of
#     `leakscan::main` (read from OUT_BINARY's symbol table) to that function
#     in src/main.rs.
# OBJCOPY, READELF, NM and ADDR2LINE name other binutils (cross builds).
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: $0 BINARY OUT_BINARY OUT_DEBUG" >&2; exit 2; }
bin=$1 out_bin=$2 out_debug=$3
objcopy=${OBJCOPY:-objcopy} readelf=${READELF:-readelf} nm=${NM:-nm} addr2line=${ADDR2LINE:-addr2line}
for tool in "$objcopy" "$readelf" "$nm" "$addr2line" python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "split-debuginfo: $tool not found (GNU binutils)" >&2; exit 2; }
done
fail() { echo "split-debuginfo: FAILED: $*" >&2; exit 1; }

rm -f "$out_bin" "$out_debug"
"$objcopy" --only-keep-debug "$bin" "$out_debug"
# --add-gnu-debuglink reads OUT_DEBUG by its path and records its base name.
"$objcopy" --strip-debug --add-gnu-debuglink="$out_debug" "$bin" "$out_bin"
chmod 0644 "$out_debug"

# DWARF section names in a file (.debug_gdb_scripts is Rust's gdb
# pretty-printer hint, loaded with the program: not debug info).
dwarf_sections() {
  "$readelf" -S -W "$1" 2>/dev/null | sed -n 's/^ *\[ *[0-9]*\] \(\.debug_[a-z_.]*\) .*/\1/p' | grep -vx '\.debug_gdb_scripts' || true
}
left=$(dwarf_sections "$out_bin")
[ -z "$left" ] || fail "$out_bin still holds DWARF: $(echo "$left" | tr '\n' ' ')"
kept=$(dwarf_sections "$out_debug")
for s in .debug_info .debug_line; do
  grep -qx "$s" <<<"$kept" || fail "$out_debug has no $s section (was $bin built with debug info?)"
done

# .gnu_debuglink: the file name, NUL, padding to 4 bytes, the CRC-32 of the
# debug file in the ELF's byte order.
python3 - "$objcopy" "$out_bin" "$out_debug" <<'PY'
import os, subprocess, sys, tempfile, zlib
objcopy, binary, debug = sys.argv[1:]
with tempfile.TemporaryDirectory() as d:
    sec = os.path.join(d, "link")
    subprocess.run([objcopy, "--dump-section", ".gnu_debuglink=" + sec, binary, os.path.join(d, "scratch")],
                   check=True, capture_output=True)
    link = open(sec, "rb").read()
with open(binary, "rb") as fh:
    order = "little" if fh.read(6)[5] == 1 else "big"
name = link[: link.index(b"\0")].decode()
stored = int.from_bytes(link[-4:], order)
crc = 0
with open(debug, "rb") as fh:
    for block in iter(lambda: fh.read(1 << 20), b""):
        crc = zlib.crc32(block, crc)
if name != os.path.basename(debug):
    sys.exit(f"split-debuginfo: FAILED: {binary}'s debuglink names {name!r}, not {os.path.basename(debug)!r}")
if stored != crc:
    sys.exit(f"split-debuginfo: FAILED: {binary}'s debuglink CRC {stored:08x} is not {debug}'s ({crc:08x})")
print(f"split-debuginfo: debuglink {name}, CRC-32 {crc:08x} matches")
PY

# leakscan::main, legacy-mangled _ZN8leakscan4main17h<hash>E.
addr=$("$nm" --defined-only "$out_bin" | awk '$3 ~ /^_ZN8leakscan4main17h[0-9a-f]+E$/ && !a { a = $1 } END { print a }')
[ -n "$addr" ] || fail "no leakscan::main in $out_bin's symbol table"
resolved=$("$addr2line" -f -C -e "$out_debug" "0x$addr" | paste -sd ' ')
case "$resolved" in
  "leakscan::main "*src/main.rs:[1-9]*) ;;
  *) fail "addr2line -f -C -e $out_debug 0x$addr gave '$resolved', not leakscan::main in src/main.rs" ;;
esac
echo "split-debuginfo: addr2line -f -C -e $(basename "$out_debug") 0x$addr -> $resolved"
echo "split-debuginfo: $(basename "$bin") $(wc -c <"$bin") bytes -> $(basename "$out_bin") $(wc -c <"$out_bin")" \
  "+ $(basename "$out_debug") $(wc -c <"$out_debug") bytes"
