//! `--format html`: one self-contained page (inline CSS and JS, a Content
//! Security Policy that allows no network at all), readable offline and with
//! JavaScript off. Findings are grouped by secret (their fingerprint), most
//! severe rule first, then by confidence (the sweep's triage order): one
//! table body per secret, one row per place it was found, with the commit,
//! author and date for history scans. Plain JavaScript adds sorting (click a
//! column heading) and filtering (text, rule, status; also read from the URL
//! fragment, e.g. `report.html#q=aws&status=new`). Every string from the scan
//! (paths, names, descriptions, commit messages) is HTML-escaped; secrets are
//! redacted unless `--show-secrets`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::{rotation, Judged, Report};

/// `&`, `<`, `>`, `"` and `'` as character references: safe in text and in
/// quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One place a secret was seen.
struct Place {
    path: String,
    line: usize,
    column: Option<usize>,
    commit: Option<String>,
    author: Option<String>,
    email: Option<String>,
    date: Option<String>,
    summary: Option<String>,
}

/// One secret: every finding with the same fingerprint.
struct Group<'a> {
    first: &'a Judged,
    /// A finding of this secret that is new, if any (the group's status:
    /// one unsuppressed copy makes the secret new).
    new: Option<&'a Judged>,
    places: Vec<Place>,
}

fn groups<'a>(r: &Report<'a>) -> Vec<Group<'a>> {
    let mut order: Vec<String> = Vec::new();
    let mut by_fp: BTreeMap<String, Group<'a>> = BTreeMap::new();
    for j in r.findings {
        let f = &j.finding;
        let fp = f.fingerprint();
        let g = by_fp.entry(fp.clone()).or_insert_with(|| {
            order.push(fp);
            Group {
                first: j,
                new: None,
                places: Vec::new(),
            }
        });
        if j.suppressed.is_none() && g.new.is_none() {
            g.new = Some(j);
        }
        let c = f.commit.as_ref().map(|c| r.commit(c));
        g.places.push(Place {
            path: r.path(&f.location()).as_str_lossy().into_owned(),
            line: f.line,
            column: Some(f.column),
            commit: c.as_ref().map(|c| c.id.clone()),
            author: c.as_ref().map(|c| c.author.clone()),
            email: c.as_ref().map(|c| c.email.clone()),
            date: c.as_ref().map(|c| c.date.clone()),
            summary: c.map(|c| c.summary),
        });
        for o in &f.occurrences {
            // The first place is the finding itself: not listed twice.
            let first = f.commit.as_ref().is_some_and(|c| c.id == o.commit)
                && o.path == f.path
                && o.line == f.line;
            if first {
                continue;
            }
            let oc = o.info.as_ref().map(|c| r.commit(c));
            g.places.push(Place {
                path: match &f.archive {
                    Some(a) => r
                        .path(&crate::finding::join_archive_path(&o.path, &a.inner))
                        .as_str_lossy()
                        .into_owned(),
                    None => r.path(&o.path).as_str_lossy().into_owned(),
                },
                line: o.line,
                column: None,
                commit: Some(o.commit.clone()),
                author: oc.as_ref().map(|c| c.author.clone()),
                email: oc.as_ref().map(|c| c.email.clone()),
                date: oc.as_ref().map(|c| c.date.clone()),
                summary: oc.map(|c| c.summary),
            });
        }
    }
    // Author and date on every place: an occurrence the driver did not
    // describe takes its commit's description from wherever the report has
    // met it (as a finding's own commit).
    let mut known: BTreeMap<String, (String, String, String, String)> = BTreeMap::new();
    for j in r.findings {
        if let Some(c) = j.finding.commit.as_ref().map(|c| r.commit(c)) {
            known.entry(c.id.clone()).or_insert_with(|| {
                (
                    c.author.clone(),
                    c.email.clone(),
                    c.date.clone(),
                    c.summary.clone(),
                )
            });
        }
    }
    let mut out: Vec<Group<'a>> = order
        .into_iter()
        .filter_map(|fp| by_fp.remove(&fp))
        .collect();
    for g in &mut out {
        for p in &mut g.places {
            if p.author.is_none() {
                if let Some((a, e, d, s)) = p.commit.as_ref().and_then(|c| known.get(c)) {
                    p.author = Some(a.clone());
                    p.email = Some(e.clone());
                    p.date = Some(d.clone());
                    p.summary = Some(s.clone());
                }
            }
        }
    }
    // Triage order, as the sweep's: most severe rule first (its SARIF
    // `security-severity`), then the finding's confidence; otherwise the
    // findings' own order (by path). Clicking a heading re-sorts.
    let severity = |g: &Group<'_>| {
        r.rules
            .rules
            .iter()
            .find(|x| x.id == g.first.finding.rule)
            .map_or(0, |x| (rotation::help(x).severity * 10.0).round() as u32)
    };
    out.sort_by_cached_key(|g| {
        (
            std::cmp::Reverse(severity(g)),
            std::cmp::Reverse(g.first.finding.confidence),
        )
    });
    out
}

