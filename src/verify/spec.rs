//! The verifier specs: the `[rules.verify]` tables of the built-in rules,
//! parsed (only when verification or `rules check` needs them: the normal
//! rule load skips them) and checked. A spec says what to send (method, a
//! fixed HTTPS URL, headers and body templates), how to read the answer
//! (status codes and JSON fields meaning live or invalid; fields naming the
//! identity) and carries recorded answers that `rules check` replays.

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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    pub live: Recorded,
    pub invalid: Recorded,
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
pub const CODE: [&str; 1] = ["aws-sts"];

impl VerifySpec {
    /// The host the URL names.
    pub fn host(&self) -> &str {
        host_of(&self.url).unwrap_or("")
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
        if host.contains('{') || host.is_empty() {
            return Err("the url's host must be fixed (no template)".into());
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
            v.check().map_err(|m| err(&r.id, m))?;
            v.rule = r.id;
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
    }
}
