//! Request templates: `{secret}`, `{paired}` (the value paired with it),
//! `{NAME}` (a spec's value, read from the secret or next to it) and
//! `{base64:TEXT}` (TEXT, itself templated, base64-encoded: HTTP Basic
//! credentials) filled into a URL, header or body; other braces are text.
//! The dry run shows the template itself, so no secret text is printed.

use std::collections::BTreeMap;

use base64::Engine;

/// The values a template may use.
pub struct Values<'a> {
    pub secret: &'a str,
    pub paired: Option<&'a str>,
    pub named: &'a BTreeMap<String, String>,
}

/// Fills `template`. Errors name the placeholder, never a value.
pub fn fill(template: &str, v: &Values<'_>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + v.secret.len());
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        // Only `{secret}`, `{paired}`, `{base64:` and `{NAME}` of a value
        // open a placeholder; any other brace (a JSON body) is text.
        let named = v
            .named
            .keys()
            .any(|k| after.starts_with(k.as_str()) && after[k.len()..].starts_with('}'));
        if !named
            && !["secret}", "paired}", "base64:"]
                .iter()
                .any(|p| after.starts_with(p))
        {
            out.push('{');
            rest = after;
            continue;
        }
        let end = closing(after).ok_or_else(|| format!("unclosed {{ in template {template:?}"))?;
        let name = &after[..end];
        match name {
            "secret" => out.push_str(v.secret),
            "paired" => out.push_str(v.paired.ok_or("no paired value was found nearby")?),
            _ => match (name.strip_prefix("base64:"), v.named.get(name)) {
                (Some(inner), _) => {
                    let text = fill(inner, v)?;
                    out.push_str(&base64::engine::general_purpose::STANDARD.encode(text));
                }
                (None, Some(value)) => out.push_str(value),
                (None, None) => return Err(format!("unknown placeholder {{{name}}}")),
            },
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The index of the `}` closing the placeholder that starts `s` (nesting counted).
fn closing(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The template as the dry run shows it: placeholders stay names
/// (`<secret>`, `<paired>`), nothing is filled or encoded.
pub fn redacted(template: &str) -> String {
    template
        .replace("{secret}", "<secret>")
        .replace("{paired}", "<paired>")
}

/// Whether a value may go into a URL path unescaped.
pub fn url_safe(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_and_encodes() {
        let mut named = BTreeMap::new();
        named.insert("shop".to_string(), "acme".to_string());
        let v = Values {
            secret: "s3",
            paired: Some("id"),
            named: &named,
        };
        assert_eq!(
            fill("https://{shop}.myshopify.com/{x}", &v).unwrap(),
            "https://acme.myshopify.com/{x}"
        );
        assert_eq!(fill("Bearer {secret}", &v).unwrap(), "Bearer s3");
        assert_eq!(
            fill("Basic {base64:{paired}:{secret}}", &v).unwrap(),
            "Basic aWQ6czM="
        );
        assert_eq!(fill(r#"{"q":"{ me }"}"#, &v).unwrap(), r#"{"q":"{ me }"}"#);
        assert!(fill("{base64:{secret}", &v).is_err());
        let none = Values {
            secret: "s3",
            paired: None,
            named: &BTreeMap::new(),
        };
        assert!(fill("{paired}", &none).is_err());
        assert!(!redacted("Basic {base64:api:{secret}}").contains("s3"));
    }
}
