//! Verification: is a found secret live? Opt-in (`--verify`), after findings
//! are judged (suppressed ones are never sent) and before the report.
//! `offline` says what a secret proves by itself, in every mode. With
//! `--verify`, each distinct secret whose rule carries a `[rules.verify]`
//! table (`spec`) is checked once: a request made from the spec's templates
//! (`template`) or in code (`code`), sent by the policy-bound HTTPS client
//! (`client`) under per-host limits (`schedule`), its answer read as live,
//! invalid or unknown plus identity fields (`read`). `manifest` lists every
//! host a run may contact; `replay` serves recorded answers on loopback for
//! `rules check` and tests. Nothing here is touched when `--verify` is off,
//! except `offline`.

pub mod client;
mod code;
pub mod manifest;
pub mod offline;
mod read;
pub mod replay;
mod schedule;
pub mod spec;
mod template;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use offline::Evidence;
pub use schedule::Counts;

/// A verdict on one secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Live,
    Invalid,
    Unknown,
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Live => "live",
            Status::Invalid => "invalid",
            Status::Unknown => "unknown",
            Status::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Live,
            Status::Invalid,
            Status::Unknown,
            Status::Skipped,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// What is reported on a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub status: Status,
    /// Identity fields a live answer named (account, user, team, scopes).
    pub identity: BTreeMap<String, String>,
    /// RFC 3339; `None` when no request was made (offline, skipped).
    pub checked_at: Option<String>,
    /// Why it is invalid, unknown or skipped (never the answer's body).
    pub reason: Option<String>,
}

/// `--verify` or `--verify=dry-run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    DryRun,
}

/// How a run verifies.
#[derive(Debug, Clone)]
pub struct Options {
    pub mode: Mode,
    /// `--verify-hosts FILE|LIST`: only these hosts are contacted; the
    /// rest are skipped.
    pub hosts_arg: Option<String>,
    /// Per request.
    pub timeout: Duration,
    /// For the whole pass.
    pub deadline: Duration,
    pub per_host: usize,
    /// Least time between two request starts to one host.
    pub interval: Duration,
}

impl Options {
    pub fn new(mode: Mode) -> Options {
        Options {
            mode,
            hosts_arg: None,
            timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(120),
            per_host: 4,
            interval: Duration::from_millis(50),
        }
    }
}

/// One finding to verify.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    pub rule: &'a str,
    pub secret: &'a [u8],
    /// Where it was found: pairing looks for the paired rule's finding in
    /// the same place (path and commit), nearest by line.
    pub place: &'a [u8],
    pub commit: Option<&'a str>,
    pub line: usize,
    /// The text around the secret (`Finding::near`), for `near` values.
    pub near: Option<&'a [u8]>,
}

/// What makes a check distinct: rule, secret, the paired value and the
/// values read next to it.
type SecretKey = (String, Vec<u8>, Option<Vec<u8>>, Vec<String>);

