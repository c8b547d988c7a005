//! Other scanners' suppressions, parsed and mapped onto our rule ids, so a
//! team can switch without re-triaging: a gitleaks JSON report, a
//! `.gitleaksignore` (fingerprints `commit:path:rule:line` or
//! `path:rule:line`), a Betterleaks 2 JSON report (`{"findings": [...]}`),
//! a Betterleaks 2 `.betterleaksignore` (one SHA-256 of a secret's exact
//! bytes per line, 64 hexadecimal digits, as Betterleaks' v2 migration guide
//! and scanning guide define it), and a detect-secrets `.secrets.baseline`. Turning these into entries needs
//! a scan (to find the secret a fingerprint points at); that is
//! `commands::baseline`'s job, not this module's.
//!
//! Rule mapping: gitleaks ids go through `gitleaks_ids::MAP` (its `generic-*`
//! rules map to `*`); an id not there that is also one of ours is kept; any
//! other id is *unknown*: it is tied by place alone, and stored (when it
//! carries its secret and cannot be tied) under a family glob from its first
//! word (`acme-api-token` → `acme-*`). detect-secrets plugin names map
//! through `detect_secrets_rule_glob`; its generic kinds (keywords,
//! high-entropy strings) map to `*`: the path and the secret's hash still
//! have to match.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::format::Hex;
use crate::error::{Error, Result};

/// One gitleaks finding or fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitleaksItem {
    pub commit: Option<String>,
    pub path: String,
    pub rule: String,
    pub line: u64,
    pub end_line: u64,
    /// The secret, when a JSON report carries it unredacted.
    pub secret: Option<String>,
    /// The fingerprint, for messages.
    pub fingerprint: String,
}

/// One detect-secrets result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectSecretsItem {
    pub path: String,
    /// The plugin's name, e.g. `AWS Access Key`.
    pub kind: String,
    pub hashed_secret: Hex<20>,
    pub line: Option<u64>,
    /// The audit decision: `Some(false)` false positive, `Some(true)` real.
    pub is_secret: Option<bool>,
}

/// What an import file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Foreign {
    Gitleaks(Vec<GitleaksItem>),
    DetectSecrets(Vec<DetectSecretsItem>),
    /// Betterleaks 2 ignore entries: the SHA-256 of a secret, which
    /// Betterleaks suppresses everywhere (any rule, path, commit).
    BetterleaksIgnore(Vec<BetterleaksIgnoreItem>),
}

/// One `.betterleaksignore` entry (Betterleaks 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BetterleaksIgnoreItem {
    /// SHA-256 of the secret's exact bytes.
    pub sha256: [u8; 32],
    /// 1-based line in the file, for messages.
    pub line: usize,
}

/// A Betterleaks 2 ignore entry: exactly 64 hexadecimal digits (either
/// case), no prefix.
fn betterleaks_hash(line: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    (line.len() == 64 && hex::decode_to_slice(line, &mut out).is_ok()).then_some(out)
}

#[derive(Deserialize)]
struct GitleaksJson {
    #[serde(rename = "RuleID")]
    rule: String,
    #[serde(rename = "File")]
    file: String,
    #[serde(rename = "StartLine", default)]
    start_line: u64,
    #[serde(rename = "EndLine", default)]
    end_line: u64,
    #[serde(rename = "Secret", default)]
    secret: String,
    #[serde(rename = "Commit", default)]
    commit: String,
    #[serde(rename = "Fingerprint", default)]
    fingerprint: String,
}

/// Betterleaks 2's report: `{"schema_version": "1", "findings": [...]}`.
#[derive(Deserialize)]
struct BetterleaksFile {
    findings: Vec<BetterleaksJson>,
}

