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
# The same token again, deep in a long path (the Where column must wrap it
# between directories, never inside a name), and app/settings.py edited
# around it (a second place of that secret, by someone else).
deep="services/payments-reconciliation-worker/configuration/environments/production-eu-west"
mkdir -p "$repo/$deep"
printf 'GITHUB_TOKEN = "%s"\n' "$gh" >"$repo/$deep/settings.py"
printf 'DEBUG = False\n' >>"$repo/app/settings.py"
commit "Alan Turing" "2024-05-06T14:00:00Z" "production settings"
# A commit that only edits app/copy.py around the token: a place of that
# secret whose commit no finding names (its author and date must still show).
printf '# copied\n' >>"$repo/app/copy.py"
commit "Katherine Johnson" "2024-06-07T15:00:00Z" "note on the copy"

report=$work/report.html
set +e
"$bin" history --repo "$repo" --format html --quiet --all-occurrences -o "$report"
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
# github-pat in three files (three fingerprints), aws, slack.
[ "$groups" = 5 ] || fail "expected 5 secrets in the DOM, found $groups"
grep -q '5 of 5 secrets' <<<"$dom" || fail "counter not updated"
grep -q 'Grace Hopper' <<<"$dom" || fail "author missing"
grep -q '2024-03-04' <<<"$dom" || fail "date missing"
hidden=$(count '<tbody[^>]* hidden=""' "$dom")
[ "$hidden" = 0 ] || fail "$hidden secrets hidden with no filter"

# 2. The filter: text, then rule, as the URL fragment sets them.
dom=$(chrome --dump-dom "$url#q=deploy/aws")
grep -q '1 of 5 secrets' <<<"$dom" || fail "text filter: counter"
[ "$(count '<tbody[^>]* hidden=""' "$dom")" = 4 ] || fail "text filter: hidden rows"
shown=$(grep -o '<tbody[^>]*>' <<<"$dom" | grep -v 'hidden=""' || true)
grep -q 'data-rule="aws-access-key-id"' <<<"$shown" || fail "text filter: the aws secret is not the one shown"
dom=$(chrome --dump-dom "$url#rule=github-pat")
grep -q '3 of 5 secrets' <<<"$dom" || fail "rule filter"
dom=$(chrome --dump-dom "$url#q=nothing-matches-this")
grep -q '0 of 5 secrets' <<<"$dom" || fail "filter matching nothing"

# 3. Sorting by date, newest first after two clicks' worth (asc then desc).
dom=$(chrome --dump-dom "$url#sort=date")
dates=$(grep -o '<tbody[^>]*>' <<<"$dom" | grep -o 'data-date="[^"]*"' | cut -d'"' -f2 | tr '\n' ' ')
[ "$dates" = "$(tr ' ' '\n' <<<"$dates" | grep . | sort | tr '\n' ' ')" ] || fail "not sorted by date: $dates"
grep -q 'data-key="date" aria-sort="ascending"' <<<"$dom" || fail "sorted column not marked"

# 4. --all-occurrences (#24 item 8): the first place is listed once, and
# every place has its author and date.
# app/settings.py: where it was added and where it was edited, two places.
settings_rows=$(count '<td class="where"><code>\(<[^>]*>\)*app\(<[^>]*>\)*/\(<[^>]*>\)*settings.py:1\(:[0-9]*\)\{0,1\}<' "$dom")
[ "$settings_rows" = 2 ] || fail "app/settings.py listed $settings_rows times, expected 2 (the first place twice?)"
grep -q 'Alan Turing' <<<"$dom" || fail "an occurrence's author is missing"
grep -q '2024-05-06' <<<"$dom" || fail "an occurrence's date is missing"
grep -q 'Katherine Johnson' <<<"$dom" || fail "the author of a commit no finding names is missing"
grep -q '2024-06-07' <<<"$dom" || fail "the date of a commit no finding names is missing"
# The header gives a small scan's size in bytes or KB, never "0.0 MB".
grep -qE '[0-9] (bytes|KB) ·' <<<"$dom" || fail "the header's size is not in bytes or KB"

