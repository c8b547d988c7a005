//! Object ids of either hash git uses: 20 bytes (SHA-1) or 32 bytes
//! (SHA-256, `extensions.objectFormat = sha256`, Git 3.0's default). A
//! repository uses one hash for every object; `HashKind` says which, and an
//! `ObjectId` carries its own length, so ids of different repositories never
//! compare equal by accident (a SHA-1 id is never a prefix-equal SHA-256 id).
//!
//! Parsing, formatting and hashing only; where ids come from is the readers'
//! business. This is `git::Oid` for the whole crate; git2's `Oid` is fixed
//! at 20 bytes: `to_git2`/`From` convert where libgit2 still reads a SHA-1
//! repository (inside `src/git/` only).

use std::fmt;

/// The longest id: SHA-256.
pub const MAX_LEN: usize = 32;

/// Which hash names a repository's objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HashKind {
    #[default]
    Sha1,
    Sha256,
}

impl HashKind {
    /// Bytes in an id.
    pub const fn len(self) -> usize {
        match self {
            HashKind::Sha1 => 20,
            HashKind::Sha256 => 32,
        }
    }

    /// Hex digits in an id.
    pub const fn hex_len(self) -> usize {
        self.len() * 2
    }

    /// The name git uses (`extensions.objectFormat`).
    pub const fn name(self) -> &'static str {
        match self {
            HashKind::Sha1 => "sha1",
            HashKind::Sha256 => "sha256",
        }
    }

    /// The hash whose ids are `len` bytes long.
    pub const fn of_len(len: usize) -> Option<HashKind> {
        match len {
            20 => Some(HashKind::Sha1),
            32 => Some(HashKind::Sha256),
            _ => None,
        }
    }
}

/// An object id of 20 or 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectId {
    len: u8,
    bytes: [u8; MAX_LEN],
}

impl ObjectId {
    /// The id held in `raw` (20 or 32 bytes), else `None`.
    pub fn from_bytes(raw: &[u8]) -> Option<ObjectId> {
        HashKind::of_len(raw.len())?;
        let mut bytes = [0u8; MAX_LEN];
        bytes[..raw.len()].copy_from_slice(raw);
        Some(ObjectId {
            len: raw.len() as u8,
            bytes,
        })
    }

    /// Parses 40 or 64 hex digits (either case), nothing else.
    pub fn from_hex(hex: &[u8]) -> Option<ObjectId> {
        let kind = HashKind::of_len(hex.len() / 2).filter(|k| k.hex_len() == hex.len())?;
        let mut bytes = [0u8; MAX_LEN];
        hex::decode_to_slice(hex, &mut bytes[..kind.len()]).ok()?;
        Some(ObjectId {
            len: kind.len() as u8,
            bytes,
        })
    }

    /// Parses an id of exactly `kind`.
    pub fn from_hex_of(kind: HashKind, hex: &[u8]) -> Option<ObjectId> {
        ObjectId::from_hex(hex).filter(|id| id.kind() == kind)
    }

    /// The all-zero id of `kind` (git's "no object").
    pub fn null(kind: HashKind) -> ObjectId {
        ObjectId {
            len: kind.len() as u8,
            bytes: [0u8; MAX_LEN],
        }
    }

    /// `is_null` (git2's name).
    pub fn is_zero(&self) -> bool {
        self.is_null()
    }

    pub fn is_null(&self) -> bool {
        self.as_bytes().iter().all(|&b| b == 0)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    pub fn kind(&self) -> HashKind {
        if self.len == 32 {
            HashKind::Sha256
        } else {
            HashKind::Sha1
        }
    }

    /// The all-zero SHA-1 id (a placeholder where no object is meant;
    /// `null` gives a repository's own "no object").
    pub fn zero() -> ObjectId {
        ObjectId::null(HashKind::Sha1)
    }

    /// Parses a full id of either length (as git2's `Oid::from_str`, whose
    /// callers this type replaced).
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(hex: &str) -> Result<ObjectId, ParseError> {
        ObjectId::from_hex(hex.as_bytes()).ok_or_else(|| ParseError(hex.chars().take(80).collect()))
    }

    /// The same id as git2's type, for SHA-1 ids only.
    pub fn to_git2(self) -> Option<git2::Oid> {
        match self.kind() {
            HashKind::Sha1 => git2::Oid::from_bytes(self.as_bytes()).ok(),
            HashKind::Sha256 => None,
        }
    }
}

/// Text that is not a full object id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(String);

impl ParseError {
    pub fn message(&self) -> String {
        format!("`{}` is not an object id (40 or 64 hex digits)", self.0)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl From<git2::Oid> for ObjectId {
    fn from(id: git2::Oid) -> ObjectId {
        ObjectId::from_bytes(id.as_bytes()).expect("git2 ids are 20 bytes")
    }
}

impl std::hash::Hash for ObjectId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // One write of the id itself, so `OidHasher` (first 8 bytes) applies.
        state.write(self.as_bytes());
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; MAX_LEN * 2];
        let out = &mut buf[..self.len as usize * 2];
        hex::encode_to_slice(self.as_bytes(), out).expect("twice the length");
        f.write_str(std::str::from_utf8(out).expect("hex is ASCII"))
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA1: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    const SHA256: &str = "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321";

    #[test]
    fn both_lengths_round_trip_through_hex() {
        for (hex, kind) in [(SHA1, HashKind::Sha1), (SHA256, HashKind::Sha256)] {
            let id = ObjectId::from_hex(hex.as_bytes()).unwrap();
            assert_eq!(id.kind(), kind);
            assert_eq!(id.as_bytes().len(), kind.len());
            assert_eq!(id.to_string(), hex);
            assert_eq!(ObjectId::from_bytes(id.as_bytes()), Some(id));
            assert_eq!(ObjectId::from_hex(hex.to_uppercase().as_bytes()), Some(id));
        }
    }

    #[test]
    fn other_lengths_and_non_hex_are_refused() {
        assert_eq!(ObjectId::from_hex(&SHA1.as_bytes()[..39]), None);
        assert_eq!(ObjectId::from_hex(&SHA256.as_bytes()[..63]), None);
        assert_eq!(ObjectId::from_hex(b""), None);
        assert_eq!(ObjectId::from_hex(&[b'g'; 40]), None);
        assert_eq!(ObjectId::from_bytes(&[0; 21]), None);
        assert_eq!(
            ObjectId::from_hex_of(HashKind::Sha256, SHA1.as_bytes()),
            None
        );
    }

    #[test]
    fn ids_of_different_hashes_never_compare_equal() {
        let short = ObjectId::from_bytes(&[7; 20]).unwrap();
        let mut long = [0u8; 32];
        long[..20].copy_from_slice(&[7; 20]);
        assert_ne!(short, ObjectId::from_bytes(&long).unwrap());
        assert!(ObjectId::null(HashKind::Sha256).is_null());
        assert_eq!(ObjectId::null(HashKind::Sha256).to_string(), "0".repeat(64));
    }

    #[test]
    fn converts_to_and_from_git2_for_sha1_only() {
        let g = git2::Oid::from_str(SHA1).unwrap();
        let id = ObjectId::from(g);
        assert_eq!(id.to_git2(), Some(g));
        let long = ObjectId::from_hex(SHA256.as_bytes()).unwrap();
        assert_eq!(long.to_git2(), None);
    }
}
