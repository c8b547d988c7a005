//! Secrets hidden by an encoding: base64 values of Kubernetes `Secret`
//! manifests, rules whose secret is base64 text (`decode = "base64"`: HTTP
//! basic credentials, Docker `auth`), percent-encoded URL text (`%3A%2F%2F`,
//! a password's `%40`) and string escapes (`\/`, `\"`, `\n`, `\u002F` in
//! JSON, JavaScript, PHP). The decoded text is scanned again (one level deep,
//! bounded in size and count); what is found is reported at the encoded
//! text's span, naming the encoding. A decoded `user:password` or password is
//! judged by the same placeholder and entropy filters as a plain one.
//!
//! Percent and escape decoding never grow the text (each escape decodes to at
//! most as many bytes as it spans) and run only where a cheap trigger is
//! present: an upper-case `%3A`/`%2F`/`%3D`/`%3F`/`%40`/`%26` escape for
//! percent-encoding; for strings, an escape on a line the keyword search hit
//! or that holds an escaped `:\/\/`.

use base64::Engine;

/// Longest encoded value decoded.
const MAX_ENCODED: usize = 8 * 1024;
/// Most values decoded in one blob.
pub const MAX_DECODES: usize = 256;
/// Shortest base64 value in a Kubernetes `data:` map worth decoding.
const MIN_K8S_VALUE: usize = 12;

/// Longest region decoded for percent-encoding or string escapes.
pub const MAX_REGION: usize = 16 * 1024;

/// A textual encoding decoded in place (besides base64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// URL percent-encoding (`%40` → `@`); `+` is left alone (base64 uses it).
    Percent,
    /// String-literal escapes: `\/ \" \' \\ \n \r \t \uXXXX \xXX`.
    String,
}

