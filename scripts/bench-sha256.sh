#!/usr/bin/env bash
# `history --all` of the 24k-commit benchmark history against the same
# history converted to SHA-256 ids (git fast-export | git fast-import into a
# `git init --object-format=sha256` repository, then `git gc`), paired and
# interleaved, and a check that both report the same findings (commits
# mapped through the fast-export/fast-import marks).
#
#   scripts/bench-sha256.sh [LEAKSCAN] [RUNS]
set -euo pipefail
BIN=${1:-target/release/leakscan}
RUNS=${2:-5}
DATA=${BENCH_DATA:-/work/bench-data}
SRC=$DATA/history24k
DST=$DATA/history24k-sha256
if [ ! -d "$DST/.git" ]; then
    git init -q --object-format=sha256 "$DST"
    git -C "$DST" config gc.auto 0
    git -C "$SRC" fast-export --all --signed-tags=strip --export-marks="$DST.sha1-marks" |
        git -C "$DST" fast-import --quiet --export-marks="$DST.sha256-marks"
    git -C "$DST" gc -q
    # fast-import leaves HEAD at git's default branch name: point it where
    # the original's points.
    git -C "$DST" symbolic-ref HEAD "$(git -C "$SRC" symbolic-ref HEAD)"
fi
# Interleaved: SHA-1, SHA-256, SHA-1, … (the machine may be shared).
for i in $(seq 1 "$RUNS"); do
    for side in sha1 sha256; do
        repo=$SRC; [ "$side" = sha256 ] && repo=$DST
        start=$(date +%s.%N)
        "$BIN" history --all --repo "$repo" --format json --quiet --output "/tmp/bench-$side.json" || true
        echo "$side run $i: $(echo "$(date +%s.%N) - $start" | bc) s"
    done
done | tee /tmp/bench-sha256.times
for side in sha1 sha256; do
    grep "^$side " /tmp/bench-sha256.times | awk '{print $4}' | sort -n |
        awk -v s="$side" '{a[NR]=$1} END {print s " median: " a[int((NR+1)/2)] " s"}'
done
python3 - "$DST" <<'PY'
import json, sys
dst = sys.argv[1]
m1 = {v: k for k, v in (l.split() for l in open(dst + ".sha1-marks"))}
m2 = dict(l.split() for l in open(dst + ".sha256-marks"))
a = json.load(open("/tmp/bench-sha1.json"))["findings"]
b = json.load(open("/tmp/bench-sha256.json"))["findings"]
A = sorted((f["rule"], f["path"], f["line"], m2[m1[f["commit"]["id"]]]) for f in a)
B = sorted((f["rule"], f["path"], f["line"], f["commit"]["id"]) for f in b)
print(f"findings: {len(A)} (SHA-1) vs {len(B)} (SHA-256):", "identical" if A == B else "DIFFERENT")
sys.exit(0 if A == B else 1)
PY
