//! The matcher: bytes in, candidate secrets out. No I/O, no configuration
//! files, no paths. One keyword automaton pass selects the rules that can
//! apply and where; each selected rule's regex then runs only in windows
//! around its keyword hits; entropy, the rule's allowlist and placeholder
//! checks drop look-alikes; overlapping results are resolved.
//!
//! A `Matcher` holds per-thread scratch space; clone one per worker thread.

pub mod decode;
pub mod encrypted;
pub mod entropy;
pub mod placeholder;
pub mod selftest;
pub mod test_vector;

use std::sync::Arc;

use regex_automata::{meta, util::captures::Captures, Input};

use crate::rules::{Hit, Rule, RuleSet};

use decode::Escape;

/// Bytes searched on each side of a keyword hit when its line is longer than
/// this (minified files): wider than any single-line credential, so a token
/// next to its keyword is always inside the window.
const LINE_WINDOW: usize = 4096;
/// How far a multiline rule (key blocks) may extend past its keyword hit:
/// larger than an 8192-bit RSA key in PEM (about 6.5 KiB).
const MULTILINE_WINDOW: usize = 64 * 1024;

/// A candidate secret found by a rule, before any suppression.
#[derive(Debug, Clone, PartialEq)]
pub struct RawMatch {
    /// Index of the rule in the `RuleSet`.
    pub rule: usize,
    /// Byte span of the secret in the haystack.
    pub start: usize,
    pub end: usize,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f64,
    /// The encoding the secret was found under (`"base64"`, `"percent"`,
    /// `"escaped"`), if any: the span is the encoded text, the rule the one
    /// that matched the decoded text.
    pub encoding: Option<&'static str>,
}

/// Why a rule's match was dropped inside the matcher (counted in stats).
#[derive(Debug, Default, Clone, Copy)]
pub struct MatchCounters {
    pub low_entropy: u64,
    pub placeholder: u64,
    pub rule_allowlist: u64,
    pub overlapping: u64,
    /// Generic values that are ciphertext (SOPS, Ansible Vault, EJSON …).
    pub encrypted: u64,
    /// Generic values that are crypto test data: known-answer test vectors
    /// and names of the key blocks that follow them.
    pub test_vectors: u64,
}

/// Per-thread matching state over a shared `RuleSet`.
pub struct Matcher {
    rules: Arc<RuleSet>,
    caches: Vec<Option<(meta::Cache, Captures)>>,
    windows: Vec<Vec<(usize, usize)>>,
    touched: Vec<usize>,
    hits: Vec<Hit>,
    /// Per rule: true if the rule is path-scoped.
    scoped: Vec<bool>,
    /// The path-scoped rules that apply to the file being scanned (sorted).
    path_ok: Vec<u32>,
    /// The path of the file being scanned, until its wildcard globs have
    /// been matched (only done when a rule that needs it is hit).
    pending_path: Option<Vec<u8>>,
    /// Nesting of decoded-text scans (decoded text is not decoded again).
    depth: u8,
    /// The file may be a YAML manifest (no path, or a YAML/template name):
    /// only then are Kubernetes `Secret` values looked for.
    yaml_hint: bool,
    pub counters: MatchCounters,
    /// Rules whose regex failed to compile: (rule index, message), reported once.
    pub rule_errors: Vec<(usize, String)>,
}

impl Clone for Matcher {
    fn clone(&self) -> Self {
        Matcher::new(self.rules.clone())
    }
}

