#!/bin/bash
# Usage: scripts/compare-outputs.sh BIN OUTDIR (timings masked).
#
# The byte-for-byte comparison of #19's restructure: runs BIN over a fixed
# corpus and keeps every output with timings masked, so two binaries'
# directories can be compared with `diff -r`:
#   scripts/compare-outputs.sh /work/bin/leakscan-start /tmp/a
#   scripts/compare-outputs.sh target/release/leakscan /tmp/b
#   diff -r /tmp/a /tmp/b && echo identical
# The corpus (DOOR, default /work/bench-data/door): `planted/` (a directory
# of planted secrets), `staged/` (a repository with staged changes),
# `forks/` (four forks of one repository), `sweep.key` (a fixed HMAC key),
# `pusher/` whose `origin` is `server.git` (pre-receive: exec $LEAKSCAN_BIN
# pre-receive; the push is refused, the server's ref stays). HIST (default
# /work/bench-data/history24k) is the 24k-commit history.
BIN=$(realpath "$1"); O=$(realpath -m "$2"); D=${DOOR:-/work/bench-data/door}; HIST=${HIST:-/work/bench-data/history24k}
rm -rf "$O"; mkdir -p "$O"
mask() { sed -E 's/"elapsed_ms": [0-9]+/"elapsed_ms": X/g; s/[0-9]+\.[0-9]+ ?(s|ms)\b/T \1/g; s/[0-9.]+ MB\/s/R MB\/s/g' ; }
run() { local name=$1; shift; "$@" >"$O/$name.out" 2>"$O/$name.err"; echo $? >"$O/$name.rc"; mask <"$O/$name.out" >"$O/$name.out.m"; mask <"$O/$name.err" >"$O/$name.err.m"; rm "$O/$name.out" "$O/$name.err"; }
cd $D
run scan-json $BIN scan planted --format json
run scan-text $BIN scan planted --format text
run scan-text-q $BIN scan planted
(cd staged && run staged-json $BIN staged --format json && run staged-text $BIN staged)
run hist24k-json $BIN history --all --format json --repo "$HIST"
run sweep-json $BIN sweep forks --key-file sweep.key --format json
run sweep-csv $BIN sweep forks --key-file sweep.key --format csv
run sweep-text $BIN sweep forks --key-file sweep.key
rm -rf /tmp/leakscan-cmp-state-$$; 
run sweep-state1 $BIN sweep forks --state /tmp/leakscan-cmp-state-$$ --key-file sweep.key --format json
run sweep-state2 $BIN sweep forks --state /tmp/leakscan-cmp-state-$$ --key-file sweep.key --format json
(cd /tmp/leakscan-cmp-state-$$ && find . -type f ! -name key | sort | xargs sha256sum) > $O/state-files.txt
rm -rf /tmp/leakscan-cmp-state-$$
run shard0 $BIN sweep forks --key-file sweep.key --format json --shard 0/2 --output /tmp/leakscan-cmp-s0-$$.json
run shard1 $BIN sweep forks --key-file sweep.key --format json --shard 1/2 --output /tmp/leakscan-cmp-s1-$$.json
mask </tmp/leakscan-cmp-s0-$$.json > $O/shard0.json.m; mask </tmp/leakscan-cmp-s1-$$.json > $O/shard1.json.m
run merge-json $BIN sweep merge /tmp/leakscan-cmp-s0-$$.json /tmp/leakscan-cmp-s1-$$.json --format json
run merge-csv $BIN sweep merge /tmp/leakscan-cmp-s0-$$.json /tmp/leakscan-cmp-s1-$$.json --format csv
rm -f /tmp/leakscan-cmp-s?-$$.json
# A refused push: the server's pre-receive hook runs $LEAKSCAN_BIN.
export LEAKSCAN_BIN=$BIN
run push git -C pusher push origin HEAD:refs/heads/master
git -C server.git log --oneline -1 > $O/server-after.txt
# --verify=dry-run: verdicts written, and read back by merge.
run sweep-verify $BIN sweep forks --key-file sweep.key --format json --verify=dry-run --output /tmp/leakscan-cmp-v-$$.json
mask </tmp/leakscan-cmp-v-$$.json > $O/sweep-verify.json.m
run sweep-verify-csv $BIN sweep forks --key-file sweep.key --format csv --verify=dry-run
run merge-verify $BIN sweep merge /tmp/leakscan-cmp-v-$$.json --format json
rm -f /tmp/leakscan-cmp-v-$$.json
