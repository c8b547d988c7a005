//! Recognises values that only look like secrets: template references,
//! placeholders, environment lookups, runs and sequences of characters.
//! The checks are structural, so they hold for every rule; `generic` rules
//! (secret-named assignments) also get word-based checks, because their
//! values have no fixed format to vouch for them.

/// True if `secret` is a placeholder rather than a credential.
/// `multiline` values (key blocks) skip the run/sequence checks: DER bodies
/// legitimately contain runs such as `AAAA`.
pub fn is_placeholder(secret: &[u8], generic: bool, multiline: bool) -> bool {
    if is_template(secret) {
        return true;
    }
    if !multiline && (longest_run(secret) >= 6 || longest_sequence(secret) >= 6) {
        return true;
    }
    generic && is_generic_placeholder(secret)
}

/// `${VAR}`, `$VAR`, `{{ x }}`, `<value>`, `%(x)s`, `#{x}`, `$(cmd)`, `%s`.
fn is_template(s: &[u8]) -> bool {
    const MARKERS: [&[u8]; 6] = [b"${", b"{{", b"}}", b"%(", b"#{", b"$("];
    // A printf-style format as the whole value; `%s` inside a random string is
    // just two characters of it.
    if matches!(s, b"%s" | b"%d" | b"%v" | b"%q") {
        return true;
    }
    if MARKERS.iter().any(|m| memchr::memmem::find(s, m).is_some()) {
        return true;
    }
    match s {
        [b'$', c, ..] if c.is_ascii_alphabetic() || *c == b'_' => true,
        [b'<', .., b'>'] => true,
        [b'[', .., b']'] if s.len() < 64 => true,
        _ => false,
    }
}

/// Length of the longest run of one repeated byte.
fn longest_run(s: &[u8]) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for &b in s {
        if Some(b) == prev {
            run += 1;
        } else {
            run = 1;
            prev = Some(b);
        }
        best = best.max(run);
    }
    best
}

/// Length of the longest ascending or descending run of consecutive
/// alphanumerics (`abcdef`, `456789`, `FEDCBA`).
fn longest_sequence(s: &[u8]) -> usize {
    let mut best = 1.min(s.len());
    let (mut up, mut down) = (1, 1);
    for w in s.windows(2) {
        let (a, b) = (w[0], w[1]);
        let alnum = a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric();
        up = if alnum && b == a.wrapping_add(1) {
            up + 1
        } else {
            1
        };
        down = if alnum && a == b.wrapping_add(1) {
            down + 1
        } else {
            1
        };
        best = best.max(up).max(down);
    }
    best
}

/// Words that mark a value as made up. Matched as substrings.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "sample",
    "dummy",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "redacted",
    "your_",
    "your-",
    "yourpass",
    "yourkey",
    "yoursecret",
    "yourtoken",
    "insert",
    "replace",
    "qwerty",
    "asdf",
    "password1",
    "secret123",
    "notreal",
    "not-a-real",
    "not_a_real",
    "environ",
    "getenv",
    "process.env",
    "env.fetch",
    "env[",
    "secrets.",
    "vault:",
    "keyvault",
    "lorem",
];

/// Words that mark a value as made up when they stand alone as a part.
const PLACEHOLDER_PARTS: &[&str] = &[
    "test",
    "fake",
    "todo",
    "tbd",
    "none",
    "null",
    "nil",
    "true",
    "false",
    "undefined",
    "xxx",
    "foo",
    "bar",
    "secret",
    "password",
    "token",
    "string",
    "value",
    "mock",
];

/// `/etc/ssl/private/key.pem`, `./creds.json`, `~/.aws/credentials`: a path,
/// mostly lower case, without the `+`/`=` of base64 (a base64 secret may well
/// start with `/`).
fn is_path_like(s: &[u8]) -> bool {
    let rooted = s.starts_with(b"/")
        || s.starts_with(b"./")
        || s.starts_with(b"~/")
        || s.starts_with(b"../");
    if !rooted || s.contains(&b'+') || s.contains(&b'=') {
        return false;
    }
    let letters = s.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let upper = s.iter().filter(|b| b.is_ascii_uppercase()).count();
    upper * 10 <= letters
}

