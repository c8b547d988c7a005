//! The sweep key: secrets are identified across repositories, shards and
//! machines by HMAC-SHA256 under a per-sweep key, so a report can say "the
//! same key leaked in these 40 repositories" without holding the secret, and
//! an HMAC cannot be tested against guesses without the key.

use std::io::Write;
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};

/// Key files shorter than this are refused (HMAC-SHA256 wants 32 bytes).
const MIN_KEY: usize = 16;
/// Key files longer than this are refused (they are read whole).
const MAX_KEY: u64 = 4096;
/// The random key written to a state directory.
pub const KEY_FILE: &str = "key";

#[derive(Clone)]
pub struct Key(Vec<u8>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.id())
    }
}

impl Key {
    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }

    /// HMAC-SHA256 of `secret`, hex.
    pub fn digest(&self, secret: &[u8]) -> String {
        let mut m = self.mac();
        m.update(secret);
        hex::encode(m.finalize().into_bytes())
    }

    /// Names the key without revealing it: reports made under different keys
    /// cannot be merged (their rows would not line up).
    pub fn id(&self) -> String {
        let mut m = self.mac();
        m.update(b"leakscan-sweep-key-id\0");
        hex::encode(&m.finalize().into_bytes()[..8])
    }

    /// A fresh random key.
    pub fn random() -> Result<Key> {
        let mut k = vec![0u8; 32];
        getrandom::fill(&mut k)
            .map_err(|e| Error::Usage(format!("cannot get random bytes for the sweep key: {e}")))?;
        Ok(Key(k))
    }

    /// The bytes of `path` as the key.
    pub fn from_file(path: &Path) -> Result<Key> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.len() > MAX_KEY {
            return Err(Error::Usage(format!(
                "{}: a key file holds at most {MAX_KEY} bytes",
                path.display()
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        if bytes.len() < MIN_KEY {
            return Err(Error::Usage(format!(
                "{}: a key file needs at least {MIN_KEY} bytes (32 random bytes are best)",
                path.display()
            )));
        }
        Ok(Key(bytes))
    }

    /// The state directory's key: read it, or create a random one. Created
    /// under a temporary name and linked into place, so shards starting
    /// together on a shared directory agree on one key.
    pub fn in_state(dir: &Path) -> Result<Key> {
        let path = dir.join(KEY_FILE);
        if path.exists() {
            return Key::from_file(&path);
        }
        let key = Key::random()?;
        let tmp = dir.join(format!(".tmp-key-{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&tmp)?;
            f.write_all(&key.0)?;
            f.sync_all()
        };
        write().map_err(|e| Error::io(&tmp, e))?;
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(key),
            // Another process made it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Key::from_file(&path),
            Err(e) => Err(Error::io(&path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_known_answer() {
        // RFC 4231, test case 2.
        let k = Key(b"Jefe".to_vec());
        assert_eq!(
            k.digest(b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_ne!(k.id(), Key(b"Jeff".to_vec()).id());
    }
}