impl Matcher {
    pub fn new(rules: Arc<RuleSet>) -> Matcher {
        let n = rules.len();
        let scoped = rules.rules.iter().map(|r| !r.paths.is_empty()).collect();
        Matcher {
            rules,
            caches: (0..n).map(|_| None).collect(),
            windows: vec![Vec::new(); n],
            touched: Vec::new(),
            hits: Vec::new(),
            scoped,
            path_ok: Vec::new(),
            pending_path: None,
            depth: 0,
            yaml_hint: true,
            counters: MatchCounters::default(),
            rule_errors: Vec::new(),
        }
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// Finds every candidate secret in `hay`, sorted by position then rule.
    /// Path-scoped rules do not run (there is no path to match).
    pub fn scan(&mut self, hay: &[u8]) -> Vec<RawMatch> {
        self.path_ok.clear();
        self.pending_path = None;
        self.yaml_hint = true;
        self.scan_selected(hay)
    }

    /// Like [`Matcher::scan`], for the content of the file at `path`
    /// (relative, `/`-separated): path-scoped rules whose globs match it run
    /// too, those without keywords on the whole content.
    pub fn scan_path(&mut self, hay: &[u8], path: &[u8]) -> Vec<RawMatch> {
        let mut ok = std::mem::take(&mut self.path_ok);
        self.rules.path_rules_by_name(path, &mut ok);
        let rules = self.rules.clone();
        if rules
            .keywordless_rules()
            .iter()
            .any(|&r| rules.has_wild_globs(r as usize))
        {
            rules.path_rules_by_glob(path, &mut ok);
            self.pending_path = None;
        } else {
            self.pending_path = Some(path.to_vec());
        }
        self.path_ok = ok;
        self.yaml_hint = [&b".yaml"[..], b".yml", b".tpl", b".j2", b".yaml.gotmpl"]
            .iter()
            .any(|ext| {
                path.len() >= ext.len() && path[path.len() - ext.len()..].eq_ignore_ascii_case(ext)
            });
        let found = self.scan_selected(hay);
        self.yaml_hint = true;
        found
    }

    fn scan_selected(&mut self, hay: &[u8]) -> Vec<RawMatch> {
        let rules = self.rules.clone();
        // 1. Keyword hits → per-rule windows. Hits come in order of their end;
        //    windows start at line starts, so they arrive (nearly) sorted.
        let mut hits = std::mem::take(&mut self.hits);
        rules.keyword_hits(hay, &mut hits);
        for h in &hits {
            for &r in rules.pattern_rules(h.pattern as usize) {
                if self.scoped[r as usize] && self.path_ok.binary_search(&r).is_err() {
                    if !rules.has_wild_globs(r as usize) {
                        continue;
                    }
                    if let Some(p) = self.pending_path.take() {
                        rules.path_rules_by_glob(&p, &mut self.path_ok);
                    }
                    if self.path_ok.binary_search(&r).is_err() {
                        continue;
                    }
                }
                let r = r as usize;
                let w = window(hay, h.start, h.end, rules.rules[r].multiline);
                let list = &mut self.windows[r];
                if list.is_empty() {
                    self.touched.push(r);
                }
                match list.last_mut() {
                    Some(last) if w.0 <= last.1 && w.1 >= last.0 => {
                        last.0 = last.0.min(w.0);
                        last.1 = last.1.max(w.1);
                    }
                    _ => list.push(w),
                }
            }
        }
        self.hits = hits;
        // Path-scoped rules without keywords: the whole file, when the path matches.
        for &r in rules.keywordless_rules() {
            if self.path_ok.binary_search(&r).is_ok() && !hay.is_empty() {
                let r = r as usize;
                if self.windows[r].is_empty() {
                    self.touched.push(r);
                }
                self.windows[r].clear();
                self.windows[r].push((0, hay.len()));
            }
        }
        // 2. Run each touched rule's regex in its windows.
        let mut out = Vec::new();
        let mut claimed: Vec<(usize, usize)> = Vec::new();
        let mut touched = std::mem::take(&mut self.touched);
        touched.sort_unstable();
        for &r in &touched {
            let windows = std::mem::take(&mut self.windows[r]);
            self.run_rule(r, hay, &windows, &mut out, &mut claimed);
            let mut windows = windows;
            windows.clear();
            self.windows[r] = windows;
        }
        touched.clear();
        self.touched = touched;
        // 3. Resolve overlaps.
        self.resolve(&mut out, &mut claimed);
        // 4. Encoded secrets (one level deep).
        if self.depth == 0 {
            self.decode_pass(hay, &mut out);
        }
        out
    }

    /// Scans decoded text (no path, no further decoding).
    fn scan_decoded(&mut self, text: &[u8]) -> Vec<RawMatch> {
        self.depth += 1;
        let found = self.scan(text);
        self.depth -= 1;
        found
    }

    /// Decodes base64, percent-encoding and string escapes where they hide
    /// credentials and judges or re-reports what is inside; see [`decode`].
    fn decode_pass(&mut self, hay: &[u8], out: &mut Vec<RawMatch>) {
        let rules = self.rules.clone();
        let yaml = self.yaml_hint;
        let mut budget = decode::MAX_DECODES;
        // Where percent-encoded URLs and escaped strings may hide a secret;
        // found before any nested scan reuses `self.hits`.
        let percent = decode::percent_regions(hay);
        // Keywords with a `/` (`hooks.slack.com/services`, `redis://`) do not
        // hit `\/`-escaped JSON (PHP's json_encode), so an escaped `://` is a
        // trigger too.
        let mut anchors: Vec<(usize, usize)> = self.hits.iter().map(|h| (h.start, h.end)).collect();
        anchors.extend(memchr::memmem::find_iter(hay, br":\/\/").map(|i| (i, i + 5)));
        anchors.sort_unstable_by_key(|a| a.1);
        let escaped = decode::escaped_lines(hay, anchors.into_iter());
        let mut dropped = vec![false; out.len()];
        let mut extra: Vec<RawMatch> = Vec::new();
        // Rules whose secret is base64 text (basic credentials, Docker auth).
        for (i, m) in out.iter_mut().enumerate() {
            let rule = &rules.rules[m.rule];
            if !rule.decode_base64 || budget == 0 {
                continue;
            }
            budget -= 1;
            let Some(text) = decode::base64_text(&hay[m.start..m.end]) else {
                continue;
            };
            m.encoding = Some("base64");
            let inner = self.scan_decoded(&text);
            if let Some(x) = inner.iter().find(|x| !rules.rules[x.rule].generic) {
                m.rule = x.rule;
                m.entropy = x.entropy;
                continue;
            }
            if let Some(c) = memchr::memchr(b':', &text) {
                let pw = &text[c + 1..];
                let ent = entropy::shannon(pw);
                if pw.is_empty()
                    || placeholder::is_placeholder(pw, true, false)
                    || rule.entropy.is_some_and(|min| ent < min)
                {
                    dropped[i] = true;
                    self.counters.placeholder += 1;
                }
            }
        }
        // Secrets written percent-encoded (a URL password's `%40`): judged
        // on the decoded text, like a plain one.
        for (i, m) in out.iter_mut().enumerate() {
            let rule = &rules.rules[m.rule];
            let secret = &hay[m.start..m.end];
            if m.encoding.is_some()
                || rule.multiline
                || dropped[i]
                || !decode::has_escape(Escape::Percent, secret)
            {
                continue;
            }
            let Some(text) = decode::unescape(Escape::Percent, secret) else {
                continue;
            };
            m.encoding = Some(Escape::Percent.name());
            match keep(&mut self.counters, rule, &text) {
                Some(ent) => m.entropy = ent,
                None => dropped[i] = true,
            }
        }
        // Kubernetes Secret `data:` values, scanned as `key: decoded` so
        // secret-named rules see the key.
        let manifests = if yaml {
            decode::k8s_secret_values(hay)
        } else {
            Vec::new()
        };
        for v in manifests {
            if budget == 0 {
                break;
            }
            budget -= 1;
            let Some(text) = decode::base64_text(&hay[v.start..v.end]) else {
                continue;
            };
            let mut ctx = v.key.to_vec();
            ctx.extend_from_slice(b": ");
            ctx.extend_from_slice(&text);
            ctx.push(b'\n');
            let found = self.scan_decoded(&ctx);
            let best = found
                .iter()
                .find(|x| !rules.rules[x.rule].generic)
                .or(found.first());
            match best {
                Some(x) => extra.push(RawMatch {
                    rule: x.rule,
                    start: v.start,
                    end: v.end,
                    entropy: x.entropy,
                    encoding: Some("base64"),
                }),
                // Nothing credible inside: a generic finding on the encoded
                // text was judged on the wrong text; drop it.
                None => {
                    for (i, m) in out.iter().enumerate() {
                        if m.start == v.start && m.end == v.end && rules.rules[m.rule].generic {
                            dropped[i] = true;
                            self.counters.placeholder += 1;
                        }
                    }
                }
            }
        }
        if dropped.iter().any(|&d| d) {
            let mut i = 0;
            out.retain(|_| {
                i += 1;
                !dropped[i - 1]
            });
        }
        if !extra.is_empty() {
            for e in &extra {
                out.retain(|m| !(m.start < e.end && e.start < m.end));
            }
            out.extend(extra);
            out.sort_by_key(|m| (m.start, m.end, m.rule));
        }
        // Percent-encoded URL text and escaped strings: each region decoded
        // once and scanned; what the plain scan did not find is reported at
        // its encoded span (a specific rule's finding replaces generic ones).
        let regions = percent
            .iter()
            .map(|&r| (Escape::Percent, r))
            .chain(escaped.iter().map(|&r| (Escape::String, r)));
        let mut added = false;
        for (kind, (rs, re)) in regions {
            if budget == 0 {
                break;
            }
            budget -= 1;
            let enc = &hay[rs..re];
            let Some(text) = decode::unescape(kind, enc) else {
                continue;
            };
            for x in self.scan_decoded(&text) {
                // A secret with `%XX` in it (a URL password in an escaped
                // string) is judged decoded too; it is not scanned again.
                let rule = &rules.rules[x.rule];
                let secret = &text[x.start..x.end];
                if !rule.multiline && decode::has_escape(Escape::Percent, secret) {
                    if let Some(plain) = decode::unescape(Escape::Percent, secret) {
                        if keep(&mut self.counters, rule, &plain).is_none() {
                            continue;
                        }
                    }
                }
                let (s, e) = decode::encoded_span(kind, enc, x.start, x.end);
                let (s, e) = (rs + s, rs + e);
                let generic = rules.rules[x.rule].generic;
                let overlaps = |m: &RawMatch| m.start < e && s < m.end;
                if out
                    .iter()
                    .any(|m| overlaps(m) && (generic || !rules.rules[m.rule].generic))
                {
                    continue;
                }
                out.retain(|m| !overlaps(m));
                out.push(RawMatch {
                    rule: x.rule,
                    start: s,
                    end: e,
                    entropy: x.entropy,
                    encoding: Some(kind.name()),
                });
                added = true;
            }
        }
        if added {
            out.sort_by_key(|m| (m.start, m.end, m.rule));
        }
    }

    fn run_rule(
        &mut self,
        r: usize,
        hay: &[u8],
        windows: &[(usize, usize)],
        out: &mut Vec<RawMatch>,
        claimed: &mut Vec<(usize, usize)>,
    ) {
        let rules = self.rules.clone();
        let rule = &rules.rules[r];
        let (re, group) = match (rule.regex(), rule.secret_group()) {
            (Ok(re), Ok(g)) => (re, g),
            (Err(e), _) | (_, Err(e)) => {
                if !self.rule_errors.iter().any(|(i, _)| *i == r) {
                    self.rule_errors.push((r, e.to_string()));
                }
                return;
            }
        };
        let (cache, caps) =
            self.caches[r].get_or_insert_with(|| (re.create_cache(), re.create_captures()));
        for &(ws, we) in windows {
            let mut at = ws;
            while at < we {
                let input = Input::new(hay).span(at..we);
                re.search_captures_with(cache, &input, caps);
                let Some(whole) = caps.get_match() else { break };
                // Never loop on an empty match.
                at = if whole.end() > whole.start() {
                    whole.end()
                } else {
                    whole.end() + 1
                };
                let Some(span) = caps.get_group(group) else {
                    continue;
                };
                if span.is_empty() {
                    continue;
                }
                let secret = &hay[span.start..span.end];
                if !rule.generic {
                    claimed.push((span.start, span.end));
                }
                // Ciphertext under a secret's name (SOPS, Ansible Vault …) is
                // what should be committed, whichever rule took the name.
                if !rule.multiline && encrypted::is_encrypted(hay, span.start, span.end) {
                    self.counters.encrypted += 1;
                    continue;
                }
                let Some(ent) = keep(&mut self.counters, rule, secret) else {
                    continue;
                };
                if rule.generic && !keep_decoded(&mut self.counters, rule, secret) {
                    continue;
                }
                if rule.generic
                    && !rule.multiline
                    && (test_vector::names_a_key_block(hay, span.end)
                        || test_vector::is_known_answer(hay, span.start, span.end))
                {
                    self.counters.test_vectors += 1;
                    continue;
                }
                out.push(RawMatch {
                    rule: r,
                    start: span.start,
                    end: span.end,
                    entropy: ent,
                    encoding: None,
                });
            }
        }
    }

    /// Drops duplicates: a generic match overlapping any specific rule's match
    /// (even one a filter dropped: a documented example key stays dropped), and
    /// a match with the same span as an earlier rule's.
    fn resolve(&mut self, out: &mut Vec<RawMatch>, claimed: &mut [(usize, usize)]) {
        let rules = &self.rules.rules;
        let before = out.len();
        // Overlap test against claimed spans in O(log n): sort by start and
        // keep the running maximum of ends.
        claimed.sort_unstable();
        let mut max_end = Vec::with_capacity(claimed.len());
        let mut running = 0;
        for &(_, e) in claimed.iter() {
            running = running.max(e);
            max_end.push(running);
        }
        let overlaps_claimed = |m: &RawMatch| {
            let n = claimed.partition_point(|&(s, _)| s < m.end);
            n > 0 && max_end[n - 1] > m.start
        };
        out.retain(|m| !rules[m.rule].generic || !overlaps_claimed(m));
        out.sort_by_key(|m| (m.start, m.end, m.rule));
        out.dedup_by(|b, a| a.start == b.start && a.end == b.end);
        // Among generic matches, keep the first of each overlapping group.
        // Matches are sorted by start, so one overlaps an earlier kept generic
        // match exactly when that match's end lies past its start.
        let mut generic_end = 0;
        out.retain(|m| {
            if !rules[m.rule].generic {
                return true;
            }
            if generic_end > m.start {
                return false;
            }
            generic_end = m.end;
            true
        });
        self.counters.overlapping += (before - out.len()) as u64;
    }
}

/// The rule's filters on a secret (plain or decoded): its entropy if it
/// passes the entropy floor, the rule's allowlist and the placeholder checks;
/// `None` (counted) if not.
fn keep(counters: &mut MatchCounters, rule: &Rule, secret: &[u8]) -> Option<f64> {
    let ent = entropy::shannon(secret);
    if rule.entropy.is_some_and(|min| ent < min) {
        counters.low_entropy += 1;
        return None;
    }
    if !rule.allowlist.is_empty() && rule.allowlist.allows_secret(secret) {
        counters.rule_allowlist += 1;
        return None;
    }
    if placeholder::is_placeholder(secret, rule.generic, rule.multiline) {
        counters.placeholder += 1;
        return None;
    }
    Some(ent)
}

/// Shortest generic value judged after base64 decoding: shorter values
/// decode to text by chance too often.
const MIN_BASE64_VALUE: usize = 12;

/// A generic value that is valid base64 of printable text is judged after
/// decoding, by the same filters (a decoded `user:password` also by its
/// password): `credential=YWxpY2U6c2VjcmV0LXBhc3N3ZA==` (`alice:secret-passwd`)
/// is dropped, the base64 of a random password is kept. False if dropped
/// (counted).
fn keep_decoded(counters: &mut MatchCounters, rule: &Rule, secret: &[u8]) -> bool {
    if secret.len() < MIN_BASE64_VALUE {
        return true;
    }
    let Some(text) = decode::base64_text(secret) else {
        return true;
    };
    if keep(counters, rule, &text).is_none() {
        return false;
    }
    match memchr::memchr(b':', &text) {
        Some(c) => keep(counters, rule, &text[c + 1..]).is_some(),
        None => true,
    }
}

/// The window searched around a keyword hit at `start..end`: its line, cut to
/// `LINE_WINDOW` bytes each side on long lines; multiline rules reach further.
fn window(hay: &[u8], start: usize, end: usize, multiline: bool) -> (usize, usize) {
    let lo = start.saturating_sub(LINE_WINDOW);
    let ws = memchr::memrchr(b'\n', &hay[lo..start]).map_or(lo, |i| lo + i + 1);
    let reach = if multiline {
        MULTILINE_WINDOW
    } else {
        LINE_WINDOW
    };
    let hi = (end + reach).min(hay.len());
    let we = if multiline {
        hi
    } else {
        memchr::memchr(b'\n', &hay[end..hi]).map_or(hi, |i| end + i)
    };
    (ws, we)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::template::{expand, Rng};
    use std::sync::OnceLock;

    fn builtin() -> Arc<RuleSet> {
        static RULES: OnceLock<Arc<RuleSet>> = OnceLock::new();
        RULES
            .get_or_init(|| {
                let mut b = crate::rules::RuleSetBuilder::new();
                b.add_file(crate::rules::parse_builtin().unwrap(), "built-in")
                    .unwrap();
                Arc::new(b.build().unwrap())
            })
            .clone()
    }

    /// (rule id, reported text, encoding) of every match in `hay`.
    fn found(hay: &str) -> Vec<(String, String, Option<&'static str>)> {
        let rules = builtin();
        let mut m = Matcher::new(rules.clone());
        m.scan(hay.as_bytes())
            .into_iter()
            .map(|x| {
                (
                    rules.rules[x.rule].id.to_string(),
                    hay[x.start..x.end].to_string(),
                    x.encoding,
                )
            })
            .collect()
    }

    fn fake(template: &str, seed: u64) -> String {
        expand(template, &mut Rng::new(seed))
    }

    fn pct(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b':' | b'/' | b'?' | b'=' | b'@' | b'&' => format!("%{b:02X}"),
                _ => (b as char).to_string(),
            })
            .collect()
    }

    #[test]
    fn percent_encoded_url_is_decoded_and_reported_at_the_encoded_text() {
        let gh = fake("ghp_{alnum:36}", 1);
        let hay = format!(
            "next = \"https://acme.io/login?redirect={}\"\n",
            pct(&format!("https://api.acme.io/?token={gh}"))
        );
        assert_eq!(
            found(&hay),
            vec![("github-pat".to_string(), gh.clone(), Some("percent"))]
        );
        // A whole connection URL percent-encoded inside a parameter: the
        // password is reported as written in the file.
        let pw = fake("{alnum:18}", 2);
        let url = pct(&format!("mongodb://app:{pw}@db.acme.io/app"));
        let hay = format!("x = \"{url}\"\n");
        assert_eq!(
            found(&hay),
            vec![(
                "mongodb-connection-string".to_string(),
                pw.clone(),
                Some("percent")
            )]
        );
        // Plain text is untouched: no encoding named.
        let hay = format!("GITHUB_TOKEN={gh}\n");
        assert_eq!(found(&hay)[0].2, None);
    }

    #[test]
    fn percent_encoded_passwords_are_judged_decoded() {
        // `p%40ss...`: reported as written, naming the encoding.
        let pw = format!("{}%40{}%21", fake("{alnum:8}", 3), fake("{alnum:6}", 4));
        let hay = format!("DATABASE_URL=postgres://app:{pw}@db.acme.io:5432/app\n");
        assert_eq!(
            found(&hay),
            vec![(
                "postgres-connection-string".to_string(),
                pw,
                Some("percent")
            )]
        );
        // Decoded, these are a template reference and a weak word: dropped
        // like their plain forms.
        for pw in ["%24%7BDB_PASSWORD%7D", "changeme%21", "password%21%21"] {
            let hay = format!("DATABASE_URL=postgres://app:{pw}@db.acme.io:5432/app\n");
            assert_eq!(found(&hay), vec![], "{pw}");
        }
    }

    #[test]
    fn escaped_strings_are_decoded() {
        // PHP's json_encode escapes `/`: a webhook URL and a key body.
        let hook = format!(
            "https:\\/\\/hooks.slack.com\\/services\\/T{}\\/B{}\\/{}",
            fake("{upper:9}", 5),
            fake("{upper:9}", 6),
            fake("{alnum:24}", 7)
        );
        let hay = format!("{{\"hook\":\"{hook}\"}}\n");
        assert_eq!(
            found(&hay),
            vec![("slack-webhook-url".to_string(), hook, Some("escaped"))]
        );
        // The first line's `\/` comes early, so the key rule's plain match
        // (which tolerates a stray `\` between long base64 runs) fails.
        let mut body: Vec<String> = (0..12).map(|i| fake("{b64:64}", 10 + i)).collect();
        body[0] = format!("MIIEow/{}", fake("{b64:57}", 9));
        let key = format!(
            "-----BEGIN RSA PRIVATE KEY-----\\n{}\\n-----END RSA PRIVATE KEY-----",
            body.join("\\n").replace('/', "\\/")
        );
        let hay = format!("{{\"private_key\":\"{key}\\n\"}}\n");
        let got = found(&hay);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "private-key-rsa");
        assert_eq!(got[0].2, Some("escaped"), "{got:?}");
        assert!(got[0].1.starts_with("-----BEGIN RSA") && got[0].1.ends_with("KEY-----"));
        // JSON inside a JSON string.
        let pw = fake("{alnum:18}", 30);
        let hay = format!("{{\"cfg\":\"{{\\\"db_password\\\": \\\"{pw}\\\"}}\"}}\n");
        assert_eq!(
            found(&hay),
            vec![("generic-password".to_string(), pw, Some("escaped"))]
        );
        // A PEM with plain `\n` escapes is found as written (no encoding).
        let key = format!(
            "-----BEGIN RSA PRIVATE KEY-----\\n{}\\n-----END RSA PRIVATE KEY-----",
            body.join("\\n")
        );
        let got = found(&format!("{{\"private_key\":\"{key}\\n\"}}\n"));
        assert_eq!(got, vec![("private-key-rsa".to_string(), key, None)]);
    }

    #[test]
    fn decoding_is_bounded() {
        // Decoded text is not decoded again: a doubly percent-encoded token
        // stays hidden.
        let gh = fake("ghp_{alnum:36}", 40);
        let twice = pct(&pct(&format!("https://x.io/?token={gh}")).replace('%', "%25"));
        assert!(twice.contains("%253D"));
        assert_eq!(found(&format!("u={twice}\n")), vec![]);
        // Lower-case `%3d` (printf) is no trigger; nothing grows past the input.
        assert!(decode::percent_regions(b"printf(\"%3d|%2f\", a, b);").is_empty());
        let many = "a%3Ab ".repeat(10 * decode::MAX_DECODES);
        assert_eq!(
            decode::percent_regions(many.as_bytes()).len(),
            decode::MAX_DECODES
        );
    }
}
