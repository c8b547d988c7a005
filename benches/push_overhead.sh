#!/usr/bin/env bash
# Push protection cost (#12), measured with real `git push` over file://:
#
#  1. hook overhead: a push of ONE new commit (one edited file) onto `main` of
#     a bare mirror of a large history, with and without
#     `hooks/pre-receive` = `exec leakscan pre-receive`; hyperfine, the ref
#     reset before each run so every run pushes the same commit afresh
#     (git sends and quarantines its objects each time);
#  2. an initial push of the whole history (every branch) into an empty bare
#     repository, with and without the hook (RUNS_INITIAL runs each), next to
#     `leakscan history --all` on the mirror. The benchmark history holds
#     planted fake secrets, so the hooked push ends refused, after the whole
#     history has been received and checked.
#
# Usage: benches/push_overhead.sh [REPO]     (default /work/bench-data/history-repo,
#        built by benches/make_history_repo.py)
# Env:   LEAKSCAN (binary, default target/release/leakscan), RUNS (default 30),
#        RUNS_INITIAL (default 3; 0 skips part 2), OUT (JSON results dir, default
#        a temp dir), TAGS (default 0: annotated tags added to the mirror, spread
#        over main's history, then `git pack-refs`; git/git's mirror has ~1,000
#        refs), BASELINE_BIN (a second leakscan, e.g. /work/bin/leakscan-base:
#        part 1 then also runs RUNS interleaved pushes per binary, no hook /
#        hook with LEAKSCAN / hook with BASELINE_BIN, in turn).
# Needs git, hyperfine, python3. Prints medians; run on an otherwise idle machine
# if you can (say so when you quote the figures if not).

set -euo pipefail

REPO=${1:-/work/bench-data/history-repo}
BIN=$(realpath "${LEAKSCAN:-target/release/leakscan}")
RUNS=${RUNS:-30}
RUNS_INITIAL=${RUNS_INITIAL:-3}
WORK=$(mktemp -d /tmp/leakscan-push-bench.XXXXXX)
OUT=${OUT:-$WORK/results}
mkdir -p "$OUT"
trap 'rm -rf "$WORK"' EXIT

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com

[ -x "$BIN" ] || { echo "no leakscan binary at $BIN (cargo build --release)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is needed" >&2; exit 2; }

SRV=$WORK/srv.git
CLIENT=$WORK/client
echo "== mirror of $REPO" >&2
git clone -q --mirror "$REPO" "$SRV"
git clone -q --shared --no-checkout "$REPO" "$CLIENT"
commits=$(git -C "$SRV" rev-list --all --count)
objects=$(git -C "$SRV" count-objects -v | awk '/in-pack/ {print $2}')
echo "   $commits commits, $objects packed objects" >&2
TAGS=${TAGS:-0}
if [ "$TAGS" -gt 0 ]; then
    # Annotated tags on every k-th commit of main, written by one fast-import.
    git -C "$SRV" rev-list --first-parent refs/heads/main |
        awk -v n="$TAGS" -v total="$(git -C "$SRV" rev-list --first-parent --count refs/heads/main)" '
            BEGIN { k = int(total / n); if (k < 1) k = 1 }
            (NR - 1) % k == 0 && t < n {
                t++
                msg = "bench tag " t
                printf "tag bench/v%d\nfrom %s\ntagger bench <bench@example.com> 1700000000 +0000\ndata %d\n%s\n", t, $1, length(msg), msg
            }' | git -C "$SRV" fast-import --quiet
    git -C "$SRV" pack-refs --all
    echo "   $(git -C "$SRV" for-each-ref | wc -l) refs after adding $TAGS tags" >&2
fi

# One commit on main: append a line to a mid-sized existing file.
BASE=$(git -C "$SRV" rev-parse refs/heads/main)
path=$(git -C "$CLIENT" ls-tree -r --name-only "$BASE" | awk 'NR % 997 == 0' | head -1)
blob=$( { git -C "$CLIENT" cat-file blob "$BASE:$path"; echo "/* push benchmark */"; } |
    git -C "$CLIENT" hash-object -w --stdin)
export GIT_INDEX_FILE=$WORK/index
git -C "$CLIENT" read-tree "$BASE"
git -C "$CLIENT" update-index --cacheinfo "100644,$blob,$path"
tree=$(git -C "$CLIENT" write-tree)
unset GIT_INDEX_FILE
NEW=$(git -C "$CLIENT" commit-tree "$tree" -p "$BASE" -m "push benchmark: edit $path")
echo "   pushing $NEW (edits $path) onto $BASE" >&2

hook() {  # hook on|timed|off REPO
    if [ "$1" = on ]; then
        printf '#!/bin/sh\nexec %s pre-receive\n' "$BIN" > "$2/hooks/pre-receive"
        chmod +x "$2/hooks/pre-receive"
    elif [ "$1" = timed ]; then
        # Also reports the hook's own wall time, apart from git's receiving.
        printf '#!/bin/sh\ns=$(date +%%s.%%N)\n%s pre-receive\nr=$?\necho "bench-hook $s $(date +%%s.%%N)" >&2\nexit $r\n' \
            "$BIN" > "$2/hooks/pre-receive"
        chmod +x "$2/hooks/pre-receive"
    else
        rm -f "$2/hooks/pre-receive"
    fi
}