#[derive(Deserialize)]
struct BetterleaksJson {
    rule_id: String,
    #[serde(rename = "match", default)]
    matched: BetterleaksMatch,
    location: BetterleaksLocation,
    #[serde(default)]
    attributes: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct BetterleaksMatch {
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
struct BetterleaksLocation {
    path: String,
    #[serde(default)]
    start_line: u64,
    #[serde(default)]
    end_line: u64,
}

#[derive(Deserialize)]
struct DetectSecretsFile {
    results: BTreeMap<String, Vec<DetectSecretsJson>>,
}

#[derive(Deserialize)]
struct DetectSecretsJson {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    filename: Option<String>,
    hashed_secret: Hex<20>,
    #[serde(default)]
    line_number: Option<u64>,
    #[serde(default)]
    is_secret: Option<bool>,
}

fn json_error(name: &Path, e: &serde_json::Error, what: &str) -> Error {
    Error::Config {
        path: name.to_path_buf(),
        line: e.line(),
        col: e.column(),
        msg: format!("not a valid {what}: {e}"),
    }
}

/// Recognises and parses an import file by its content: a JSON array is a
/// gitleaks report, a JSON object with `results` a detect-secrets baseline,
/// anything else a `.gitleaksignore`.
pub fn parse(bytes: &[u8], name: &Path) -> Result<Foreign> {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let items: Vec<GitleaksJson> = serde_json::from_str(&text)
            .map_err(|e| json_error(name, &e, "gitleaks JSON report"))?;
        return Ok(Foreign::Gitleaks(
            items
                .into_iter()
                .map(|g| GitleaksItem {
                    commit: Some(g.commit).filter(|c| !c.is_empty()),
                    path: g.file,
                    rule: g.rule,
                    line: g.start_line,
                    end_line: g.end_line.max(g.start_line),
                    secret: unredacted(g.secret),
                    fingerprint: g.fingerprint,
                })
                .collect(),
        ));
    }
    if trimmed.starts_with('{') && !looks_like_detect_secrets(&text) {
        let file: BetterleaksFile = serde_json::from_str(&text)
            .map_err(|e| json_error(name, &e, "Betterleaks JSON report"))?;
        return Ok(Foreign::Gitleaks(
            file.findings
                .into_iter()
                .map(|b| {
                    let commit = b
                        .attributes
                        .get("git.sha")
                        .and_then(|v| v.as_str())
                        .filter(|c| !c.is_empty())
                        .map(str::to_string);
                    let line = b.location.start_line;
                    // Betterleaks' own fingerprint is a hash of the value;
                    // messages name the place, as gitleaks' fingerprints do.
                    let fingerprint = match &commit {
                        Some(c) => format!("{c}:{}:{}:{line}", b.location.path, b.rule_id),
                        None => format!("{}:{}:{line}", b.location.path, b.rule_id),
                    };
                    GitleaksItem {
                        commit,
                        path: b.location.path,
                        rule: b.rule_id,
                        line,
                        end_line: b.location.end_line.max(line),
                        secret: unredacted(b.matched.value),
                        fingerprint,
                    }
                })
                .collect(),
        ));
    }
    if trimmed.starts_with('{') {
        let file: DetectSecretsFile = serde_json::from_str(&text)
            .map_err(|e| json_error(name, &e, "detect-secrets baseline"))?;
        let mut out = Vec::new();
        for (path, results) in file.results {
            for r in results {
                out.push(DetectSecretsItem {
                    path: r.filename.unwrap_or_else(|| path.clone()),
                    kind: r.kind,
                    hashed_secret: r.hashed_secret,
                    line: r.line_number,
                    is_secret: r.is_secret,
                });
            }
        }
        return Ok(Foreign::DetectSecrets(out));
    }
    let entries = || {
        text.lines()
            .enumerate()
            .map(|(n, raw)| (n + 1, raw.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
    };
    // Betterleaks 2's ignore file: a bare SHA-256 per line (its first entry
    // says which format the file is).
    if entries()
        .next()
        .is_some_and(|(_, l)| betterleaks_hash(l).is_some())
    {
        let mut items: Vec<BetterleaksIgnoreItem> = Vec::new();
        for (n, line) in entries() {
            let sha256 = betterleaks_hash(line).ok_or_else(|| Error::Config {
                path: name.to_path_buf(),
                line: n,
                col: 1,
                msg: "not a Betterleaks 2 ignore entry (64 hexadecimal digits: the SHA-256 of \
                      the secret, no prefix)"
                    .into(),
            })?;
            if !items.iter().any(|i| i.sha256 == sha256) {
                items.push(BetterleaksIgnoreItem { sha256, line: n });
            }
        }
        return Ok(Foreign::BetterleaksIgnore(items));
    }
    let mut items = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let item = parse_fingerprint(line).ok_or_else(|| Error::Config {
            path: name.to_path_buf(),
            line: n + 1,
            col: 1,
            msg: format!(
                "not a gitleaks fingerprint (`commit:path:rule:line` or `path:rule:line`): {line}"
            ),
        })?;
        items.push(item);
    }
    Ok(Foreign::Gitleaks(items))
}

/// `--redact` writes REDACTED; a partial redaction ends in `...`. Neither is
/// the secret.
fn unredacted(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty() && s != "REDACTED" && !s.ends_with("..."))
}

/// A JSON object is a detect-secrets baseline when it has `results` and no
/// `findings` (Betterleaks' report).
fn looks_like_detect_secrets(text: &str) -> bool {
    #[derive(Deserialize)]
    struct Keys {
        #[serde(default)]
        results: Option<serde::de::IgnoredAny>,
        #[serde(default)]
        findings: Option<serde::de::IgnoredAny>,
    }
    match serde_json::from_str::<Keys>(text) {
        Ok(k) => k.results.is_some() || k.findings.is_none(),
        // Let the detect-secrets parser report where the JSON breaks.
        Err(_) => true,
    }
}

/// Splits a gitleaks fingerprint from the right (paths may contain `:`): the
/// line, the rule id, then an optional 40- or 64-hex commit before the path.
pub fn parse_fingerprint(fp: &str) -> Option<GitleaksItem> {
    let (rest, line) = fp.rsplit_once(':')?;
    let line: u64 = line.parse().ok()?;
    let (rest, rule) = rest.rsplit_once(':')?;
    if rule.is_empty() || rest.is_empty() {
        return None;
    }
    let (commit, path) = match rest.split_once(':') {
        Some((c, p))
            if (c.len() == 40 || c.len() == 64)
                && c.bytes().all(|b| b.is_ascii_hexdigit())
                && !p.is_empty() =>
        {
            (Some(c.to_string()), p)
        }
        _ => (None, rest),
    };
    Some(GitleaksItem {
        commit,
        path: path.to_string(),
        rule: rule.to_string(),
        line,
        end_line: line,
        secret: None,
        fingerprint: fp.to_string(),
    })
}

/// Our rule id or a glob over our ids for a gitleaks rule id, and whether
/// the id is *known* (in `gitleaks_ids::MAP`, or an id of ours). `ours`
/// says whether an id exists in the active rule set. An unknown id gets a
/// family glob from its first word, good only for storing an entry that is
/// still bound to its file and its secret's hash.
pub fn gitleaks_rule_glob(id: &str, ours: impl Fn(&str) -> bool) -> (String, bool) {
    if let Some(g) = super::gitleaks_ids::ours(id) {
        return (g.to_string(), true);
    }
    if ours(id) {
        return (id.to_string(), true);
    }
    let family = match id.split_once('-') {
        Some((family, _)) => format!("{family}-*"),
        None => format!("{id}*"),
    };
    (family, false)
}

/// A glob over our rule ids for a detect-secrets plugin name.
pub fn detect_secrets_rule_glob(kind: &str) -> String {
    let g = match kind {
        "AWS Access Key" => "aws-*",
        "Azure Storage Account access key" => "azure-*",
        "Artifactory Credentials" => "artifactory-*",
        "Discord Bot Token" => "discord-*",
        "GitHub Token" => "github-*",
        "GitLab Token" => "gitlab-*",
        "IBM Cloud IAM Key" | "IBM COS HMAC Credentials" => "ibm-*",
        "JSON Web Token" => "jwt*",
        "Mailchimp Access Key" => "mailchimp-*",
        "NPM tokens" => "npm-*",
        "OpenAI Token" => "openai-*",
        "Private Key" => "*private-key*",
        "PyPI Token" => "pypi-*",
        "SendGrid API Key" => "sendgrid-*",
        "Slack Token" => "slack-*",
        "Square OAuth Secret" => "square-*",
        "Stripe Access Key" => "stripe-*",
        "Telegram Bot Token" => "telegram-*",
        "Twilio API Key" => "twilio-*",
        // Keyword, Basic Auth, high-entropy strings and plugins we don't
        // know: any rule, still bound to the file and the secret's hash.
        _ => "*",
    };
    g.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints() {
        let c = "0123456789abcdef0123456789abcdef01234567";
        let g = parse_fingerprint(&format!("{c}:dir/a:b.env:aws-access-token:12")).unwrap();
        assert_eq!(g.commit.as_deref(), Some(c));
        assert_eq!(g.path, "dir/a:b.env");
        assert_eq!(g.rule, "aws-access-token");
        assert_eq!(g.line, 12);
        let g = parse_fingerprint("src/x.py:github-pat:3").unwrap();
        assert_eq!(g.commit, None);
        assert_eq!(g.path, "src/x.py");
        assert!(parse_fingerprint("nonsense").is_none());
        assert!(parse_fingerprint("a:b:notanumber").is_none());
    }

    #[test]
    fn rule_mapping() {
        let ours = |id: &str| id == "github-pat" || id == "generic-api-key" || id == "acme-key";
        let g = |id| gitleaks_rule_glob(id, ours);
        assert_eq!(g("github-pat"), ("github-pat".into(), true));
        assert_eq!(g("aws-access-token"), ("aws-access-key-id".into(), true));
        // Same name, different rule: gitleaks' generic rule is wider.
        assert_eq!(g("generic-api-key"), ("*".into(), true));
        assert_eq!(g("acme-key"), ("acme-key".into(), true));
        assert_eq!(g("widget-cloud-token"), ("widget-*".into(), false));
        assert_eq!(detect_secrets_rule_glob("Secret Keyword"), "*");
        let bl = br#"{"schema_version": "1", "findings": [{"rule_id": "github-pat",
            "match": {"value": "REDACTED"}, "attributes": {"git.sha": "abc"},
            "location": {"path": "a.py", "start_line": 3, "end_line": 3}}]}"#;
        let Foreign::Gitleaks(items) = parse(bl, Path::new("r.json")).unwrap() else {
            panic!("not read as a Betterleaks report")
        };
        assert_eq!(items[0].fingerprint, "abc:a.py:github-pat:3");
        assert_eq!(items[0].secret, None);
        assert_eq!(detect_secrets_rule_glob("AWS Access Key"), "aws-*");
    }
}
