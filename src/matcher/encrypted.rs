//! Recognises values that are encrypted at rest, which a team *should*
//! commit: Mozilla SOPS (`ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`),
//! Jasypt (`ENC(…)` in Spring properties),
//! Ansible Vault (`$ANSIBLE_VAULT;1.1;AES256`, `!vault |`), age armor,
//! EJSON (`EJ[1:…]`), Bitnami SealedSecret `encryptedData` values, and
//! git-crypt files (a `\0GITCRYPT\0` header). Applied to every generic rule's
//! value; a specific token format found in clear text is still reported.

/// Prefixes of an encrypted value, as written in the file.
const PREFIXES: &[&[u8]] = &[
    b"ENC[AES256_GCM,",
    b"ENC[",
    b"ENC(",
    b"EJ[1:",
    b"$ANSIBLE_VAULT;",
    b"!vault",
    b"-----BEGIN AGE ENCRYPTED FILE-----",
];

/// Shortest SealedSecret ciphertext: an RSA-OAEP-wrapped session key alone
/// is 256 bytes or more (344+ base64 characters).
const MIN_SEALED: usize = 300;

/// True if the file starts with git-crypt's header: the whole file is
/// ciphertext.
pub fn is_git_crypt(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\0GITCRYPT\0")
}

/// True if the value at `start..end` of `hay` is (part of) an encrypted
/// value: it starts with an encryption marker, sits inside a SOPS/EJSON
/// envelope opened earlier on its line, or is a SealedSecret ciphertext.
pub fn is_encrypted(hay: &[u8], start: usize, end: usize) -> bool {
    let value = &hay[start..end];
    if PREFIXES.iter().any(|p| starts_with_ci(value, p)) {
        return true;
    }
    // The value's line up to the value: an `ENC[` or `EJ[` not yet closed.
    let line_start = memchr::memrchr(b'\n', &hay[..start]).map_or(0, |i| i + 1);
    let before = &hay[line_start..start];
    for open in [&b"ENC["[..], b"ENC(", b"EJ[1:"] {
        if let Some(i) = memchr::memmem::rfind(before, open) {
            if memchr::memchr2(b']', b')', &before[i..]).is_none() {
                return true;
            }
        }
    }
    // SealedSecret ciphertext (`Ag…`, hundreds of base64 characters) in a
    // file that names the kind or its `encryptedData` map.
    if value.len() >= MIN_SEALED
        && value.starts_with(b"Ag")
        && value
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        let lo = start.saturating_sub(64 * 1024);
        let context = &hay[lo..start];
        return memchr::memmem::find(context, b"SealedSecret").is_some()
            || memchr::memmem::find(context, b"encryptedData").is_some();
    }
    false
}

fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: &str, value: &str) -> bool {
        let start = line.find(value).unwrap();
        is_encrypted(line.as_bytes(), start, start + value.len())
    }

    #[test]
    fn recognises_envelopes() {
        assert!(at(
            "password: ENC[AES256_GCM,data:Tr7o1fA=,iv:x,tag:y,type:str]",
            "ENC[AES256_GCM,data:Tr7o1fA=,iv:x,tag:y,type:str]"
        ));
        // A regex that took only a piece inside the envelope.
        assert!(at(
            "password=ENC[AES256_GCM,data:Tr7o1fA9x=,iv:x,tag:y,type:str]",
            "Tr7o1fA9x="
        ));
        assert!(at("\"secret\": \"EJ[1:abc:def:ghi]\"", "EJ[1:abc:def:ghi]"));
        assert!(at(
            "pw: $ANSIBLE_VAULT;1.1;AES256",
            "$ANSIBLE_VAULT;1.1;AES256"
        ));
        // Closed envelope earlier on the line: the next value is judged alone.
        assert!(!at(
            "a=ENC[AES256_GCM,data:x,type:str] b=Tr7o1fA9xQ2",
            "Tr7o1fA9xQ2"
        ));
        assert!(!at("password=Tr7o1fA9xQ2", "Tr7o1fA9xQ2"));
    }

    #[test]
    fn sealed_secrets_need_their_context() {
        let v = format!("Ag{}", "Bq9x".repeat(90));
        let doc = format!("kind: SealedSecret\nspec:\n  encryptedData:\n    password: {v}\n");
        assert!(at(&doc, &v));
        assert!(!at(&format!("password: {v}\n"), &v));
        assert!(is_git_crypt(b"\0GITCRYPT\0\x01\x02"));
        assert!(!is_git_crypt(b"GITCRYPT"));
    }
}