impl Escape {
    /// The name findings carry (`encoding`).
    pub fn name(self) -> &'static str {
        match self {
            Escape::Percent => "percent",
            Escape::String => "escaped",
        }
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn hex2(s: &[u8]) -> Option<u8> {
    match s {
        [a, b, ..] => Some(hex(*a)? << 4 | hex(*b)?),
        _ => None,
    }
}

/// One unit of `enc` at `i`: (encoded length, decoded bytes, decoded length).
/// The decoded length never exceeds the encoded length.
fn unit(kind: Escape, enc: &[u8], i: usize) -> (usize, [u8; 4], usize) {
    let b = enc[i];
    let plain = (1, [b, 0, 0, 0], 1);
    match kind {
        Escape::Percent if b == b'%' => match hex2(&enc[i + 1..]) {
            Some(v) => (3, [v, 0, 0, 0], 1),
            None => plain,
        },
        Escape::String if b == b'\\' && i + 1 < enc.len() => {
            let one = |c: u8| (2, [c, 0, 0, 0], 1);
            match enc[i + 1] {
                c @ (b'/' | b'"' | b'\'' | b'\\') => one(c),
                b'n' => one(b'\n'),
                b'r' => one(b'\r'),
                b't' => one(b'\t'),
                b'x' => match hex2(&enc[i + 2..]) {
                    Some(v) if v.is_ascii() => (4, [v, 0, 0, 0], 1),
                    _ => plain,
                },
                b'u' if enc.len() >= i + 6 => {
                    let cp = match (hex2(&enc[i + 2..]), hex2(&enc[i + 4..])) {
                        (Some(h), Some(l)) => u32::from(h) << 8 | u32::from(l),
                        _ => return plain,
                    };
                    match char::from_u32(cp) {
                        Some(c) => {
                            let mut buf = [0u8; 4];
                            let n = c.encode_utf8(&mut buf).len();
                            (6, buf, n)
                        }
                        None => plain,
                    }
                }
                _ => plain,
            }
        }
        _ => plain,
    }
}

/// Decodes `enc` one level: `None` unless at least one escape was decoded
/// and the result is printable text. The result is never longer than `enc`.
pub fn unescape(kind: Escape, enc: &[u8]) -> Option<Vec<u8>> {
    if enc.len() > MAX_REGION {
        return None;
    }
    let mut out = Vec::with_capacity(enc.len());
    let mut changed = false;
    let mut i = 0;
    while i < enc.len() {
        let (n, bytes, m) = unit(kind, enc, i);
        changed |= n > 1;
        out.extend_from_slice(&bytes[..m]);
        i += n;
    }
    (changed && is_text(&out)).then_some(out)
}

/// Maps a span of the text [`unescape`] decoded from `enc` back to the
/// encoded text: the units holding its first and last decoded bytes.
pub fn encoded_span(kind: Escape, enc: &[u8], start: usize, end: usize) -> (usize, usize) {
    let (mut i, mut d) = (0, 0);
    let mut from = enc.len();
    while i < enc.len() {
        let (n, _, m) = unit(kind, enc, i);
        if from == enc.len() && d + m > start {
            from = i;
        }
        if d + m >= end {
            return (from.min(i), i + n);
        }
        i += n;
        d += m;
    }
    (from.min(enc.len()), enc.len())
}

/// True if `s` holds an escape of `kind` that decodes.
pub fn has_escape(kind: Escape, s: &[u8]) -> bool {
    let lead = match kind {
        Escape::Percent => b'%',
        Escape::String => b'\\',
    };
    memchr::memchr_iter(lead, s).any(|i| unit(kind, s, i).0 > 1)
}

/// Upper-case escapes of URL delimiters: the percent trigger. (Lower-case
/// `%3d`/`%2f` are printf formats in C; encoders write upper case.)
fn percent_trigger(s: &[u8]) -> bool {
    matches!(
        s,
        [b'%', b'3', b'A' | b'D' | b'F', ..]
            | [b'%', b'2', b'F' | b'6', ..]
            | [b'%', b'4', b'0', ..]
    )
}

/// A byte that ends a percent-encoded region (URLs hold none of these).
fn ends_url(b: u8) -> bool {
    b.is_ascii_whitespace()
        || b.is_ascii_control()
        || !b.is_ascii()
        || matches!(b, b'"' | b'\'' | b'`' | b'<' | b'>' | b'\\')
}

/// The percent-encoded regions of `hay`: each run of URL bytes around an
/// upper-case escape of a URL delimiter, at most [`MAX_REGION`] long and
/// [`MAX_DECODES`] of them.
pub fn percent_regions(hay: &[u8]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut after = 0;
    for i in memchr::memchr_iter(b'%', hay) {
        if i < after || !percent_trigger(&hay[i..]) {
            continue;
        }
        if out.len() == MAX_DECODES {
            break;
        }
        let lo = i.saturating_sub(MAX_REGION / 2).max(after);
        let start = hay[lo..i]
            .iter()
            .rposition(|&b| ends_url(b))
            .map_or(lo, |p| lo + p + 1);
        let hi = (i + MAX_REGION / 2).min(hay.len());
        let end = hay[i..hi]
            .iter()
            .position(|&b| ends_url(b))
            .map_or(hi, |p| i + p);
        out.push((start, end));
        after = end;
    }
    out
}

/// The lines (cut to [`MAX_REGION`] around the hit) holding a hit (keyword,
/// or an escaped `:\/\/`) and a string escape: where an escaped secret may
/// hide. `hits` are (start, end) spans in order of their end.
pub fn escaped_lines(
    hay: &[u8],
    hits: impl Iterator<Item = (usize, usize)>,
) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (hs, he) in hits {
        if out.last().is_some_and(|&(_, e)| hs < e) || out.len() == MAX_DECODES {
            continue;
        }
        let lo = hs.saturating_sub(MAX_REGION / 4);
        let start = memchr::memrchr(b'\n', &hay[lo..hs]).map_or(lo, |p| lo + p + 1);
        let hi = (he + MAX_REGION * 3 / 4).min(hay.len()).max(he);
        let end = memchr::memchr(b'\n', &hay[he..hi]).map_or(hi, |p| he + p);
        if has_escape(Escape::String, &hay[start..end]) {
            out.push((start, end));
        }
    }
    out
}

