//! Recognises two shapes of crypto test data that a generic rule's keyword
//! (`key`, `secret`, `private_key` …) lands on but that are not credentials:
//!
//! * **Known-answer test vectors** — files such as NIST CAVP response files
//!   (`COUNT = 0`, `Key = …`, `PT = …`, `CT = …`) and OpenSSL's `evp_test`
//!   data (`Cipher = …`, `Key = …`, `Ciphertext = …`; `Derive = …`,
//!   `SharedSecret = …`). A hex value is test data when its stanza (the
//!   non-blank lines around it) also holds the expected answer of the
//!   operation (`Ciphertext`, `CT`, `Output`, `Digest`, `Tag` …), or starts
//!   with an operation or counter line (`COUNT`, `Cipher`, `Derive`, `KDF` …)
//!   that repeats at least three times in the file. A configuration file
//!   holding a real key and an IV has no expected output and no repeated
//!   test headers, so it is still reported.
//! * **The name of a key block** — `PrivateKey = ALICE_P-256` on the line
//!   before a `-----BEGIN … KEY-----` block: the value labels the block, and
//!   the block itself is judged by the private-key rules.
//!
//! Applied to generic rules' values only: a provider's token format found in
//! a test file is still reported.

/// Lines searched each way from the value's line for the rest of its stanza.
const STANZA_LINES: usize = 32;

/// Fewest hex digits for a value to be judged as test data (shorter values
/// are rarely reported by generic rules anyway).
const MIN_HEX: usize = 16;

/// Field names that hold the expected answer of a tested operation. A
/// configuration file never stores what its key encrypts to.
const ANSWERS: &[&str] = &[
    "ciphertext",
    "ct",
    "output",
    "digest",
    "md",
    "tag",
    "result",
    "expected",
    "keystream",
    "dkm",
    "okm",
];

/// Field names that open a test entry (NIST's counter; the operations of
/// OpenSSL's `evp_test` format). Only judged when they repeat in the file.
const HEADERS: &[&str] = &[
    "count",
    "cipher",
    "decrypt",
    "derive",
    "digest",
    "kdf",
    "pkeykdf",
    "mac",
    "sign",
    "verify",
    "verifyrecover",
    "tcid",
];

/// How often a header must open a line of the file to mark a test file.
const MIN_HEADER_REPEATS: usize = 3;

/// True if the value at `start..end` of `hay` names the key block that
/// starts on the next line (`PrivateKey=ALICE` then `-----BEGIN …`).
pub fn names_a_key_block(hay: &[u8], end: usize) -> bool {
    let Some(nl) = memchr::memchr(b'\n', &hay[end..]).map(|i| end + i) else {
        return false;
    };
    // The value must end its line (trailing spaces and `\r` aside).
    if !hay[end..nl].iter().all(u8::is_ascii_whitespace) {
        return false;
    }
    let next = &hay[nl + 1..];
    let next = &next[next
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .count()..];
    next.starts_with(b"-----BEGIN ")
}

/// True if the hex value at `start..end` of `hay` is part of a known-answer
/// test vector (see the module's paragraph).
pub fn is_known_answer(hay: &[u8], start: usize, end: usize) -> bool {
    if !is_hex(&hay[start..end]) {
        return false;
    }
    let line_start = memchr::memrchr(b'\n', &hay[..start]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &hay[end..]).map_or(hay.len(), |i| end + i);
    let mut headers: Vec<&[u8]> = Vec::new();
    for line in stanza(hay, line_start, line_end) {
        let Some((name, value)) = field(line) else {
            continue;
        };
        if ANSWERS
            .iter()
            .any(|a| name.eq_ignore_ascii_case(a.as_bytes()))
            && !value.is_empty()
        {
            return true;
        }
        if HEADERS
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h.as_bytes()))
        {
            headers.push(name);
        }
    }
    headers
        .iter()
        .any(|h| opens_lines(hay, h, MIN_HEADER_REPEATS))
}

/// A value of hex digits only, at least `MIN_HEX` of them, even in number
/// (bytes written out), with an optional `0x`/`hex:` prefix.
fn is_hex(v: &[u8]) -> bool {
    let v = v
        .strip_prefix(b"0x")
        .or_else(|| v.strip_prefix(b"hex:"))
        .unwrap_or(v);
    v.len() >= MIN_HEX && v.len() % 2 == 0 && v.iter().all(u8::is_ascii_hexdigit)
}

