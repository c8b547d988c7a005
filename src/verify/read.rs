//! Reads an answer: live, invalid or unknown (with why), and the identity
//! fields a live answer names. Only those fields leave this module, never
//! the body. Redirects are never followed: one to another host is refused.

use std::collections::BTreeMap;

use serde_json::Value;

use super::client::Answer;
use super::spec::{host_of, Condition, VerifySpec};
use super::Status;

/// What one answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub status: Status,
    pub identity: BTreeMap<String, String>,
    pub reason: Option<String>,
}

impl Reading {
    pub fn unknown(reason: impl Into<String>) -> Reading {
        Reading {
            status: Status::Unknown,
            identity: BTreeMap::new(),
            reason: Some(reason.into()),
        }
    }
}

/// Reads answer `a` to a request sent to `host`.
pub fn read(spec: &VerifySpec, host: &str, a: &Answer) -> Reading {
    if (300..400).contains(&a.status) {
        let target = a.location.as_deref().unwrap_or("");
        return match host_of(target) {
            Some(h) if h.eq_ignore_ascii_case(host) => {
                Reading::unknown(format!("HTTP {}: redirect not followed", a.status))
            }
            _ => Reading::unknown(format!(
                "HTTP {}: redirect to another host refused",
                a.status
            )),
        };
    }
    let needs_json = !spec.live.json.is_empty() || !spec.invalid.json.is_empty();
    // Code verifiers (AWS) answer in XML; a template verifier's HTML is not JSON.
    let body = a.body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&a.body);
    let xml = spec.code.is_some() && body.first() == Some(&b'<');
    let json: Option<Value> = if xml {
        None
    } else {
        serde_json::from_slice(&a.body).ok()
    };
    let matched = |c: &Condition| {
        c.status.contains(&a.status)
            && c.xml
                .iter()
                .all(|(name, want)| xml_text(body, name).as_deref() == Some(want.as_str()))
            && c.json.iter().all(|(path, want)| {
                json.as_ref()
                    .and_then(|j| lookup(j, path))
                    .is_some_and(|got| equals(got, want))
            })
    };
    if matched(&spec.live) {
        let mut identity = BTreeMap::new();
        for (name, path) in &spec.identity {
            let v = if xml {
                xml_text(body, path)
            } else {
                json.as_ref().and_then(|j| lookup(j, path)).and_then(text)
            };
            if let Some(v) = v {
                identity.insert(name.clone(), v.chars().take(200).collect());
            }
        }
        return Reading {
            status: Status::Live,
            identity,
            reason: None,
        };
    }
    if matched(&spec.invalid) {
        return Reading {
            status: Status::Invalid,
            identity: BTreeMap::new(),
            reason: Some(format!("HTTP {}", a.status)),
        };
    }
    if needs_json && json.is_none() && !xml && a.status < 500 {
        return Reading::unknown(format!("HTTP {}: the answer is not JSON", a.status));
    }
    Reading::unknown(format!("HTTP {}: not a documented answer", a.status))
}

/// `a.b.0.c` in a JSON value.
fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(v, |v, key| match v {
        Value::Object(m) => m.get(key),
        Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn equals(got: &Value, want: &Value) -> bool {
    match want {
        Value::Array(any) => any.iter().any(|w| w == got),
        w => w == got,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(a) => Some(a.iter().filter_map(text).collect::<Vec<_>>().join(",")),
        _ => None,
    }
}

/// The text of the first `<name>…</name>` element (AWS answers are XML).
fn xml_text(body: &[u8], name: &str) -> Option<String> {
    let s = std::str::from_utf8(body).ok()?;
    let open = format!("<{name}>");
    let start = s.find(&open)? + open.len();
    let end = s[start..].find("</")? + start;
    Some(s[start..end].trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> VerifySpec {
        let mut live = Condition {
            status: vec![200],
            ..Default::default()
        };
        live.json.insert("ok".into(), Value::Bool(true));
        let mut invalid = Condition {
            status: vec![200, 401],
            ..Default::default()
        };
        invalid.json.insert(
            "error".into(),
            serde_json::json!(["invalid_auth", "token_revoked"]),
        );
        let mut identity = BTreeMap::new();
        identity.insert("team".into(), "team".into());
        serde_json::from_value::<VerifySpec>(serde_json::json!({
            "url": "https://slack.com/api/auth.test",
            "live": {"status": [200]}, "invalid": {"status": [401]},
            "answers": {"live": {"status": 200}, "invalid": {"status": 401}}
        }))
        .map(|mut s| {
            s.live = live;
            s.invalid = invalid;
            s.identity = identity;
            s
        })
        .unwrap()
    }

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.as_bytes().to_vec(),
            retry_after: None,
            location: None,
        }
    }

    #[test]
    fn live_invalid_unknown() {
        let s = spec();
        let r = read(
            &s,
            "slack.com",
            &answer(200, r#"{"ok":true,"team":"Acme"}"#),
        );
        assert_eq!(r.status, Status::Live);
        assert_eq!(r.identity["team"], "Acme");
        let r = read(
            &s,
            "slack.com",
            &answer(200, r#"{"ok":false,"error":"token_revoked"}"#),
        );
        assert_eq!(r.status, Status::Invalid);
        let r = read(&s, "slack.com", &answer(200, "<html>"));
        assert_eq!(r.status, Status::Unknown);
        let r = read(&s, "slack.com", &answer(200, "nope"));
        assert!(r.reason.unwrap().contains("not JSON"));
        let r = read(&s, "slack.com", &answer(500, "{}"));
        assert_eq!(r.status, Status::Unknown);
        let mut redirect = answer(302, "");
        redirect.location = Some("https://evil.example/x".into());
        assert!(read(&s, "slack.com", &redirect)
            .reason
            .unwrap()
            .contains("another host refused"));
    }
}
