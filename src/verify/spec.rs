//! The verifier specs: the `[rules.verify]` tables of the built-in rules,
//! parsed (only when verification or `rules check` needs them: the normal
//! rule load skips them) and checked. A spec says what to send (method, a
//! fixed HTTPS URL, headers and body templates), how to read the answer
//! (status codes and JSON fields meaning live or invalid; fields naming the
//! identity) and carries recorded answers that `rules check` replays.
//! `values` are read from the secret itself or from the text next to it
//! (`near`: a window around the finding, kept only for the rules in
//! `NEAR_RULES`): a Shopify shop, a Mailchimp data centre, an account name.
//! A value may name the host only as its first label under a fixed suffix
//! (`https://{shop}.myshopify.com/...`); the manifest shows `*.myshopify.com`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::rules::{DEFAULT_RULES_NAME, VERIFY_SPECS};

/// One rule's verifier.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySpec {
    /// A verifier written in code instead of a request template
    /// (`"aws-sts"`); `url` then names its host for the manifest.
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default = "get")]
    pub method: String,
    /// `https://host/path`, the host fixed; `{secret}` may appear in the path.
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    /// The id of a rule whose finding, in the same file, pairs with this one
    /// (`{paired}` in templates), e.g. an AWS key id for its secret key.
    #[serde(default)]
    pub paired: Option<String>,
    pub live: Condition,
    pub invalid: Condition,
    /// Reported name → dotted path into the JSON answer (or an XML element
    /// name for code verifiers).
    #[serde(default)]
    pub identity: BTreeMap<String, String>,
    /// Values read from the secret or the text next to it, by name
    /// (`{name}` in the URL, headers and body).
    #[serde(default)]
    pub values: BTreeMap<String, Derive>,
    /// Values reported as identity with a live answer (`client_email`).
    #[serde(default)]
    pub report: Vec<String>,
    /// Recorded answers: at least a live and an invalid one.
    pub answers: Answers,
    /// The rule id (filled in after parsing).
    #[serde(skip)]
    pub rule: String,
}

fn get() -> String {
    "GET".into()
}

/// What an answer must look like to mean live (or invalid).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Any of these HTTP status codes.
    pub status: Vec<u16>,
    /// Dotted JSON path → the value it must hold (an array: any of them).
    #[serde(default)]
    pub json: BTreeMap<String, serde_json::Value>,
    /// XML element name → the text it must hold (code verifiers' XML answers).
    #[serde(default)]
    pub xml: BTreeMap<String, String>,
}

/// Where a value is read from: the first capture group of `regex`, in the
/// secret (`from = "secret"`) or in the text next to it (`from = "near"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Derive {
    pub from: From,
    pub regex: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum From {
    Secret,
    Near,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    pub live: Recorded,
    pub invalid: Recorded,
    /// The secret the replay sends (a rule-example template, `{hex:32}-us6`),
    /// for verifiers that read a value from it.
    #[serde(default)]
    pub secret: Option<String>,
    /// The text next to the secret in the replay (a template; `{secret}`
    /// is the replay's secret), for `near` values.
    #[serde(default)]
    pub near: Option<String>,
}

/// A provider's documented answer, replayed by `rules check`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    pub status: u16,
    #[serde(default)]
    pub body: String,
    /// Identity fields the live answer must yield.
    #[serde(default)]
    pub identity: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct File {
    rules: Vec<RuleVerify>,
}

#[derive(Deserialize)]
struct RuleVerify {
    id: String,
    #[serde(default)]
    verify: Option<VerifySpec>,
}

/// The methods a verifier may use: reading ones, and POST only for APIs
/// whose read call is a POST (checked by review: the URL is in the manifest).
const METHODS: [&str; 3] = ["GET", "HEAD", "POST"];

/// Code verifiers this build knows.
pub const CODE: [&str; 4] = [
    "aws-sts",
    "gcp-service-account",
    "azure-shared-key",
    "azure-sas",
];

/// The rules whose findings keep the text around them (`Finding::near`)
/// for their verifier's `near` values; a test checks it against the specs.
pub const NEAR_RULES: [&str; 10] = [
    "atlassian-api-token",
    "azure-sas-token",
    "azure-storage-account-key",
    "azure-storage-connection-string",
    "dockerhub-pat",
    "gcp-service-account-key",
    "shopify-access-token",
    "shopify-custom-app-token",
    "shopify-private-app-token",
    "twilio-auth-token",
];

/// How many bytes before and after a finding `near` keeps.
pub const NEAR_BYTES: usize = 2048;

/// Whether findings of `rule` keep the text around them.
pub fn reads_near(rule: &str) -> bool {
    NEAR_RULES.contains(&rule)
}
impl VerifySpec {
    /// The host the URL names (`{shop}.myshopify.com`: a template).
    pub fn host(&self) -> &str {
        host_of(&self.url).unwrap_or("")
    }

    /// The host as the manifest and `--verify-hosts` name it: fixed, or
    /// `*.SUFFIX` when its first label is a value.
    pub fn host_pattern(&self) -> String {
        let h = self.host().to_ascii_lowercase();
        match h.split_once("}.") {
            Some((_, suffix)) if h.starts_with('{') => format!("*.{suffix}"),
            _ => h,
        }
    }