/// The other lines of the stanza around the line `ls..le`: lines above and
/// below up to a blank line or `STANZA_LINES` lines; `#` comment lines are
/// skipped without ending the stanza.
fn stanza(hay: &[u8], ls: usize, le: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    // Upwards.
    let mut end = ls;
    for _ in 0..STANZA_LINES {
        if end == 0 {
            break;
        }
        let stop = end - 1; // the '\n' ending the line above
        let start = memchr::memrchr(b'\n', &hay[..stop]).map_or(0, |i| i + 1);
        let line = &hay[start..stop];
        if is_blank(line) {
            break;
        }
        out.push(line);
        end = start;
    }
    // Downwards.
    let mut start = le;
    for _ in 0..STANZA_LINES {
        if start >= hay.len() {
            break;
        }
        let from = start + 1;
        let stop = memchr::memchr(b'\n', &hay[from..]).map_or(hay.len(), |i| from + i);
        let line = &hay[from..stop];
        if is_blank(line) {
            break;
        }
        out.push(line);
        start = stop;
    }
    out
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// `Name = value`, `Name: value` or `Name=value` (leading blanks allowed):
/// the name and the trimmed value. Comment lines are not fields.
fn field(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let line = trim(line);
    let first = *line.first()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    let n = line
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        .count();
    let name = &line[..n];
    let rest = trim(&line[n..]);
    let value = rest
        .strip_prefix(b"=")
        .or_else(|| rest.strip_prefix(b":"))?;
    Some((name, trim(value)))
}

fn trim(s: &[u8]) -> &[u8] {
    let a = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let b = s[a..]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    &s[a..s.len() - b]
}

/// True if at least `n` lines of `hay` start with field `name` (any case,
/// leading blanks allowed). Stops at the `n`th.
fn opens_lines(hay: &[u8], name: &[u8], n: usize) -> bool {
    let mut seen = 0;
    let mut at = 0;
    while at < hay.len() {
        let end = memchr::memchr(b'\n', &hay[at..]).map_or(hay.len(), |i| at + i);
        if field(&hay[at..end]).is_some_and(|(f, _)| f.eq_ignore_ascii_case(name)) {
            seen += 1;
            if seen >= n {
                return true;
            }
        }
        at = end + 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The span of `value` in `hay`.
    fn span(hay: &str, value: &str) -> (usize, usize) {
        let s = hay.find(value).unwrap();
        (s, s + value.len())
    }

    const KEY: &str = "feffe9928665731c6d6a8f9467308308";

    #[test]
    fn cipher_vector_with_its_ciphertext_is_test_data() {
        let hay = format!(
            "Title = AES tests\n\nCipher = AES-128-CBC\nKey = {KEY}\nIV = 000102030405060708090a0b0c0d0e0f\nPlaintext = 6bc1bee22e409f96\nCiphertext = 7649abac8119b246\n"
        );
        let (s, e) = span(&hay, KEY);
        assert!(is_known_answer(hay.as_bytes(), s, e));
    }

    #[test]
    fn nist_response_file_with_repeated_counts_is_test_data() {
        let mut hay = String::from("[ENCRYPT]\n\n");
        for i in 0..3 {
            hay += &format!("COUNT = {i}\nKEY = {KEY}\nIV = 00000000000000000000000000000000\n\n");
        }
        let (s, e) = span(&hay, KEY);
        assert!(is_known_answer(hay.as_bytes(), s, e));
    }

    #[test]
    fn derive_vectors_repeated_are_test_data_but_one_header_alone_is_not() {
        let entry = format!("Derive=ALICE_P-256\nPeerKey=BOB_P-256_PUB\nSharedSecret={KEY}\n\n");
        let hay = entry.repeat(3);
        let (s, e) = span(&hay, KEY);
        assert!(is_known_answer(hay.as_bytes(), s, e));
        let (s, e) = span(&entry, KEY);
        assert!(!is_known_answer(entry.as_bytes(), s, e));
    }

    #[test]
    fn configuration_with_a_key_and_an_iv_is_not_test_data() {
        for hay in [
            format!("cipher = aes-256-cbc\nkey = {KEY}\niv = 000102030405060708090a0b0c0d0e0f\nsalt = 0011223344556677\n"),
            format!("# app\nENCRYPTION_KEY={KEY}\nENCRYPTION_IV=000102030405060708090a0b0c0d0e0f\n"),
        ] {
            let (s, e) = span(&hay, KEY);
            assert!(!is_known_answer(hay.as_bytes(), s, e), "{hay}");
        }
    }

    #[test]
    fn answer_in_another_stanza_does_not_count() {
        let hay = format!("key = {KEY}\n\nCiphertext = 7649abac8119b246\n");
        let (s, e) = span(&hay, KEY);
        assert!(!is_known_answer(hay.as_bytes(), s, e));
    }

    #[test]
    fn values_that_are_not_hex_are_not_judged() {
        let v = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5";
        let hay = format!("Key = {v}\nCiphertext = 7649abac8119b246\n");
        let (s, e) = span(&hay, v);
        assert!(!is_known_answer(hay.as_bytes(), s, e));
    }

    #[test]
    fn a_name_before_a_key_block_labels_it() {
        // Values are built at run time: a build without this filter scanning
        // our own repository must not report them either.
        let label = ["KAS-ECC-CDH", "_P-192_C0"].concat();
        let hay = format!("PrivateKey={label}\n-----BEGIN PRIVATE KEY-----\nMG8C\n");
        let (_, e) = span(&hay, &label);
        assert!(names_a_key_block(hay.as_bytes(), e));
        // A value (built here, so our own scan does not report it) whose
        // line is followed by another field, or that does not end its line.
        let v = ["Xq93", "kd0Lm2"].concat();
        let hay = format!("private_key = {v}\nother = 1\n-----BEGIN PRIVATE KEY-----\n");
        let (_, e) = span(&hay, &v);
        assert!(!names_a_key_block(hay.as_bytes(), e));
        let hay = format!("key = {v} # -----BEGIN\n");
        let (_, e) = span(&hay, &v);
        assert!(!names_a_key_block(hay.as_bytes(), e));
    }

    #[test]
    fn short_and_empty_inputs_are_neither_shape() {
        for hay in ["", "\n", "=", "Key=", "\n\n\n", "a\r\n-----BEGI"] {
            for s in 0..=hay.len() {
                for e in s..=hay.len() {
                    assert!(!is_known_answer(hay.as_bytes(), s, e), "{hay:?} {s}..{e}");
                    assert!(!names_a_key_block(hay.as_bytes(), e), "{hay:?} ..{e}");
                }
            }
        }
    }
}
