//! Offline evidence: what a secret proves about itself, without a request.
//! A JWT's issuer, subject and expiry (expired: `invalid`), the AWS account
//! id encoded in an access key id, and the CRC32 checksum GitHub and npm
//! tokens carry in their last six characters (reported, not a verdict).
//! Runs in every mode; it never touches the network.

use std::collections::BTreeMap;

use base64::Engine;

/// What the secret alone says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Named facts (`aws_account`, `jwt_issuer`, `checksum`, ...).
    pub facts: BTreeMap<String, String>,
    /// Set when the secret proves itself unusable (expired, bad checksum).
    pub invalid: Option<String>,
}

impl Evidence {
    pub fn is_empty(&self) -> bool {
        self.facts.is_empty() && self.invalid.is_none()
    }
}

/// The evidence for `secret` found by `rule`; `now` is seconds since the epoch.
pub fn evidence(rule: &str, secret: &[u8], now: u64) -> Evidence {
    let mut e = Evidence::default();
    let Ok(s) = std::str::from_utf8(secret) else {
        return e;
    };
    if rule == "aws-access-key-id" {
        if let Some(acct) = aws_account(s) {
            e.facts.insert("aws_account".into(), acct);
        }
    }
    if let Some(ok) = token_checksum(s) {
        e.facts.insert(
            "checksum".into(),
            if ok { "valid" } else { "mismatch" }.into(),
        );
    }
    if s.starts_with("eyJ") {
        jwt(s, now, &mut e);
    }
    e
}

/// The 12-digit AWS account id in an access key id: the ten characters after
/// the four-letter prefix are base32 (RFC 4648 alphabet), and bits 1..=40 of
/// their first 48 bits, shifted right by 7, are the account number.
pub fn aws_account(key_id: &str) -> Option<String> {
    if key_id.len() != 20 || !key_id.is_ascii() {
        return None;
    }
    let body = &key_id.as_bytes()[4..14];
    let mut bits: u64 = 0;
    for &c in body {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        bits = (bits << 5) | u64::from(v);
    }
    // 50 bits read; keep the first 48 (six bytes).
    let z = bits >> 2;
    let account = (z & 0x7fff_ffff_ff80) >> 7;
    Some(format!("{account:012}"))
}

/// GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm (`npm_`) tokens:
/// 30 random base62 characters, then their CRC32 in six base62 digits.
/// `None`: not such a token.
pub fn token_checksum(s: &str) -> Option<bool> {
    const PREFIXES: [&str; 6] = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_"];
    let rest = PREFIXES.iter().find_map(|p| s.strip_prefix(p))?;
    if rest.len() != 36 || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let (random, check) = rest.split_at(30);
    let crc = zlib_rs::crc32::crc32(0, random.as_bytes());
    Some(base62_6(crc) == check)
}

fn base62_6(mut n: u32) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JWT's `iss`, `sub` and `exp` claims (the signature is not checked: this
/// is evidence, not trust). Past `exp`: invalid.
fn jwt(s: &str, now: u64, e: &mut Evidence) {
    let mut parts = s.split('.');
    let (Some(_), Some(payload)) = (parts.next(), parts.next()) else {
        return;
    };
    if payload.len() > 64 * 1024 {
        return;
    }
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let Ok(bytes) = engine.decode(payload.trim_end_matches('=')) else {
        return;
    };
    let Ok(serde_json::Value::Object(claims)) = serde_json::from_slice(&bytes) else {
        return;
    };
    for (claim, name) in [("iss", "jwt_issuer"), ("sub", "jwt_subject")] {
        if let Some(v) = claims.get(claim).and_then(|v| v.as_str()) {
            e.facts.insert(name.into(), v.chars().take(200).collect());
        }
    }
    if let Some(exp) = claims.get("exp").and_then(|v| v.as_u64()) {
        e.facts.insert("jwt_expires".into(), rfc3339(exp));
        if exp < now {
            e.invalid = Some("the token expired".into());
        }
    }
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: u64) -> String {
    let rem = secs % 86_400;
    let (y, m, d) = crate::git::dates::civil_from_days((secs / 86_400) as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_account_from_key_id() {
        // A published example key id and the account it names (built here
        // so the literal is not itself a finding).
        let key = format!("ASIA{}", "Y34FZKBOKMUTVV7A");
        assert_eq!(aws_account(&key).as_deref(), Some("609629065308"));
        assert_eq!(aws_account("AKIA1"), None);
    }

    #[test]
    fn checksum_round_trip() {
        let random = "a".repeat(30);
        let good = format!(
            "ghp_{random}{}",
            base62_6(zlib_rs::crc32::crc32(0, random.as_bytes()))
        );
        assert_eq!(token_checksum(&good), Some(true));
        let bad = format!("ghp_{random}000000");
        assert_eq!(token_checksum(&bad), Some(false));
        assert_eq!(token_checksum("xoxb-1"), None);
        // Evidence only: a mismatch does not decide the status.
        let e = evidence("github-pat", bad.as_bytes(), 0);
        assert_eq!(e.facts["checksum"], "mismatch");
        assert!(e.invalid.is_none());
    }

    #[test]
    fn jwt_claims_and_expiry() {
        let enc = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let tok = format!(
            "{}.{}.sig",
            enc(r#"{"alg":"HS256"}"#),
            enc(r#"{"iss":"https://issuer.test","sub":"svc","exp":1000}"#)
        );
        let e = evidence("jwt", tok.as_bytes(), 2000);
        assert_eq!(e.facts["jwt_issuer"], "https://issuer.test");
        assert_eq!(e.facts["jwt_subject"], "svc");
        assert_eq!(e.facts["jwt_expires"], "1970-01-01T00:16:40Z");
        assert!(e.invalid.is_some());
        assert!(evidence("jwt", tok.as_bytes(), 10).invalid.is_none());
    }
}