# 5. Layout at 1400 and 800 pixels: the page never scrolls sideways (the
# table fits the window), in the Where column every line a path wraps onto
# starts after a `/` (measured in Chromium: the top of each character's
# box), every heading shown is the heading of a column shown (no sort
# button for a hidden column), and a screenshot of each width for a person.
cat >"$work/layout.html" <<'HTML'
<!doctype html><body><iframe id="f" src="report.html" style="width:100%;height:2000px;border:0"></iframe>
<script>
document.getElementById("f").onload = () => setTimeout(() => {
  const doc = document.getElementById("f").contentDocument;
  const bad = [];
  let wrapped = 0;
  for (const code of doc.querySelectorAll("td.where code")) {
    const text = code.textContent;
    const walker = doc.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    let prevTop = null, prevChar = "";
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      for (let i = 0; i < n.length; i++) {
        const r = doc.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
        const top = Math.round(r.getBoundingClientRect().top);
        if (prevTop !== null && top > prevTop) {
          wrapped++;
          if (prevChar !== "/") bad.push(text);
        }
        prevTop = top; prevChar = n.data[i];
      }
    }
  }
  // Sideways scrolling: the page is wider than the window.
  document.body.dataset.overflow = doc.documentElement.scrollWidth - doc.documentElement.clientWidth;
  document.body.dataset.wrapped = wrapped;
  document.body.dataset.bad = bad.length ? bad.join(" | ") : "none";
  const shown = (e) => e.getClientRects().length > 0;
  const orphans = Array.from(doc.querySelectorAll("th[data-key]"))
    .filter((th) => shown(th) && !Array.from(doc.querySelectorAll("td." + th.dataset.key)).some(shown))
    .map((th) => th.dataset.key);
  document.body.dataset.orphans = orphans.length ? orphans.join(",") : "none";
}, 500);
</script></body>
HTML
for width in 1400 800; do
  dom=$(chrome --allow-file-access-from-files --window-size="$width,900" --dump-dom "file://$work/layout.html")
  bad=$({ grep -o 'data-bad="[^"]*"' <<<"$dom" || true; } | cut -d'"' -f2)
  [ -n "$bad" ] || fail "layout check did not run at $width px"
  [ "$bad" = none ] || fail "at $width px a path wraps inside a name: $bad"
  orphans=$({ grep -o 'data-orphans="[^"]*"' <<<"$dom" || true; } | cut -d'"' -f2)
  [ "$orphans" = none ] || fail "at $width px a heading is shown for a hidden column: ${orphans:-check did not run}"
  overflow=$({ grep -o 'data-overflow="-\{0,1\}[0-9]*"' <<<"$dom" || true; } | cut -d'"' -f2)
  [ "${overflow:-1}" -le 0 ] || fail "at $width px the page scrolls sideways ($overflow px wider than the window)"
  wrapped=$({ grep -o 'data-wrapped="[0-9]*"' <<<"$dom" || true; } | cut -d'"' -f2)
  if [ "$width" = 800 ]; then
    [ "${wrapped:-0}" -gt 0 ] || fail "at 800 px no path wrapped: the check saw nothing to check"
  fi
  png="$work/shot-$width.png"
  [ -n "$shot" ] && png="${shot%.png}-$width.png"
  chrome --window-size="$width,900" --screenshot="$png" "$url" >/dev/null
  [ -s "$png" ] || fail "no screenshot at $width px"
  [ -n "$shot" ] && echo "check-html-report: screenshot at $png ($wrapped wrapped lines in Where)"
done
echo "check-html-report: ok (5 secrets rendered, filter and sort work, Where wraps only after /, no sideways scroll and no heading without its column at 1400 and 800 px in Chromium $(chromium --version 2>/dev/null | awk '{print $2}'))"
