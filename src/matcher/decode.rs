//! Secrets hidden by an encoding: base64 values of Kubernetes `Secret`
//! manifests, and rules whose secret is base64 text (`decode = "base64"`:
//! HTTP basic credentials, Docker `auth`). The decoded text is scanned again
//! (one level deep, bounded in size and count); what is found is reported at
//! the encoded text's span, naming the encoding. A decoded `user:password`
//! is judged by the same placeholder and entropy filters as a plain password.

use base64::Engine;

/// Longest encoded value decoded.
const MAX_ENCODED: usize = 8 * 1024;
/// Most values decoded in one blob.
pub const MAX_DECODES: usize = 256;
/// Shortest base64 value in a Kubernetes `data:` map worth decoding.
const MIN_K8S_VALUE: usize = 12;

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
    let text = std::str::from_utf8(&out).ok()?;
    if text.is_empty()
        || !text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
    {
        return None;
    }
    Some(out)
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
    fn finds_k8s_secret_data_values() {
        let y = b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  username: YWRtaW4xMjM0NTY=\n  password: \"c2VjcmV0LXBhc3N3b3Jk\"\n  short: YQ==\ntype: Opaque\nstringData:\n  other: YWRtaW4xMjM0NTY=\n";
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
