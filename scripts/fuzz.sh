#!/usr/bin/env bash
# Fuzzing leakscan's parsers of untrusted bytes (#9). Targets live in fuzz/
# (a cargo-fuzz crate with its own workspace; needs the nightly toolchain and
# cargo-fuzz). Seed corpora are committed under fuzz/corpus/TARGET/seed-*,
# crash reproducers under fuzz/regressions/TARGET/ (each also has a test).
#
#   scripts/fuzz.sh seeds              regenerate the seed corpora from real git data
#   scripts/fuzz.sh replay [TARGET..]  run every seed and regression once (no fuzzing)
#   scripts/fuzz.sh run SECS [TARGET..]  fuzz each target SECS seconds, one at a
#                                        time, one job; prints runs per target
#
# New inputs found while fuzzing go to a scratch corpus under
# ${FUZZ_WORK:-/tmp/leakscan-fuzz}; crashes to fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGETS=(index pack_index history_idx pack_entry loose_object delta tree reftable config baseline matcher)
WORK=${FUZZ_WORK:-/tmp/leakscan-fuzz}
# Limits: a hang is a failure after 10 s on one input, and no input may take
# more than 2 GB of memory (or one allocation more than 1 GB).
LIMITS=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024)

targets() { if [ $# -gt 0 ]; then echo "$@"; else echo "${TARGETS[@]}"; fi; }

seeds() {
  local tmp; tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  local g=(git -c user.name=Fuzz -c user.email=fuzz@example.com -c init.defaultBranch=main)
  (
    cd "$tmp" && "${g[@]}" init -q repo && cd repo
    printf 'first line\nsecond line\n' > a.txt
    mkdir -p dir/sub && printf 'fn main() {}\n' > dir/sub/main.rs
    printf '[allowlist]\npaths = ["vendor/**"]\n' > .leakscan.toml
    "${g[@]}" add -A && "${g[@]}" commit -qm one
    for i in 1 2 3; do printf 'line %s\n' "$i" >> a.txt; "${g[@]}" commit -qam "change $i"; done
    "${g[@]}" write-tree >/dev/null
  )
  local repo=$tmp/repo
  for t in "${TARGETS[@]}"; do rm -rf "fuzz/corpus/$t"; mkdir -p "fuzz/corpus/$t"; done
  cp "$repo/.git/index" fuzz/corpus/index/seed-v2
  git -C "$repo" update-index --index-version 4
  cp "$repo/.git/index" fuzz/corpus/index/seed-v4
  for id in $(git -C "$repo" rev-parse HEAD HEAD^{tree} HEAD:a.txt); do
    cp "$repo/.git/objects/${id:0:2}/${id:2}" "fuzz/corpus/loose_object/seed-$id"
  done
  git -C "$repo" cat-file tree HEAD^{tree} > fuzz/corpus/tree/seed-root
  git -C "$repo" cat-file tree HEAD:dir > fuzz/corpus/tree/seed-dir
  git -C "$repo" cat-file commit HEAD > fuzz/corpus/tree/seed-commit
  # SHA-256 trees and reftables (version 1 for SHA-1, 2 for SHA-256).
  for f in sha1 sha256; do
    "${g[@]}" init -q --object-format=$f --ref-format=reftable "$tmp/rt-$f"
    cp -r "$repo"/a.txt "$repo"/dir "$tmp/rt-$f/"
    "${g[@]}" -C "$tmp/rt-$f" add -A && "${g[@]}" -C "$tmp/rt-$f" commit -qm one
    "${g[@]}" -C "$tmp/rt-$f" tag -a -m t v1 && "${g[@]}" -C "$tmp/rt-$f" pack-refs --all
    cp "$tmp/rt-$f"/.git/reftable/0x*.ref "fuzz/corpus/reftable/seed-$f"
    "${g[@]}" -C "$tmp/rt-$f" cat-file tree HEAD^{tree} > "fuzz/corpus/tree/seed-root-$f"
  done
  git -C "$repo" repack -adq
  cp "$repo"/.git/objects/pack/*.idx fuzz/corpus/pack_index/seed-idx
  git -C "$tmp/rt-sha256" repack -adq
  cp "$tmp/rt-sha256"/.git/objects/pack/*.idx fuzz/corpus/pack_index/seed-idx-sha256
  # history_idx: edits to the index of a repository the target builds
  # itself (4 bytes each: op, position, value; see fuzzing::history_idx).
  : > fuzz/corpus/history_idx/seed-pristine
  printf '\001\004\100\177' > fuzz/corpus/history_idx/seed-insert-offsets
  printf '\000\004\100\200\003\377\377\001' > fuzz/corpus/history_idx/seed-large-offset
  python3 - "$repo" <<'PY'
import glob, struct, sys, zlib
repo = sys.argv[1]
pack = open(glob.glob(repo + "/.git/objects/pack/*.pack")[0], "rb").read()
idx = open(glob.glob(repo + "/.git/objects/pack/*.idx")[0], "rb").read()
n = struct.unpack(">I", idx[8 + 255 * 4:8 + 256 * 4])[0]
base = 8 + 256 * 4 + n * 24
offs = sorted(struct.unpack(">I", idx[base + 4 * i:base + 4 * i + 4])[0] for i in range(n))
ends = offs[1:] + [len(pack) - 20]
for k, (a, b) in enumerate(zip(offs, ends)):
    if k < 6:
        open(f"fuzz/corpus/pack_entry/seed-{k}", "wb").write(pack[a:b])
# Deltas: first byte splits base and delta (see fuzzing::delta).
def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7f; v >>= 7
        if v: out.append(b | 0x80)
        else: out.append(b); return bytes(out)
base_text = b"hello, world. goodbye, world."
ops = bytes([0x91, 0, 7]) + bytes([9]) + b"brave new" + bytes([0x91, 12, 10])
delta = varint(len(base_text)) + varint(26) + ops
split = (len(base_text) * 256 + len(base_text + delta) - 1) // len(base_text + delta)
open("fuzz/corpus/delta/seed-copy-insert", "wb").write(bytes([split]) + base_text + delta)
PY
  cp "$repo/.leakscan.toml" fuzz/corpus/config/seed-allowlist
  cat > fuzz/corpus/config/seed-rules <<'TOML'
[[rules]]
id = "internal-token"
description = "An internal token"
regex = '''itk_[a-z0-9]{8}'''
keywords = ["itk_"]

[rules.allowlist]
regexes = ['''itk_0{8}''']
TOML
  cat > fuzz/corpus/baseline/seed-ours <<'JSON'
{
  "version": 1,
  "salt": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
  "entries": [
    {"rule": "generic-password", "path": "a.txt", "hash": "0000000000000000000000000000000000000000000000000000000000000000", "status": "false-positive"}
  ]
}
JSON
  cat > fuzz/corpus/baseline/seed-gitleaks <<'JSON'
[{"RuleID": "generic-api-key", "File": "a.txt", "StartLine": 2, "Secret": "", "Match": "", "Commit": "", "Fingerprint": "a.txt:generic-api-key:2"}]
JSON
  cat > fuzz/corpus/baseline/seed-detect-secrets <<'JSON'
{"version": "1.5.0", "plugins_used": [], "filters_used": [], "results": {"a.txt": [{"type": "Secret Keyword", "filename": "a.txt", "hashed_secret": "0000000000000000000000000000000000000000", "is_verified": false, "line_number": 2}]}, "generated_at": "2024-01-01T00:00:00Z"}
JSON
  # Keyword-bearing text without anything that looks like a real credential.
  printf 'password = "changeme"\napi_key: none\nBEGIN PRIVATE KEY (none here)\nAKIA prefix alone\ntoken=ghp_ too short\n' \
    > fuzz/corpus/matcher/seed-keywords
  cp README.md fuzz/corpus/matcher/seed-readme
  ls fuzz/corpus/*/ | head -50
}

replay() {
  cd fuzz
  for t in $(targets "$@"); do
    local dirs=("corpus/$t")
    [ -d "regressions/$t" ] && dirs+=("regressions/$t")
    # -runs=0 executes every input once; a crash makes cargo fuzz fail.
    local out
    if ! out=$(cargo +nightly fuzz run "$t" "${dirs[@]}" -- -runs=0 "${LIMITS[@]}" 2>&1); then
      echo "$out" | tail -30
      echo "fuzz: $t crashes on its corpus or regressions (${dirs[*]})" >&2
      exit 1
    fi
    echo "fuzz: replayed $t: $(echo "$out" | grep -o 'seed corpus: files: [0-9]*' | grep -o '[0-9]*$') inputs, no crash"
  done
}

run() {
  local secs=$1; shift
  cd fuzz
  for t in $(targets "$@"); do
    mkdir -p "$WORK/$t" "artifacts/$t"
    cp -n corpus/"$t"/* "$WORK/$t/" 2>/dev/null || true
    local log="$WORK/$t.log"
    local start=$SECONDS
    if cargo +nightly fuzz run "$t" "$WORK/$t" corpus/"$t" -- -max_total_time="$secs" \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" "${LIMITS[@]}" >"$log" 2>&1; then
      status=ok
    else
      status=CRASH
    fi
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
    echo "fuzz: $t: $status, $runs runs in $((SECONDS - start)) s (log $log)"
    [ "$status" = ok ] || { tail -30 "$log"; exit 1; }
  done
}

case "${1:-}" in
  seeds) seeds ;;
  replay) shift; replay "$@" ;;
  run) shift; run "$@" ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