fn status(j: &Judged) -> (&'static str, String) {
    match &j.suppressed {
        None => ("new", "new".to_string()),
        Some((reason, Some(s))) => (
            "suppressed",
            format!("suppressed: {}, {s}", reason.as_str()),
        ),
        Some((reason, None)) => ("suppressed", format!("suppressed: {}", reason.as_str())),
    }
}

pub fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let groups = groups(r);
    let history = r.findings.iter().any(|j| j.finding.commit.is_some());
    let new = r.findings.iter().filter(|j| j.suppressed.is_none()).count();
    let s = r.stats;

    let mut h = String::with_capacity(8192 + groups.len() * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    // No network: nothing may be fetched, not even a favicon.
    h.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n",
    );
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str("<link rel=\"icon\" href=\"data:,\">\n");
    h.push_str("<title>leakscan report</title>\n<style>\n");
    h.push_str(CSS);
    h.push_str("</style>\n</head>\n<body>\n<header>\n<h1>leakscan report</h1>\n");
    let _ = writeln!(
        h,
        "<p class=\"summary\" id=\"summary\">{} · {} · {} · {}{}</p>",
        // History scans count blobs, the others files.
        if history || s.commits > 0 {
            super::count(s.scanned, "blob", "blobs")
        } else {
            super::count(s.scanned, "file", "files")
        } + " scanned",
        escape(&super::size(s.bytes)),
        super::count(groups.len() as u64, "secret", "secrets"),
        format_args!("{new} new"),
        if s.commits > 0 {
            format!(" · {}", super::count(s.commits, "commit", "commits"))
        } else {
            String::new()
        }
    );
    if !r.show_secrets {
        h.push_str("<p class=\"note\">Secrets are redacted. Re-run with <code>--show-secrets</code> to see them in full.</p>\n");
    }
    h.push_str("</header>\n");

    // Filters.
    let mut rules: Vec<&str> = groups
        .iter()
        .map(|g| g.first.finding.rule.as_str())
        .collect();
    rules.sort_unstable();
    rules.dedup();
    h.push_str("<form id=\"filters\" role=\"search\" onsubmit=\"return false\">\n");
    h.push_str("<label>Filter <input id=\"q\" type=\"search\" placeholder=\"path, rule, author, commit…\" autocomplete=\"off\"></label>\n");
    h.push_str("<label>Rule <select id=\"rule\"><option value=\"\">all rules</option>");
    for id in &rules {
        let _ = write!(h, "<option value=\"{0}\">{0}</option>", escape(id));
    }
    h.push_str("</select></label>\n");
    h.push_str("<label>Status <select id=\"status\"><option value=\"\">all</option><option value=\"new\">new</option><option value=\"suppressed\">suppressed</option></select></label>\n");
    // --verify: a column and a filter, only when something was verified.
    let verified_any = r.findings.iter().any(|j| j.verification.is_some());
    if verified_any {
        h.push_str("<label>Verified <select id=\"verified\"><option value=\"\">all</option>");
        for s in ["live", "invalid", "unknown", "skipped"] {
            let _ = write!(h, "<option value=\"{s}\">{s}</option>");
        }
        h.push_str("</select></label>\n");
    }
    let _ = writeln!(
        h,
        "<span id=\"shown\" aria-live=\"polite\">{0} of {0} secrets</span>",
        groups.len()
    );
    h.push_str("</form>\n");

    if groups.is_empty() {
        h.push_str("<p id=\"empty\" class=\"empty\">No findings.</p>\n");
    }
    h.push_str("<table id=\"findings\">\n<thead><tr>");
    let mut columns = vec![
        ("rule", "Rule"),
        ("secret", "Secret"),
        ("where", "Where"),
        ("count", "Places"),
    ];
    if history {
        columns.extend([("commit", "Commit"), ("author", "Author"), ("date", "Date")]);
    }
    if verified_any {
        columns.push(("verified", "Verified"));
    }
    columns.push(("status", "Status"));
    for (key, label) in &columns {
        let _ = write!(
            h,
            "<th scope=\"col\" data-key=\"{key}\" aria-sort=\"none\"><button type=\"button\">{label}</button></th>"
        );
    }
    h.push_str("</tr></thead>\n");

    for g in &groups {
        let f = &g.first.finding;
        let (status_key, status_text) = status(g.new.unwrap_or(g.first));
        let first = &g.places[0];
        let help = r
            .rules
            .rules
            .iter()
            .find(|x| x.id == f.rule)
            .map(rotation::help);
        let _ = writeln!(
            h,
            "<tbody class=\"secret {status_key}\" data-fingerprint=\"{fp}\" data-rule=\"{rule}\" \
             data-status=\"{status_key}\" data-where=\"{where_}\" data-line=\"{line}\" data-count=\"{count}\" \
             data-secret=\"{secret_key}\" data-commit=\"{commit}\" data-author=\"{author}\" data-date=\"{date}\"{verified}>",
            fp = escape(&f.fingerprint()),
            rule = escape(&f.rule),
            where_ = escape(&first.path),
            line = first.line,
            count = g.places.len(),
            secret_key = escape(&r.secret_text(f)),
            commit = escape(first.commit.as_deref().unwrap_or("")),
            author = escape(first.author.as_deref().unwrap_or("")),
            date = escape(first.date.as_deref().unwrap_or("")),
            verified = match &g.first.verification {
                Some(v) => format!(" data-verified=\"{}\"", v.status.as_str()),
                None => String::new(),
            },
        );
        for (i, p) in g.places.iter().enumerate() {
            h.push_str("<tr>");
            if i == 0 {
                let rows = g.places.len();
                let _ = write!(
                    h,
                    "<td class=\"rule\" rowspan=\"{rows}\"><strong>{}</strong> <span class=\"confidence\" title=\"confidence\">{}</span><br><span class=\"desc\">{}</span>",
                    escape(&f.rule),
                    f.confidence.as_str(),
                    escape(&f.description)
                );
                if let Some(help) = &help {
                    let _ = write!(
                        h,
                        "<br><a class=\"fix\" href=\"{}\" rel=\"noreferrer\">how to revoke</a>",
                        escape(help.url)
                    );
                }
                let _ = write!(
                    h,
                    "</td><td class=\"secret\" rowspan=\"{rows}\"><code>{}</code><br><span class=\"fp\" title=\"fingerprint\">{}</span></td>",
                    escape(&r.secret_text(f).replace('\n', "\\n")),
                    escape(&f.fingerprint()),
                );
            }
            let loc = match p.column {
                Some(c) => format!("{}:{}:{c}", p.path, p.line),
                None => format!("{}:{}", p.path, p.line),
            };
            // Paths break after a `/`, never inside a name (not even at
            // its hyphens): each name is kept whole.
            let parts: Vec<String> = loc
                .split('/')
                .map(|p| format!("<span class=\"seg\">{}</span>", escape(p)))
                .collect();
            let _ = write!(
                h,
                "<td class=\"where\"><code>{}</code></td>",
                parts.join("/<wbr>")
            );
            if i == 0 {
                let _ = write!(
                    h,
                    "<td class=\"count\" rowspan=\"{}\">{}</td>",
                    g.places.len(),
                    g.places.len()
                );
            }
            if history {
                match &p.commit {
                    Some(c) => {
                        let _ = write!(
                            h,
                            "<td class=\"commit\"><code title=\"{}\">{}</code></td>",
                            escape(c),
                            escape(&c[..c.len().min(12)])
                        );
                    }
                    None => h.push_str("<td class=\"commit\"></td>"),
                }
                match (&p.author, &p.email) {
                    (Some(a), Some(e)) => {
                        let _ = write!(
                            h,
                            "<td class=\"author\">{} <span class=\"email\">&lt;{}&gt;</span></td>",
                            escape(a),
                            escape(e)
                        );
                    }
                    _ => h.push_str("<td class=\"author\"></td>"),
                }
                let _ = write!(
                    h,
                    "<td class=\"date\" title=\"{}\">{}</td>",
                    escape(p.summary.as_deref().unwrap_or("")),
                    escape(p.date.as_deref().unwrap_or(""))
                );
            }
            if i == 0 && verified_any {
                let _ = write!(h, "<td class=\"verified\" rowspan=\"{}\"", g.places.len());
                match &g.first.verification {
                    Some(v) => {
                        let who: Vec<String> =
                            v.identity.iter().map(|(k, x)| format!("{k}={x}")).collect();
                        let _ = write!(
                            h,
                            " title=\"{}\"><strong>{}</strong><br><span class=\"desc\">{}</span></td>",
                            escape(v.reason.as_deref().unwrap_or("")),
                            v.status.as_str(),
                            escape(&who.join(", "))
                        );
                    }
                    None => h.push_str("></td>"),
                }
            }
            if i == 0 {
                let _ = write!(
                    h,
                    "<td class=\"status\" rowspan=\"{}\">{}</td>",
                    g.places.len(),
                    escape(&status_text)
                );
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</tbody>\n");
    }
    h.push_str("</table>\n");
    let _ = writeln!(
        h,
        "<footer>leakscan {} · fingerprints are hash(rule, path, secret) · \
         suppress a false positive with <code>leakscan:allow</code> on its line or <code>leakscan baseline update</code></footer>",
        escape(env!("CARGO_PKG_VERSION"))
    );
    h.push_str("<script>\n");
    h.push_str(JS);
    h.push_str("</script>\n</body>\n</html>\n");
    out.write_all(h.as_bytes())
}

const CSS: &str = r#"
:root { color-scheme: light dark; --fg:#1d2025; --bg:#fff; --muted:#5f6670; --line:#d8dce2; --head:#f3f5f8; --new:#b3261e; --sup:#6b7280; --accent:#0b57d0; }
@media (prefers-color-scheme: dark) { :root { --fg:#e6e8eb; --bg:#16181c; --muted:#9aa3ad; --line:#30353c; --head:#1f2329; --new:#ff8a80; --sup:#9aa3ad; --accent:#8ab4f8; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1400px; padding: 1.5rem; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
h1 { margin: 0 0 .25rem; font-size: 1.5rem; }
.summary, .note, footer { color: var(--muted); margin: .25rem 0; }
code { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
td.where code { overflow-wrap: normal; word-break: normal; }
td.where .seg { white-space: nowrap; }
form { display: flex; flex-wrap: wrap; gap: .75rem 1.25rem; align-items: center; margin: 1rem 0; padding: .75rem; background: var(--head); border: 1px solid var(--line); border-radius: 6px; }
input, select { font: inherit; padding: .25rem .4rem; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 4px; }
input[type=search] { width: 22rem; max-width: 100%; }
#shown { margin-left: auto; color: var(--muted); }
table { width: 100%; border-collapse: collapse; }
th { position: sticky; top: 0; background: var(--head); text-align: left; border-bottom: 2px solid var(--line); }
th button { all: unset; cursor: pointer; display: block; padding: .45rem .5rem; font-weight: 600; }
th[aria-sort=ascending] button::after { content: " ▲"; }
th[aria-sort=descending] button::after { content: " ▼"; }
td { padding: .4rem .5rem; vertical-align: top; border-top: 1px solid var(--line); }
tbody.secret { border-top: 2px solid var(--line); }
tbody.secret:hover { background: color-mix(in srgb, var(--head) 70%, transparent); }
.desc, .fp, .email { color: var(--muted); font-size: 12px; }
.fp { font-family: ui-monospace, monospace; }
.fix { font-size: 12px; color: var(--accent); }
td.status { font-weight: 600; white-space: nowrap; }
tbody.new td.status { color: var(--new); }
tbody.suppressed td.status { color: var(--sup); }
td.count { text-align: right; }
td.date, td.commit { white-space: nowrap; }
.empty { padding: 2rem; text-align: center; color: var(--muted); }
footer { margin-top: 1.5rem; font-size: 12px; }
/* Narrow windows: no sideways scrolling. Each secret is a block; its rows
   flow as wrapping lines (rule, then secret, then each place with its
   commit, author and date), and the headings stay as sort buttons, but
   for the place count, whose column is hidden (the places are listed). */
@media (max-width: 1000px) {
  body { padding: 1rem; }
  table, thead, tbody, tr, th, td { display: block; }
  thead tr { display: flex; flex-wrap: wrap; gap: 0 .25rem; border-bottom: 2px solid var(--line); }
  th { position: static; border: 0; }
  tbody.secret { padding: .4rem 0; }
  tbody.secret tr { display: flex; flex-wrap: wrap; align-items: baseline; column-gap: .75rem; }
  td { border: 0; padding: .15rem .5rem; min-width: 0; }
  td.rule, td.secret { flex: 1 1 100%; }
  td.where { flex: 1 1 18rem; }
  td.count, th[data-key=count] { display: none; }
  td.date, td.commit, td.status { white-space: normal; }
  .fp { overflow-wrap: anywhere; word-break: break-all; }
  tbody.secret tr + tr { border-top: 1px dashed var(--line); }
}
"#;

const JS: &str = r##"
(function () {
  "use strict";
  var table = document.getElementById("findings");
  var q = document.getElementById("q");
  var rule = document.getElementById("rule");
  var status = document.getElementById("status");
  var verified = document.getElementById("verified");
  var shown = document.getElementById("shown");
  var groups = Array.prototype.slice.call(table.tBodies);

  function filter() {
    var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var n = 0;
    groups.forEach(function (g) {
      var text = g.textContent.toLowerCase();
      var ok = (!rule.value || g.dataset.rule === rule.value) &&
        (!status.value || g.dataset.status === status.value) &&
        (!verified || !verified.value || g.dataset.verified === verified.value) &&
        words.every(function (w) { return text.indexOf(w) >= 0; });
      g.hidden = !ok;
      if (ok) n++;
    });
    shown.textContent = n + " of " + groups.length + " secrets";
    var params = [];
    if (q.value) params.push("q=" + encodeURIComponent(q.value));
    if (rule.value) params.push("rule=" + encodeURIComponent(rule.value));
    if (status.value) params.push("status=" + encodeURIComponent(status.value));
    if (verified && verified.value) params.push("verified=" + encodeURIComponent(verified.value));
    try { history.replaceState(null, "", params.length ? "#" + params.join("&") : location.pathname + location.search); } catch (e) {}
  }

  function sortBy(th) {
    var key = th.dataset.key;
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var numeric = key === "count";
    groups.slice().sort(function (a, b) {
      var x = a.dataset[key] || "", y = b.dataset[key] || "";
      var c = numeric ? (+x - +y) : x.localeCompare(y, undefined, { numeric: true });
      if (c === 0 && key === "where") c = (+a.dataset.line) - (+b.dataset.line);
      return c * dir;
    }).forEach(function (g) { table.appendChild(g); });
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    th.querySelector("button").addEventListener("click", function () { sortBy(th); });
  });
  [q, rule, status, verified].forEach(function (el) { if (el) { el.addEventListener("input", filter); el.addEventListener("change", filter); } });

  // State from the URL fragment: #q=words&rule=id&status=new&sort=date
  var sortKey = "";
  location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
    var i = kv.indexOf("="); if (i < 0) return;
    var k = kv.slice(0, i), v = decodeURIComponent(kv.slice(i + 1).replace(/\+/g, " "));
    if (k === "q") q.value = v;
    else if (k === "rule") rule.value = v;
    else if (k === "verified" && verified) verified.value = v;
    else if (k === "status") status.value = v;
    else if (k === "sort") sortKey = v;
  });
  if (sortKey) {
    var th = table.tHead.querySelector('th[data-key="' + sortKey.replace(/[^a-z]/g, "") + '"]');
    if (th) sortBy(th);
  }
  filter();
  document.body.setAttribute("data-ready", "1");
})();
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<img src=x onerror="a('b')">&"#),
            "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;"
        );
    }
}
