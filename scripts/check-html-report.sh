#!/usr/bin/env bash
# Renders leakscan's HTML report in real headless Chromium and checks what a
# reader would see: the rows are there after the page's JavaScript ran, the
# filter (driven through the URL fragment) hides what does not match, sorting
# reorders the secrets, names are escaped, secrets stay redacted, and the page
# loads nothing from the network. Leaves a screenshot for a person to look at.
#
# usage: scripts/check-html-report.sh [LEAKSCAN_BINARY] [SCREENSHOT.png]
# Needs git and Debian's `chromium` (apt-get install -y chromium).
set -euo pipefail

bin=${1:-target/release/leakscan}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
shot=${2:-}
command -v chromium >/dev/null || { echo "check-html-report: chromium is not installed" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/leakscan-html.XXXXXX")
trap 'rm -rf "$work"' EXIT
repo=$work/repo
mkdir -p "$repo"

# How many times the regex $1 occurs in $2.
count() { { grep -o "$1" <<<"$2" || true; } | wc -l; }
fail() { echo "check-html-report: FAIL: $*" >&2; exit 1; }

# Fake credentials of the right shape, made now (never committed as literals).
rand() {
  local s
  s=$(head -c 8192 /dev/urandom | LC_ALL=C tr -dc "$1")
  printf '%s' "${s:0:$2}"
}
gh="ghp_$(rand 'A-Za-z0-9' 36)"
aws="AKIA$(rand 'A-Z0-9' 16)"
slack="xoxb-$(rand '0-9' 11)-$(rand '0-9' 13)-$(rand 'A-Za-z0-9' 24)"

g() {
  env -u GIT_DIR -u GIT_INDEX_FILE -u GIT_WORK_TREE \
    GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_EDITOR=true git -C "$repo" "$@"
}
commit() { # author, date, message
  g add -A
  GIT_AUTHOR_NAME=$1 GIT_AUTHOR_EMAIL="$(echo "$1" | tr 'A-Z' 'a-z' | tr -dc 'a-z')@example.com" \
    GIT_COMMITTER_NAME=$1 GIT_COMMITTER_EMAIL=ci@example.com \
    GIT_AUTHOR_DATE=$2 GIT_COMMITTER_DATE=$2 g commit -q --no-verify -m "$3"
}

g init -q -b main
printf 'hello\n' >"$repo/README.md"
commit "Ada Lovelace" "2024-01-02T10:00:00Z" "init"
mkdir -p "$repo/app" "$repo/deploy"
printf 'GITHUB_TOKEN = "%s"\n' "$gh" >"$repo/app/settings.py"
commit "Grace Hopper" "2024-02-03T11:00:00Z" "settings"
printf 'aws_access_key_id = %s\n' "$aws" >"$repo/deploy/aws.ini"
printf 'hook: %s\n' "$slack" >"$repo/deploy/<notify&hooks>.yml"
commit "Linus & Co" "2024-03-04T12:00:00Z" "deploy <config>"
printf 'again = "%s"\n' "$gh" >"$repo/app/copy.py"
commit "Grace Hopper" "2024-04-05T13:00:00Z" "copy"

report=$work/report.html
set +e
"$bin" history --repo "$repo" --format html --quiet -o "$report"
code=$?
set -e
[ "$code" = 1 ] || fail "leakscan history exited $code, expected 1 (findings)"
[ -s "$report" ] || fail "no report written"

# Redaction and escaping, in the file itself.
for s in "$gh" "$aws" "$slack"; do
  ! grep -qF "$s" "$report" || fail "a secret is in the redacted report"
done
grep -qF '&lt;notify&amp;hooks&gt;.yml' "$report" || fail "file name not escaped"
grep -qF 'Linus &amp; Co' "$report" || fail "author not escaped"
! grep -qE '<(script|link|img)[^>]+(src|href)="(https?:)?//' "$report" || fail "the page loads something from the network"

chrome() {
  # Root in CI: Chromium's sandbox needs user namespaces it may not have.
  chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --no-default-browser-check --user-data-dir="$work/profile" \
    --host-resolver-rules='MAP * ~NOTFOUND' --virtual-time-budget=3000 "$@" 2>/dev/null
}
url="file://$report"

# 1. The page as loaded: every secret's rows, after the script ran.
dom=$(chrome --dump-dom "$url")
grep -q 'data-ready="1"' <<<"$dom" || fail "the page's script did not run"
groups=$(count '<tbody class="secret' "$dom")
# github-pat in two files (two fingerprints), aws, slack.
[ "$groups" = 4 ] || fail "expected 4 secrets in the DOM, found $groups"
grep -q '4 of 4 secrets' <<<"$dom" || fail "counter not updated"
grep -q 'Grace Hopper' <<<"$dom" || fail "author missing"
grep -q '2024-03-04' <<<"$dom" || fail "date missing"
hidden=$(count '<tbody[^>]* hidden=""' "$dom")
[ "$hidden" = 0 ] || fail "$hidden secrets hidden with no filter"

# 2. The filter: text, then rule, as the URL fragment sets them.
dom=$(chrome --dump-dom "$url#q=deploy/aws")
grep -q '1 of 4 secrets' <<<"$dom" || fail "text filter: counter"
[ "$(count '<tbody[^>]* hidden=""' "$dom")" = 3 ] || fail "text filter: hidden rows"
shown=$(grep -o '<tbody[^>]*>' <<<"$dom" | grep -v 'hidden=""' || true)
grep -q 'data-rule="aws-access-key-id"' <<<"$shown" || fail "text filter: the aws secret is not the one shown"
dom=$(chrome --dump-dom "$url#rule=github-pat")
grep -q '2 of 4 secrets' <<<"$dom" || fail "rule filter"
dom=$(chrome --dump-dom "$url#q=nothing-matches-this")
grep -q '0 of 4 secrets' <<<"$dom" || fail "filter matching nothing"

# 3. Sorting by date, newest first after two clicks' worth (asc then desc).
dom=$(chrome --dump-dom "$url#sort=date")
dates=$(grep -o '<tbody[^>]*>' <<<"$dom" | grep -o 'data-date="[^"]*"' | cut -d'"' -f2 | tr '\n' ' ')
[ "$dates" = "$(tr ' ' '\n' <<<"$dates" | grep . | sort | tr '\n' ' ')" ] || fail "not sorted by date: $dates"
grep -q 'data-key="date" aria-sort="ascending"' <<<"$dom" || fail "sorted column not marked"

# 4. A picture for a person.
if [ -n "$shot" ]; then
  chrome --window-size=1400,900 --screenshot="$shot" "$url" >/dev/null
  [ -s "$shot" ] || fail "no screenshot"
  echo "check-html-report: screenshot at $shot"
else
  chrome --window-size=1400,900 --screenshot="$work/shot.png" "$url" >/dev/null
  [ -s "$work/shot.png" ] || fail "no screenshot"
fi
echo "check-html-report: ok (4 secrets rendered, filter and sort work in Chromium $(chromium --version 2>/dev/null | awk '{print $2}'))"