median() {  # median of a hyperfine JSON export, in ms
    python3 - "$1" <<'EOF'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"{statistics.median(r['times']) * 1000:.1f} ms (min {min(r['times']) * 1000:.1f}, "
      f"max {max(r['times']) * 1000:.1f}, n={len(r['times'])})")
EOF
}

one_push() {  # one_push NAME
    hyperfine --style basic --runs "$RUNS" --warmup 3 \
        --prepare "git -C $SRV update-ref refs/heads/main $BASE" \
        --export-json "$OUT/$1.json" -n "$1" \
        "git -C $CLIENT push -q file://$SRV $NEW:refs/heads/main" >&2
}

echo "== one-commit push, $RUNS runs each" >&2
hook off "$SRV"
one_push push-1-no-hook
hook on "$SRV"
# The hook must accept this push (it adds no secret); check once, with its message.
git -C "$SRV" update-ref refs/heads/main "$BASE"
git -C "$CLIENT" push file://"$SRV" "$NEW:refs/heads/main" 2>&1 | grep -E 'leakscan' >&2
one_push push-1-hook
hook off "$SRV"

if [ -n "${BASELINE_BIN:-}" ]; then
    # Interleaved: no hook, hook (LEAKSCAN), hook (BASELINE_BIN), in turn, so
    # load changes on a shared machine hit all three alike.
    echo "== interleaved one-commit pushes, $RUNS rounds" >&2
    for i in $(seq "$RUNS"); do
        for mode in off on base; do
            git -C "$SRV" update-ref refs/heads/main "$BASE"
            case $mode in
            off) hook off "$SRV" ;;
            on) hook on "$SRV" ;;
            base) (BIN=$(realpath "$BASELINE_BIN"); hook on "$SRV") ;;
            esac
            s=$(date +%s.%N)
            git -C "$CLIENT" push -q "file://$SRV" "$NEW:refs/heads/main"
            e=$(date +%s.%N)
            echo "$mode $(python3 -c "print(f'{($e - $s) * 1000:.1f}')")" >> "$OUT/interleaved.txt"
        done
    done
    hook off "$SRV"
    python3 - "$OUT/interleaved.txt" <<'EOF'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    m, v = line.split()
    t.setdefault(m, []).append(float(v))
off = statistics.median(t["off"])
for m, name in (("off", "no hook"), ("on", "hook (this build)"), ("base", "hook (baseline)")):
    med = statistics.median(t[m])
    print(f"interleaved push, {name}: median {med:.1f} ms, overhead {med - off:+.1f} ms (n={len(t[m])})")
EOF
fi
if [ "$RUNS_INITIAL" -eq 0 ]; then
    echo "== one-commit push with the hook: $(median "$OUT/push-1-hook.json")"
    echo "== one-commit push without:       $(median "$OUT/push-1-no-hook.json")"
    exit 0
fi

echo "== initial push of the whole history, $RUNS_INITIAL runs each" >&2
initial() {  # initial on|off N
    local t=()
    for i in $(seq "$2"); do
        rm -rf "$WORK/empty.git"
        git init -q --bare -b main "$WORK/empty.git"
        hook "$1" "$WORK/empty.git"
        local s e
        s=$(date +%s.%N)
        # The benchmark history holds planted (fake) secrets, so with the hook
        # the push is refused once the whole history has been checked: the
        # time is that of the complete check. Any other failure stops here.
        if ! git -C "$SRV" push -q "file://$WORK/empty.git" 'refs/heads/*:refs/heads/*' 2> "$WORK/initial.err"; then
            if [ "$1" = off ] || ! grep -q 'leakscan: push refused: [0-9]* new secret' "$WORK/initial.err"; then
                cat "$WORK/initial.err" >&2
                echo "initial push failed" >&2
                exit 1
            fi
        fi
        e=$(date +%s.%N)
        t+=("$(python3 -c "print(f'{$e - $s:.2f}')")")
        grep -E 'leakscan: (push refused|no new secrets)' "$WORK/initial.err" >&2 || true
        grep -o 'bench-hook [0-9.]* [0-9.]*' "$WORK/initial.err" |
            awk '{printf "%.2f\n", $3 - $2}' >> "$WORK/hook-times" || true
    done
    echo "${t[*]}"
}
init_off=$(initial off "$RUNS_INITIAL")
init_on=$(initial timed "$RUNS_INITIAL")
hist=()
for i in $(seq "$RUNS_INITIAL"); do
    s=$(date +%s.%N)
    "$BIN" history --all -q --repo "$SRV" --no-config --no-baseline > /dev/null || [ $? -eq 1 ]
    e=$(date +%s.%N)
    hist+=("$(python3 -c "print(f'{$e - $s:.2f}')")")
done

med() { python3 -c "import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print(f'{statistics.median(v):.2f} s (runs: {\" \".join(sys.argv[1:])})')" "$@"; }

echo
echo "repository: $REPO ($commits commits, $objects objects); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "one-commit push, no hook:        $(median "$OUT/push-1-no-hook.json")"
echo "one-commit push, leakscan hook:  $(median "$OUT/push-1-hook.json")"
echo "initial push, no hook:           $(med $init_off)"
echo "initial push, leakscan hook:     $(med $init_on)"
echo "   of which the hook itself:     $(med $(cat "$WORK/hook-times"))"
echo "leakscan history --all (mirror): $(med "${hist[@]}")"
