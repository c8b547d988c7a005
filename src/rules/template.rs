//! Expands rule-example templates such as `ghp_{alnum:36}` into concrete text
//! with a seeded generator, so that `rules.toml` never holds a real-looking
//! credential literal while every rule is still proven on realistic input.
//! Only `{CLASS:N}` with a known class is a placeholder; any other brace text
//! (`{{ .Values.x }}`, `${VAR}`) is kept literally. `{crc32b62}` writes the
//! checksum GitHub and npm tokens end with: the CRC32 of the text the
//! previous placeholder produced, in base62, six characters.

const CLASSES: &[(&str, &[u8])] = &[
    (
        "alnum",
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    ),
    ("upper", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    ("lower", b"abcdefghijklmnopqrstuvwxyz"),
    ("digit", b"0123456789"),
    ("hex", b"0123456789abcdef"),
    ("HEX", b"0123456789ABCDEF"),
    (
        "b64",
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    ),
    (
        "b64url",
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
    ),
    ("lalnum", b"abcdefghijklmnopqrstuvwxyz0123456789"),
    ("ualnum", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
];

/// A small deterministic generator (SplitMix64); quality is ample for test text.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// Seeds from a string, e.g. a rule id plus an example index.
    pub fn from_str_seed(s: &str) -> Self {
        // FNV-1a: stable across platforms and releases, unlike DefaultHasher.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in s.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn pick(&mut self, set: &[u8]) -> u8 {
        set[(self.next_u64() % set.len() as u64) as usize]
    }
}

/// Expands every `{CLASS:N}` in `template`.
pub fn expand(template: &str, rng: &mut Rng) -> String {
    const CHECKSUM: &str = "crc32b62}";
    let mut out = String::with_capacity(template.len() + 32);
    let mut last = 0..0;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if let Some(tail) = after.strip_prefix(CHECKSUM) {
            let sum = super::confidence::base62_6(super::confidence::crc32(
                &out.as_bytes()[last.clone()],
            ));
            out.push_str(std::str::from_utf8(&sum).unwrap_or_default());
            rest = tail;
            continue;
        }
        match parse_placeholder(after) {
            Some((set, n, used)) => {
                let from = out.len();
                for _ in 0..n {
                    out.push(rng.pick(set) as char);
                }
                last = from..out.len();
                rest = &after[used..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parses `CLASS:N}` at the start of `s`; returns the class set, N and bytes used.
fn parse_placeholder(s: &str) -> Option<(&'static [u8], usize, usize)> {
    let close = s.find('}')?;
    let (name, count) = s[..close].split_once(':')?;
    let set = CLASSES.iter().find(|(n, _)| *n == name)?.1;
    let n: usize = count.parse().ok()?;
    (n <= 4096).then_some((set, n, close + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_known_classes_only() {
        let mut rng = Rng::new(7);
        let s = expand(
            "a{hex:8}b {{ .Values.x }} ${VAR} {nope:3} {digit:2}",
            &mut rng,
        );
        let hex = &s[1..9];
        assert!(hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert!(s[9..].starts_with("b {{ .Values.x }} ${VAR} {nope:3} "));
        assert!(s[s.len() - 2..].bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn checksum_placeholder_covers_the_previous_expansion() {
        let t = expand("ghp_{alnum:30}{crc32b62}", &mut Rng::new(9));
        assert_eq!(t.len(), 40);
        assert!(crate::rules::confidence::Checksum::Crc32Base62.holds(t.as_bytes()));
    }

    #[test]
    fn same_seed_same_text() {
        let a = expand("{alnum:20}", &mut Rng::from_str_seed("x0"));
        let b = expand("{alnum:20}", &mut Rng::from_str_seed("x0"));
        let c = expand("{alnum:20}", &mut Rng::from_str_seed("x1"));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
