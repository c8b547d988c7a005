//! How sure a finding is, from its rule and its secret: `high` for a
//! provider format with a fixed prefix (and a valid checksum where the format
//! has one), `medium` for a provider keyword next to a value of the right
//! shape, `low` for the generic secret-named assignments. Also the offline
//! checksums some token formats carry (GitHub's and npm's CRC32).

/// A finding's confidence, ordered `Low < Medium < High`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Confidence> {
        match s {
            "low" => Some(Confidence::Low),
            "medium" => Some(Confidence::Medium),
            "high" => Some(Confidence::High),
            _ => None,
        }
    }
}

/// An offline checksum a token format carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// GitHub's `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` tokens and npm's `npm_`
    /// tokens: a 4-character prefix, 30 random base62 characters, then the
    /// CRC32 (IEEE) of those 30 characters in base62, zero-padded to 6.
    Crc32Base62,
}

impl Checksum {
    pub fn parse(s: &str) -> Option<Checksum> {
        match s {
            "crc32-base62" => Some(Checksum::Crc32Base62),
            _ => None,
        }
    }

    /// True if `token` carries a valid checksum.
    pub fn holds(self, token: &[u8]) -> bool {
        match self {
            Checksum::Crc32Base62 => {
                let Some(body) = token.get(4..) else {
                    return false;
                };
                if body.len() != 36 || !body.iter().all(u8::is_ascii_alphanumeric) {
                    return false;
                }
                let (random, check) = body.split_at(30);
                base62_6(crc32(random)) == check
            }
        }
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` in base62 (`0-9A-Za-z`), zero-padded to 6 digits (2^32 < 62^6).
pub fn base62_6(mut n: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// CRC-32 (IEEE 802.3, reflected, as zlib's `crc32`). Computed only for
/// findings of checksummed rules, so a bitwise loop is fast enough.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The confidence a rule gives when it does not say: `low` for generic
/// rules, `high` for key blocks (multiline rules: BEGIN line, base64 body,
/// END line) and when the secret starts with one of the rule's keywords (a
/// fixed prefix such as `ghp_`, `xoxb-`), else `medium` (a provider name
/// next to a value of the right shape). A failed checksum caps it at
/// `medium`.
pub fn judge(
    declared: Option<Confidence>,
    (generic, multiline): (bool, bool),
    keywords: &[super::syntax::Text],
    checksum: Option<Checksum>,
    secret: &[u8],
) -> Confidence {
    let base = declared.unwrap_or_else(|| {
        if generic {
            Confidence::Low
        } else if multiline
            || keywords.iter().any(|k| {
                k.len() >= 3
                    && secret.len() > k.len()
                    && secret[..k.len()].eq_ignore_ascii_case(k.as_bytes())
            })
        {
            Confidence::High
        } else {
            Confidence::Medium
        }
    });
    match checksum {
        Some(c) if !c.holds(secret) => base.min(Confidence::Medium),
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(&base62_6(0), b"000000");
        assert_eq!(&base62_6(61), b"00000z");
        assert_eq!(&base62_6(u32::MAX), b"4gfFC3");
    }

    #[test]
    fn checksum_decides_high_or_medium() {
        let random = b"zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ";
        let mut good = b"ghp_".to_vec();
        good.extend_from_slice(random);
        good.extend_from_slice(&base62_6(crc32(random)));
        let kw = [super::super::syntax::Text::Borrowed("ghp_")];
        let c = Some(Checksum::Crc32Base62);
        assert!(Checksum::Crc32Base62.holds(&good));
        assert_eq!(judge(None, (false, false), &kw, c, &good), Confidence::High);
        let mut bad = good.clone();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'0' { b'1' } else { b'0' };
        assert!(!Checksum::Crc32Base62.holds(&bad));
        assert_eq!(
            judge(None, (false, false), &kw, c, &bad),
            Confidence::Medium
        );
        // No prefix of the rule's own: medium; generic: low.
        assert_eq!(
            judge(None, (false, false), &["sentry".into()], None, b"https://x"),
            Confidence::Medium
        );
        assert_eq!(
            judge(None, (true, false), &kw, None, &good),
            Confidence::Low
        );
    }
}