fn is_generic_placeholder(s: &[u8]) -> bool {
    let lower = s.to_ascii_lowercase();
    if PLACEHOLDER_WORDS
        .iter()
        .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
    {
        return true;
    }
    if lower
        .split(|b| !b.is_ascii_alphabetic())
        .any(|part| PLACEHOLDER_PARTS.iter().any(|w| part == w.as_bytes()))
    {
        return true;
    }
    // File paths, URLs without credentials, function calls, pure numbers.
    if is_path_like(s) {
        return true;
    }
    if lower.starts_with(b"http://")
        || lower.starts_with(b"https://")
        || lower.starts_with(b"file:")
    {
        return true;
    }
    if s.iter().all(|b| b.is_ascii_digit()) {
        return true;
    }
    if lower.contains(&b'(') && lower.ends_with(b")") {
        return true;
    }
    if is_wildcard(s) {
        return true;
    }
    // Password hashes (bcrypt, argon2, crypt(3)) are not usable credentials.
    if s.starts_with(b"$") {
        return true;
    }
    false
}

/// Values shorter than this with a `*` at an end are patterns whatever
/// follows the `*`.
const SHORT_WILDCARD: usize = 16;

/// Wildcards (`github-*`, `*.example.com`, `prod*`) are patterns, not
/// credentials: a `*` at either end, next to a separator or on a short
/// value. A long random value that merely starts or ends with `*`
/// (`*kLW_iN9t…`) is a password like any other.
fn is_wildcard(s: &[u8]) -> bool {
    let sep = |b: u8| matches!(b, b'.' | b'-' | b'_' | b'/' | b':' | b'@' | b'*');
    let head = s.first() == Some(&b'*');
    let tail = s.last() == Some(&b'*');
    if !head && !tail {
        return false;
    }
    s.len() < SHORT_WILDCARD
        || (head && s.get(1).map_or(true, |&b| sep(b)))
        || (tail && s.len() >= 2 && sep(s[s.len() - 2]))
}

#[cfg(test)]
mod tests {
    use super::is_placeholder;

    #[test]
    fn templates_and_runs() {
        for v in [
            &b"${DB_PASSWORD}"[..],
            b"$TOKEN",
            b"{{ .Values.token }}",
            b"<your-token>",
            b"%(password)s",
            b"sk_live_xxxxxxxxxxxxxxxx",
            b"0123456789abcdef",
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        ] {
            assert!(
                is_placeholder(v, false, false),
                "{}",
                String::from_utf8_lossy(v)
            );
        }
    }

    #[test]
    fn generic_words() {
        assert!(is_placeholder(b"your-api-key-here", true, false));
        assert!(is_placeholder(b"changeme", true, false));
        assert!(is_placeholder(b"$2b$12$abcDEF", true, false));
        assert!(is_placeholder(b"github-*", true, false));
        assert!(is_placeholder(b"*.internal.example.com", true, false));
        assert!(is_placeholder(b"arn:aws:s3:::prod-bucket/*", true, false));
        assert!(is_placeholder(b"prod*", true, false));
        // A long random value that happens to start or end with `*`.
        assert!(!is_placeholder(
            b"*kLW_iN9tvTOQAt7y9fQm5Y7jcfc1TxEIV+UQLesV=DZF*XZX1",
            true,
            false
        ));
        assert!(!is_placeholder(b"Qm5Y7jcfc1TxEIV+UQLesVXZX1*", true, false));
        assert!(is_placeholder(b"/etc/ssl/private/server.key", true, false));
        assert!(is_placeholder(b"~/.aws/credentials", true, false));
        assert!(!is_placeholder(
            b"/rIGVJKSJU2M7qLx0Pz/Ae9Tb+w1=",
            true,
            false
        ));
        assert!(!is_placeholder(b"V1yAry6%s-u39QpZ", true, false));
        assert!(is_placeholder(b"%s", true, false));
        assert!(!is_placeholder(b"tAl0R8c2Iq3Uf2RTp", true, false));
        assert!(!is_placeholder(b"Vq^imEe=j_7fCNYE^V.prY", true, false));
    }

    #[test]
    fn random_tokens_pass() {
        let mut rng = crate::rules::template::Rng::new(3);
        let token = crate::rules::template::expand("ghp_{alnum:36}", &mut rng);
        assert!(!is_placeholder(token.as_bytes(), false, false));
        assert!(!is_placeholder(b"AAAAB3NzaC1yc2EAAAADAQAB", false, true));
    }
}