fn is_text(out: &[u8]) -> bool {
    match std::str::from_utf8(out) {
        Ok(text) => {
            !text.is_empty()
                && text
                    .chars()
                    .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        }
        Err(_) => false,
    }
}

/// Decodes standard or URL-safe base64 (padding optional) into text: `None`
/// unless it decodes and is printable ASCII/UTF-8 (tabs and newlines allowed).
pub fn base64_text(enc: &[u8]) -> Option<Vec<u8>> {
    if enc.len() > MAX_ENCODED || enc.len() < 4 {
        return None;
    }
    let trimmed: &[u8] = {
        let mut e = enc;
        while let [rest @ .., b'='] = e {
            e = rest;
        }
        e
    };
    let cfg = base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true);
    let std = base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, cfg);
    let url = base64::engine::GeneralPurpose::new(&base64::alphabet::URL_SAFE, cfg);
    let out = std.decode(trimmed).or_else(|_| url.decode(trimmed)).ok()?;
    is_text(&out).then_some(out)
}

/// A value of a Kubernetes `Secret`'s `data:` map: (key, value span).
pub struct K8sValue<'a> {
    pub key: &'a [u8],
    pub start: usize,
    pub end: usize,
}

/// The base64 values under `data:` in the `kind: Secret` documents of a YAML
/// file (block style: `data:` then indented `key: value` lines).
pub fn k8s_secret_values(hay: &[u8]) -> Vec<K8sValue<'_>> {
    let mut out = Vec::new();
    if memchr::memmem::find(hay, b"kind: Secret").is_none() {
        return out;
    }
    let mut in_data: Option<usize> = None; // indentation of `data:`
    let mut pos = 0;
    while pos < hay.len() && out.len() < MAX_DECODES {
        let end = memchr::memchr(b'\n', &hay[pos..]).map_or(hay.len(), |i| pos + i);
        let line = &hay[pos..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        let body = &line[indent..];
        if body.is_empty() || body.starts_with(b"#") {
            pos = end + 1;
            continue;
        }
        if let Some(d) = in_data {
            if indent <= d || body.starts_with(b"---") {
                in_data = None;
            }
        }
        if body == b"data:" {
            in_data = Some(indent);
        } else if in_data.is_some() {
            if let Some(colon) = memchr::memchr(b':', body) {
                let key = &body[..colon];
                let mut v = &body[colon + 1..];
                let lead = v.iter().take_while(|&&b| b == b' ').count();
                v = &v[lead..];
                let quoted = matches!(v.first(), Some(b'"' | b'\''));
                let q = usize::from(quoted);
                let val = if quoted && v.len() >= 2 {
                    &v[1..v.len() - 1]
                } else {
                    v
                };
                let is_b64 = val.len() >= MIN_K8S_VALUE
                    && val.iter().all(|&b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
                    });
                if is_b64 && !key.is_empty() {
                    let start = pos + indent + colon + 1 + lead + q;
                    out.push(K8sValue {
                        key,
                        start,
                        end: start + val.len(),
                    });
                }
            }
        }
        pos = end + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_text_only() {
        assert_eq!(
            base64_text(b"YWxpY2U6c2VjcmV0").as_deref(),
            Some(&b"alice:secret"[..])
        );
        // Unpadded and URL-safe.
        assert_eq!(base64_text(b"YWJjZA").as_deref(), Some(&b"abcd"[..]));
        // Binary content is not text.
        assert_eq!(base64_text(b"AAECAwQFBgcICQ=="), None);
        assert_eq!(base64_text(b"not base64!"), None);
    }

    #[test]
    fn percent_decoding_and_spans() {
        let enc = b"p%40ss%21w0rd%zz";
        let dec = unescape(Escape::Percent, enc).unwrap();
        assert_eq!(dec, b"p@ss!w0rd%zz");
        assert!(dec.len() <= enc.len());
        // `@ss` in the decoded text is `%40ss` in the file.
        assert_eq!(encoded_span(Escape::Percent, enc, 1, 4), (1, 6));
        assert_eq!(
            encoded_span(Escape::Percent, enc, 0, dec.len()),
            (0, enc.len())
        );
        // Nothing to decode, or not text.
        assert_eq!(unescape(Escape::Percent, b"plain"), None);
        assert_eq!(unescape(Escape::Percent, b"a%00b"), None);
        assert!(has_escape(Escape::Percent, b"a%2fb"));
        assert!(!has_escape(Escape::Percent, b"100%"));
    }

    #[test]
    fn string_unescaping_and_spans() {
        let enc = br#"a\/b\"c\\n\u002Fd\x41\u00e9\q"#;
        let dec = unescape(Escape::String, enc).unwrap();
        assert_eq!(dec, "a/b\"c\\n/dA\u{e9}\\q".as_bytes());
        assert!(dec.len() <= enc.len());
        // The decoded `/d` is `\u002Fd` in the file.
        let at = dec.iter().position(|&b| b == b'd').unwrap();
        let (s, e) = encoded_span(Escape::String, enc, at - 1, at + 1);
        assert_eq!(&enc[s..e], br"\u002Fd");
        // The two bytes of `é` map to the whole `\u00e9`.
        let e_at = dec.len() - 4;
        let (s, e) = encoded_span(Escape::String, enc, e_at, e_at + 1);
        assert_eq!(&enc[s..e], br"\u00e9");
        assert_eq!(unescape(Escape::String, br"no escapes"), None);
        assert_eq!(unescape(Escape::String, br"\u0000"), None);
    }

    #[test]
    fn percent_regions_need_an_upper_case_delimiter() {
        let hay = b"printf(\"%3d %2f %40s\");\nurl=https%3A%2F%2Fx.io%2Fa b\n";
        let r = percent_regions(hay);
        let got: Vec<&[u8]> = r.iter().map(|&(s, e)| &hay[s..e]).collect();
        assert_eq!(got, vec![&b"%40s"[..], &b"url=https%3A%2F%2Fx.io%2Fa"[..]]);
        assert!(percent_regions(b"100% of %d %s %3d").is_empty());
    }

    #[test]
    fn escaped_lines_hold_a_hit_and_an_escape() {
        let hay = b"a = \"plain\"\nb = \"https:\\/\\/x\"\nc\n";
        let hits = [(0usize, 1usize), (12, 13), (14, 15)];
        let r = escaped_lines(hay, hits.iter().copied());
        assert_eq!(r, vec![(12, 29)]);
        assert_eq!(&hay[12..29], br#"b = "https:\/\/x""#);
    }

    #[test]
    fn finds_k8s_secret_data_values() {
        let y = b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  username: YWRtaW4xMjM0NTY=\n  password: \"c2VjcmV0LXBhc3N3b3Jk\"\n  short: YQ==\ntype: Opaque\nstringData:\n  other: YWRtaW4xMjM0NTY=\n"; // leakscan:allow (base64 of "secret-password")
        let v = k8s_secret_values(y);
        let got: Vec<(&[u8], &[u8])> = v.iter().map(|v| (v.key, &y[v.start..v.end])).collect();
        assert_eq!(
            got,
            vec![
                (&b"username"[..], &b"YWRtaW4xMjM0NTY="[..]),
                (&b"password"[..], &b"c2VjcmV0LXBhc3N3b3Jk"[..]),
            ]
        );
        assert!(k8s_secret_values(b"kind: ConfigMap\ndata:\n  a: YWRtaW4xMjM0NTY=\n").is_empty());
    }
}