    /// The values, compiled (checked by `check`).
    pub fn compiled_values(
        &self,
    ) -> std::result::Result<Vec<(String, From, regex::Regex)>, String> {
        self.values
            .iter()
            .map(|(name, d)| {
                let re = regex::Regex::new(&d.regex)
                    .map_err(|e| format!("values.{name}: bad regex: {e}"))?;
                if re.captures_len() < 2 {
                    return Err(format!("values.{name}: the regex needs a capture group"));
                }
                Ok((name.clone(), d.from, re))
            })
            .collect()
    }

    fn check(&self) -> std::result::Result<(), String> {
        if !METHODS.contains(&self.method.as_str()) {
            return Err(format!(
                "method {:?} is not one of {METHODS:?}",
                self.method
            ));
        }
        let Some(host) = host_of(&self.url) else {
            return Err(format!("url {:?} is not https://HOST/...", self.url));
        };
        if host.is_empty() {
            return Err("the url has no host".into());
        }
        if host.contains('{') {
            // Only `{value}.fixed.suffix`: the first label, under a suffix of
            // at least two fixed labels.
            let ok = host
                .strip_prefix('{')
                .and_then(|r| r.split_once("}."))
                .is_some_and(|(name, suffix)| {
                    self.values.contains_key(name)
                        && !suffix.contains(['{', '}'])
                        && suffix.split('.').filter(|l| !l.is_empty()).count() >= 2
                });
            if !ok {
                return Err(format!(
                    "the url's host {host:?} must be fixed or {{value}}.fixed.suffix"
                ));
            }
        }
        self.compiled_values()?;
        for r in &self.report {
            if !self.values.contains_key(r) {
                return Err(format!(
                    "report names {r:?}, which is not one of the values"
                ));
            }
        }
        let near = self.values.values().any(|d| d.from == From::Near);
        if near != reads_near(&self.rule) {
            return Err(format!(
                "reads values near the secret: {near}, but NEAR_RULES says {}",
                reads_near(&self.rule)
            ));
        }
        if let Some(c) = &self.code {
            if !CODE.contains(&c.as_str()) {
                return Err(format!("unknown code verifier {c:?}"));
            }
        }
        if self.live.status.is_empty() || self.invalid.status.is_empty() {
            return Err("live and invalid each need at least one status".into());
        }
        Ok(())
    }
}

/// `https://HOST[:PORT]/...` → HOST (None for anything but https).
pub fn host_of(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.contains('@') {
        return None;
    }
    Some(authority.split(':').next().unwrap_or(authority))
}

/// Every built-in verifier, checked.
pub fn builtin() -> Result<Vec<VerifySpec>> {
    let file: File = serde_json::from_str(VERIFY_SPECS).map_err(|e| err("", e.to_string()))?;
    let mut out = Vec::new();
    for r in file.rules {
        if let Some(mut v) = r.verify {
            v.rule = r.id;
            v.check().map_err(|m| err(&v.rule, m))?;
            out.push(v);
        }
    }
    Ok(out)
}

fn err(id: &str, msg: String) -> Error {
    Error::Rule {
        origin: DEFAULT_RULES_NAME.into(),
        id: id.into(),
        msg: format!("verify: {msg}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            host_of("https://api.github.com/user"),
            Some("api.github.com")
        );
        assert_eq!(host_of("https://h:8443"), Some("h"));
        assert_eq!(host_of("http://api.github.com/"), None);
        assert_eq!(host_of("https://u@evil/"), None);
    }

    #[test]
    fn builtin_specs_parse() {
        let v = builtin().unwrap();
        assert!(v.len() >= 5, "{} verifiers", v.len());
        // Every rule that keeps the text around its findings has a verifier
        // reading a value from it (`check` proves the converse).
        for rule in NEAR_RULES {
            let s = v.iter().find(|s| s.rule == rule).unwrap();
            assert!(s.values.values().any(|d| d.from == From::Near), "{rule}");
        }
    }

    #[test]
    fn a_templated_host_is_a_label_under_a_fixed_suffix() {
        let spec = |url: &str| {
            let mut s: VerifySpec = serde_json::from_value(serde_json::json!({
                "url": url,
                "values": {"shop": {"from": "secret", "regex": "(x)"}},
                "live": {"status": [200]}, "invalid": {"status": [401]},
                "answers": {"live": {"status": 200}, "invalid": {"status": 401}}
            }))
            .unwrap();
            s.rule = "t".into();
            s
        };
        let ok = spec("https://{shop}.myshopify.com/admin");
        assert!(ok.check().is_ok());
        assert_eq!(ok.host_pattern(), "*.myshopify.com");
        for bad in [
            "https://{shop}/x",
            "https://{shop}.com/x",
            "https://a.{shop}.com/x",
            "https://{other}.myshopify.com/x",
            "https://{shop}.{shop}.example.com/x",
        ] {
            assert!(spec(bad).check().is_err(), "{bad}");
        }
    }
}