/// The result of a pass: one entry per item (`None`: the rule has no
/// verifier), and what was sent.
pub struct Pass {
    pub results: Vec<Option<Verification>>,
    pub counts: Counts,
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Verifies `items` (each distinct secret once). The dry run writes each
/// request it would make to `dry` (secret redacted) and sends nothing.
pub fn verify(
    items: &[Item<'_>],
    opts: &Options,
    dry: &mut dyn Write,
) -> crate::error::Result<Pass> {
    let specs = spec::builtin()?;
    let allowed = opts.hosts_arg.as_deref().map(allowed_hosts).transpose()?;
    let by_rule: HashMap<&str, &spec::VerifySpec> =
        specs.iter().map(|s| (s.rule.as_str(), s)).collect();
    // Which rules with a verifier found each secret text. Rules sharing one
    // verifier (an Azure key under two names) do not make it ambiguous.
    let mut owners: HashMap<&[u8], Vec<&str>> = HashMap::new();
    for it in items {
        if let Some(spec) = by_rule.get(it.rule) {
            let o = owners.entry(it.secret).or_default();
            let same = |r: &&str| {
                let other = by_rule[*r];
                other.url == spec.url && other.code == spec.code
            };
            if !o.iter().any(same) {
                o.push(it.rule);
            }
        }
    }
    let now = now_secs();
    let mut results: Vec<Option<Verification>> = vec![None; items.len()];
    // Distinct (rule, secret, paired) → its task or its verdict.
    let mut keyed: HashMap<SecretKey, usize> = HashMap::new();
    let mut outcomes: Vec<Result<usize, Verification>> = Vec::new();
    let mut tasks: Vec<schedule::Task<'_>> = Vec::new();
    let mut waiting: Vec<(usize, usize)> = Vec::new();
    let compiled: HashMap<&str, Vec<(String, spec::From, regex::Regex)>> = specs
        .iter()
        .map(|s| Ok((s.rule.as_str(), s.compiled_values().map_err(verify_error)?)))
        .collect::<crate::error::Result<_>>()?;
    // What a live answer adds to the identity: the values the spec reports.
    let mut reported: Vec<BTreeMap<String, String>> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let Some(spec) = by_rule.get(it.rule).copied() else {
            continue;
        };
        let paired = spec.paired.as_deref().and_then(|p| pair(items, it, p));
        let named = derive(&compiled[it.rule], it.secret, it.near);
        let key = (
            it.rule.to_string(),
            it.secret.to_vec(),
            paired.map(<[u8]>::to_vec),
            named
                .as_ref()
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default(),
        );
        if let Some(&k) = keyed.get(&key) {
            waiting.push((i, k));
            continue;
        }
        let k = outcomes.len();
        keyed.insert(key, k);
        waiting.push((i, k));
        let skip = |reason: String| Verification {
            status: Status::Skipped,
            identity: BTreeMap::new(),
            checked_at: None,
            reason: Some(reason),
        };
        let rules = &owners[it.secret];
        if rules.len() > 1 {
            outcomes.push(Err(skip(format!(
                "ambiguous: rules {} all match this secret",
                rules.join(", ")
            ))));
            continue;
        }
        let named = match named {
            Ok(m) => m,
            Err(why) => {
                outcomes.push(Err(skip(why)));
                continue;
            }
        };
        let host = match concrete_host(spec, &named) {
            Ok(h) => h,
            Err(why) => {
                outcomes.push(Err(skip(why)));
                continue;
            }
        };
        let pattern = spec.host_pattern();
        if let Some(allowed) = &allowed {
            if !allowed.iter().any(|h| *h == host || *h == pattern) {
                outcomes.push(Err(skip(format!("{host} is not in --verify-hosts"))));
                continue;
            }
        }
        if spec.paired.is_some() && paired.is_none() {
            outcomes.push(Err(skip(format!(
                "no {} found next to it to pair with",
                spec.paired.as_deref().unwrap_or("")
            ))));
            continue;
        }
        let secret = String::from_utf8_lossy(it.secret).into_owned();
        let paired_s = paired.map(|p| String::from_utf8_lossy(p).into_owned());
        if opts.mode == Mode::DryRun {
            let mut names: Vec<&str> = spec.headers.keys().map(String::as_str).collect();
            if let Some(code) = &spec.code {
                names = code::header_names(code).to_vec();
            }
            writeln!(
                dry,
                "leakscan: verify (dry run): {} {} [headers: {}] for {} at {}:{}",
                spec.method,
                template::redacted(&spec.url.replacen(spec.host(), &host, 1)),
                names.join(", "),
                it.rule,
                String::from_utf8_lossy(it.place),
                it.line
            )
            .map_err(|e| crate::error::Error::Io {
                path: "<stderr>".into(),
                source: e,
            })?;
            outcomes.push(Err(skip("dry run: nothing sent".into())));
            continue;
        }
        match build(spec, &host, &secret, paired_s.as_deref(), &named, now) {
            Ok(request) => {
                outcomes.push(Ok(tasks.len()));
                reported.push(
                    spec.report
                        .iter()
                        .filter_map(|r| Some((r.clone(), named.get(r)?.clone())))
                        .collect(),
                );
                tasks.push(schedule::Task {
                    spec,
                    host,
                    request,
                    secret,
                });
            }
            Err(reason) => outcomes.push(Err(Verification {
                status: Status::Unknown,
                identity: BTreeMap::new(),
                checked_at: None,
                reason: Some(reason),
            })),
        }
    }
    let mut counts = Counts::default();
    let mut readings = Vec::new();
    if !tasks.is_empty() {
        let env = client::Env::from_env().map_err(verify_error)?;
        let client = client::Client::new(&env, opts.timeout).map_err(verify_error)?;
        let limits = schedule::Limits {
            per_host: opts.per_host,
            interval: opts.interval,
            deadline: Instant::now() + opts.deadline,
        };
        (readings, counts) = schedule::run(&client, &tasks, limits);
    }
    let checked_at = offline::rfc3339(now);
    for (i, k) in waiting {
        results[i] = Some(match &outcomes[k] {
            Err(v) => v.clone(),
            Ok(t) => {
                let r = &readings[*t];
                let mut identity = r.identity.clone();
                if r.status == Status::Live {
                    for (k, v) in &reported[*t] {
                        identity.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                Verification {
                    status: r.status,
                    identity,
                    checked_at: Some(checked_at.clone()),
                    reason: r.reason.clone(),
                }
            }
        });
    }
    Ok(Pass { results, counts })
}

/// One finding to verify, owned (for `verify_within`, whose pass runs on a
/// thread that may outlive the caller's wait).
#[derive(Clone)]
pub struct OwnedItem {
    pub rule: String,
    pub secret: Vec<u8>,
    pub place: Vec<u8>,
    pub commit: Option<String>,
    pub line: usize,
    pub near: Option<Vec<u8>>,
}

/// `verify` under a hard bound on the caller's wait (a server hook must not
/// hold a push longer than configured): the pass runs on a thread of its
/// own with its deadline and per-request timeout cut to `limit`, and the
/// caller waits at most `limit` for it. `None`: it did not finish in time
/// (the thread is left to end on its own; the hook answers and exits).
pub fn verify_within(
    items: Vec<OwnedItem>,
    opts: &Options,
    limit: Duration,
) -> crate::error::Result<Option<Pass>> {
    let mut opts = opts.clone();
    opts.deadline = opts.deadline.min(limit);
    opts.timeout = opts.timeout.min(limit);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("leakscan-verify".into())
        .spawn(move || {
            let borrowed: Vec<Item<'_>> = items
                .iter()
                .map(|o| Item {
                    rule: &o.rule,
                    secret: &o.secret,
                    place: &o.place,
                    commit: o.commit.as_deref(),
                    line: o.line,
                    near: o.near.as_deref(),
                })
                .collect();
            let _ = tx.send(verify(&borrowed, &opts, &mut std::io::stderr()));
        })
        .map_err(|e| verify_error(format!("cannot start the verification thread: {e}")))?;
    match rx.recv_timeout(limit) {
        Ok(r) => r.map(Some),
        Err(_) => Ok(None),
    }
}

/// `--verify-hosts`: an existing file (one host a line, `#` comments) or a
/// comma-separated list.
fn allowed_hosts(arg: &str) -> crate::error::Result<Vec<String>> {
    let path = std::path::Path::new(arg);
    let text = if path.is_file() {
        std::fs::read_to_string(path).map_err(|e| crate::error::Error::io(path, e))?
    } else {
        arg.replace(',', "\n")
    };
    Ok(text
        .lines()
        .map(|l| {
            l.split('#')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|l| !l.is_empty())
        .collect())
}

fn verify_error(msg: String) -> crate::error::Error {
    crate::error::Error::Usage(format!("--verify: {msg}"))
}

/// The request for `spec`, filled.
fn build(
    spec: &spec::VerifySpec,
    host: &str,
    secret: &str,
    paired: Option<&str>,
    named: &BTreeMap<String, String>,
    now: u64,
) -> Result<client::Request, String> {
    let url = spec.url.replacen(spec.host(), host, 1);
    if let Some(code) = &spec.code {
        return code::request(
            code,
            &code::Input {
                url: &url,
                host,
                secret,
                paired,
                named,
                now,
            },
        );
    }
    let values = template::Values {
        secret,
        paired,
        named,
    };
    if spec.url.contains("{secret}") && !template::url_safe(secret) {
        return Err("the secret cannot go into the URL unescaped".into());
    }
    for (name, value) in named {
        if url.contains(&format!("{{{name}}}")) && !template::url_safe(value) {
            return Err(format!("the {name} cannot go into the URL unescaped"));
        }
    }
    let url = template::fill(&url, &values)?;
    let headers = spec
        .headers
        .iter()
        .map(|(k, v)| Ok((k.clone(), template::fill(v, &values)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let body = spec
        .body
        .as_deref()
        .map(|b| template::fill(b, &values))
        .transpose()?;
    Ok(client::Request {
        method: spec.method.clone(),
        url,
        headers,
        body,
    })
}

/// The spec's values for one secret: each regex's first group, in the secret
/// or in the text around it (the match nearest the secret). A value is at
/// most 256 bytes of printable ASCII without quotes or backslashes.
fn derive(
    values: &[(String, spec::From, regex::Regex)],
    secret: &[u8],
    near: Option<&[u8]>,
) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (name, from, re) in values {
        let (text, at) = match from {
            spec::From::Secret => (String::from_utf8_lossy(secret), 0),
            spec::From::Near => {
                let near = near.ok_or_else(|| {
                    format!("the text around it was not kept, so no {name} can be read")
                })?;
                let at = memchr::memmem::find(near, secret).unwrap_or(0);
                (String::from_utf8_lossy(near), at)
            }
        };
        let found = re
            .captures_iter(&text)
            .filter_map(|c| Some((c.get(0)?, c.iter().skip(1).flatten().next()?)))
            .min_by_key(|(whole, _)| {
                // The gap between the match and the secret.
                if whole.end() <= at {
                    at - whole.end()
                } else {
                    whole.start().saturating_sub(at + secret.len())
                }
            })
            .map(|(_, value)| value.as_str())
            .ok_or_else(|| format!("no {name} found next to it"))?;
        let ok = !found.is_empty()
            && found.len() <= 256
            && found
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
        if !ok {
            return Err(format!("the {name} next to it is not a plain value"));
        }
        out.insert(name.clone(), found.to_string());
    }
    Ok(out)
}

/// The host a request goes to: the spec's, its first label filled from a
/// value that must be a DNS label (lowercase letters, digits, hyphens).
fn concrete_host(
    spec: &spec::VerifySpec,
    named: &BTreeMap<String, String>,
) -> Result<String, String> {
    let host = spec.host().to_ascii_lowercase();
    let Some((name, suffix)) = host.strip_prefix('{').and_then(|r| r.split_once("}.")) else {
        return Ok(host);
    };
    let label = named
        .get(name)
        .map(|v| v.to_ascii_lowercase())
        .ok_or_else(|| format!("no {name} found next to it"))?;
    let b = label.as_bytes();
    let ok = (1..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-';
    if !ok {
        return Err(format!("the {name} next to it is not a host name label"));
    }
    Ok(format!("{label}.{suffix}"))
}

/// The secret of the nearest finding of rule `paired` in the same place.
fn pair<'a>(items: &[Item<'a>], it: &Item<'_>, paired: &str) -> Option<&'a [u8]> {
    items
        .iter()
        .filter(|o| o.rule == paired && o.place == it.place && o.commit == it.commit)
        .min_by_key(|o| o.line.abs_diff(it.line))
        .filter(|o| o.line.abs_diff(it.line) <= 20)
        .map(|o| o.secret)
}

/// Offline evidence for a finding, and the verdict it alone gives (an
/// expired token is invalid without a request).
pub fn offline_verdict(rule: &str, secret: &[u8]) -> (Evidence, Option<Verification>) {
    let e = offline::evidence(rule, secret, now_secs());
    let v = e.invalid.as_ref().map(|why| Verification {
        status: Status::Invalid,
        identity: BTreeMap::new(),
        checked_at: None,
        reason: Some(format!("offline: {why}")),
    });
    (e, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_from_next_to_the_secret_and_hosts_are_labels() {
        let spec: spec::VerifySpec = serde_json::from_value(serde_json::json!({
            "url": "https://{shop}.myshopify.com/admin",
            "values": {"shop": {"from": "near", "regex": "([A-Za-z0-9.-]+)\\.myshopify\\.com"}},
            "live": {"status": [200]}, "invalid": {"status": [401]},
            "answers": {"live": {"status": 200}, "invalid": {"status": 401}}
        }))
        .unwrap();
        let values = spec.compiled_values().unwrap();
        let near = b"a.myshopify.com\nTOKEN=s3cr3t\n# the other shop:\nb.myshopify.com\n";
        // The nearest match wins.
        let named = derive(&values, b"s3cr3t", Some(&near[..])).unwrap();
        assert_eq!(named["shop"], "a");
        assert_eq!(concrete_host(&spec, &named).unwrap(), "a.myshopify.com");
        // A value that is not one DNS label never names a host.
        let named = derive(&values, b"s", Some(b"evil.com/x.y.myshopify.com")).unwrap();
        assert!(concrete_host(&spec, &named).is_err(), "{named:?}");
        assert!(derive(&values, b"s", None).is_err());
        assert!(derive(&values, b"s", Some(b"nothing here")).is_err());
    }
}
