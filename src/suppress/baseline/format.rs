//! The baseline file on disk: its JSON schema (version 1), reading it with
//! errors that name the file, line and column, and writing it so that the same
//! content always gives the same bytes. Knows nothing about scans or findings
//! beyond the bytes of a secret it is asked to hash.
//!
//! ```json
//! {
//!   "version": 1,
//!   "salt": "<32 hex digits, random, made once by `baseline create`>",
//!   "entries": [
//!     {
//!       "path": "config/app.env",
//!       "rule": "github-pat",
//!       "hash": "<HMAC-SHA256(salt, secret), 64 hex digits>",
//!       "line": 3,
//!       "preview": "ghp_",
//!       "length": 40,
//!       "status": "untriaged",
//!       "date": "2025-01-31"
//!     }
//!   ]
//! }
//! ```
//!
//! An entry holds either `hash` (ours) or `sha1` (the unsalted SHA-1 that a
//! detect-secrets baseline stores, kept only when an import could not be tied
//! to a finding). `path` is a literal path unless it contains `*` or `?`, in
//! which case it is a glob (`*` crosses `/`); a non-UTF-8 path is written as
//! `{"bytes": "<base64>"}`. `rule` is a rule id, or a glob over rule ids
//! (`aws-*`, `*`). `line`, `preview` and `length` are hints for humans and are
//! never used to match.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The format version this build reads and writes.
pub const VERSION: u64 = 1;

/// The file every mode picks up at the scanned root.
pub const DEFAULT_FILE: &str = ".leakscan-baseline.json";

/// Separates our hash input from any other use of the same salt.
const CONTEXT: &[u8] = b"leakscan-baseline-v1\0";

/// What a human decided about an entry. Every status suppresses; the status
/// is carried into reports (`--show-suppressed`) so triage stays visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Recorded by `create`, `update` or an import; nobody has looked yet.
    Untriaged,
    /// Not a secret (test data, a placeholder the rules did not catch).
    FalsePositive,
    /// A real secret the team has decided to live with.
    AcceptedRisk,
    /// A real secret that has been rotated; it remains in history.
    Revoked,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Untriaged,
        Status::FalsePositive,
        Status::AcceptedRisk,
        Status::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Untriaged => "untriaged",
            Status::FalsePositive => "false-positive",
            Status::AcceptedRisk => "accepted-risk",
            Status::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An entry's path: bytes, shown as a string when they are UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryPath(pub Vec<u8>);

impl EntryPath {
    /// Whether this path is a glob: a UTF-8 path containing `*` or `?`.
    pub fn glob(&self) -> Option<&str> {
        std::str::from_utf8(&self.0)
            .ok()
            .filter(|s| s.contains(['*', '?']))
    }

    /// The path for a finding's path: literal, escaped into a glob that
    /// matches only itself in the rare case it contains `*` or `?`.
    pub fn literal(path: &[u8]) -> EntryPath {
        match std::str::from_utf8(path) {
            Ok(s) if s.contains(['*', '?']) => {
                let mut g = String::with_capacity(s.len() + 8);
                for c in s.chars() {
                    match c {
                        '*' | '?' | '[' | ']' | '{' | '}' | '\\' => {
                            g.push('[');
                            g.push(c);
                            g.push(']');
                        }
                        c => g.push(c),
                    }
                }
                EntryPath(g.into_bytes())
            }
            _ => EntryPath(path.to_vec()),
        }
    }

    pub fn display(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }
}

impl Serialize for EntryPath {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => s.serialize_str(text),
            Err(_) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry(
                    "bytes",
                    &base64::engine::general_purpose::STANDARD.encode(&self.0),
                )?;
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for EntryPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EntryPath;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a path string or {\"bytes\": \"<base64>\"}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<EntryPath, E> {
                if v.is_empty() {
                    return Err(E::custom("empty path"));
                }
                Ok(EntryPath(v.as_bytes().to_vec()))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<EntryPath, A::Error> {
                let mut bytes = None;
                while let Some(k) = m.next_key::<String>()? {
                    if k != "bytes" {
                        return Err(de::Error::unknown_field(&k, &["bytes"]));
                    }
                    let b64: String = m.next_value()?;
                    let raw = base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .map_err(|e| de::Error::custom(format!("path bytes: {e}")))?;
                    bytes = Some(raw);
                }
                bytes
                    .map(EntryPath)
                    .ok_or_else(|| de::Error::missing_field("bytes"))
            }
        }
        d.deserialize_any(V)
    }
}

/// Fixed-size bytes written as lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hex<const N: usize>(pub [u8; N]);

impl<const N: usize> fmt::Debug for Hex<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl<const N: usize> Serialize for Hex<N> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de, const N: usize> Deserialize<'de> for Hex<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let mut out = [0u8; N];
        hex::decode_to_slice(s.as_bytes(), &mut out)
            .map_err(|_| de::Error::custom(format!("expected {} hex digits, got `{s}`", 2 * N)))?;
        Ok(Hex(out))
    }
}

/// The salt: 16 random bytes made once, at `create`, and kept by `update`.
#[derive(Clone, PartialEq, Eq)]
pub struct Salt(pub Vec<u8>);

impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Salt({})", hex::encode(&self.0))
    }
}

impl Serialize for Salt {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Salt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let raw = hex::decode(s.as_bytes()).map_err(|_| de::Error::custom("salt must be hex"))?;
        // Fewer than 8 bytes would let a table built for one short salt cover
        // many baselines.
        if raw.len() < 8 {
            return Err(de::Error::custom("salt must be at least 16 hex digits"));
        }
        Ok(Salt(raw))
    }
}

impl Salt {
    /// 16 bytes from the operating system's random source; where there is
    /// none (not Unix), a hash of the time, the process id and an address.
    pub fn generate() -> Salt {
        use std::io::Read;
        let mut buf = [0u8; 16];
        let from_os = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut buf))
            .is_ok();
        if !from_os {
            let mut h = Sha256::new();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            h.update(now.as_nanos().to_le_bytes());
            h.update(std::process::id().to_le_bytes());
            let local = 0u8;
            h.update((std::ptr::addr_of!(local) as usize).to_le_bytes());
            h.update(format!("{:?}", std::thread::current().id()).as_bytes());
            buf.copy_from_slice(&h.finalize()[..16]);
        }
        Salt(buf.to_vec())
    }
}

/// HMAC-SHA256 keyed by the baseline's salt, with the inner and outer states
/// precomputed so hashing a secret costs two short SHA-256 runs.
#[derive(Clone)]
pub struct Key {
    inner: Sha256,
    outer: Sha256,
}

impl Key {
    pub fn new(salt: &Salt) -> Key {
        const BLOCK: usize = 64;
        let mut k = [0u8; BLOCK];
        if salt.0.len() > BLOCK {
            k[..32].copy_from_slice(&Sha256::digest(&salt.0));
        } else {
            k[..salt.0.len()].copy_from_slice(&salt.0);
        }
        let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        Key {
            inner: Sha256::new_with_prefix(ipad),
            outer: Sha256::new_with_prefix(opad),
        }
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut i = self.inner.clone();
        for p in parts {
            i.update(p);
        }
        let mut o = self.outer.clone();
        o.update(i.finalize());
        o.finalize().into()
    }

    /// The entry hash of a secret. The rule is not part of it: it is matched
    /// from the entry's `rule` field, which may be a glob.
    pub fn hash(&self, secret: &[u8]) -> Hex<32> {
        Hex(self.mac(&[CONTEXT, secret]))
    }
}

/// The unsalted SHA-1 of a secret, as detect-secrets stores it (`hashed_secret`).
pub fn sha1(secret: &[u8]) -> Hex<20> {
    use sha1::Digest as _;
    Hex(sha1::Sha1::digest(secret).into())
}

/// At most 4 leading characters of a secret, and no more than a quarter of
/// it, so a short password is not half given away.
pub fn preview(secret: &[u8]) -> String {
    let text = String::from_utf8_lossy(secret);
    let n = text.chars().count();
    let keep = (n / 4).min(4);
    text.chars()
        .take(keep)
        .flat_map(char::escape_default)
        .collect()
}

/// One accepted finding, or an imported suppression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub path: EntryPath,
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<Hex<32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha1: Option<Hex<20>>,
    /// Where the secret was when the entry was recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// When the entry was recorded or last triaged (YYYY-MM-DD, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// The same fields, read without checks; `Entry::try_from` checks them so the
/// error carries serde_json's line and column.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    path: EntryPath,
    rule: String,
    #[serde(default)]
    hash: Option<Hex<32>>,
    #[serde(default)]
    sha1: Option<Hex<20>>,
    #[serde(default)]
    line: Option<u64>,
    #[serde(default)]
    preview: Option<String>,
    #[serde(default)]
    length: Option<u64>,
    status: Status,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    date: Option<String>,
}

impl TryFrom<RawEntry> for Entry {
    type Error = String;

    fn try_from(r: RawEntry) -> std::result::Result<Entry, String> {
        if r.hash.is_some() == r.sha1.is_some() {
            return Err("an entry needs exactly one of `hash` and `sha1`".into());
        }
        if r.rule.is_empty() {
            return Err("empty `rule`".into());
        }
        if let Some(g) = EntryPath(r.path.0.clone()).glob() {
            globset::Glob::new(g).map_err(|e| format!("path glob `{g}`: {e}"))?;
        }
        if is_glob(&r.rule) {
            globset::Glob::new(&r.rule).map_err(|e| format!("rule glob `{}`: {e}", r.rule))?;
        }
        Ok(Entry {
            path: r.path,
            rule: r.rule,
            hash: r.hash,
            sha1: r.sha1,
            line: r.line,
            preview: r.preview,
            length: r.length,
            status: r.status,
            reason: r.reason,
            by: r.by,
            date: r.date,
        })
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Entry::try_from(RawEntry::deserialize(d)?).map_err(de::Error::custom)
    }
}

/// Whether a rule field is a glob rather than an id.
pub fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

impl Entry {
    /// The order entries are written in: path, rule, then hash.
    pub fn sort_key(&self) -> (&[u8], &str, [u8; 32]) {
        let mut h = [0u8; 32];
        match (&self.hash, &self.sha1) {
            (Some(x), _) => h = x.0,
            (None, Some(x)) => h[..20].copy_from_slice(&x.0),
            (None, None) => {}
        }
        (&self.path.0, &self.rule, h)
    }

    /// `path:line  rule  preview…(length)` for messages; never the secret.
    pub fn describe(&self) -> String {
        let mut s = self.path.display().into_owned();
        if let Some(l) = self.line {
            s += &format!(":{l}");
        }
        s += &format!("  {}", self.rule);
        match (&self.preview, self.length) {
            (Some(p), Some(n)) => s += &format!("  {p}…({n})"),
            (None, Some(n)) => s += &format!("  …({n})"),
            _ if self.sha1.is_some() => s += "  (imported sha1)",
            _ => {}
        }
        s
    }
}

/// The history a baseline was recorded from (`baseline create --history`):
/// `{"all": true}` for every ref, `{"revs": [...]}` for some, `{}` for HEAD.
/// A baseline without it was recorded from the working tree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryScope {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revs: Vec<String>,
}

impl HistoryScope {
    /// Whether a history scan of `self` sees every commit a scan of `other`
    /// sees: `--all` covers everything; otherwise the same revisions.
    pub fn covers(&self, other: &HistoryScope) -> bool {
        self.all || (!other.all && self.revs_sorted() == other.revs_sorted())
    }

    fn revs_sorted(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.revs.iter().map(String::as_str).collect();
        if v.is_empty() {
            v.push("HEAD");
        }
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The flags that select this history: ` --history --all`, ` --history main`.
    pub fn flags(&self) -> String {
        let mut s = String::from(" --history");
        if self.all {
            s += " --all";
        }
        for r in &self.revs {
            s += " ";
            s += r;
        }
        s
    }
}

/// What a run scanned, compared with what a baseline was recorded from:
/// staleness means something only when the run covers the baseline's scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunScope {
    /// The whole working tree under the scanned root.
    Worktree,
    /// Whole histories (no ranges, exclusions or dates).
    History(HistoryScope),
    /// Part of something (a range, some files, the staged change).
    Partial,
}

impl RunScope {
    /// Whether this run sees everything a baseline recorded under `recorded`
    /// (`None`: the working tree) could match.
    pub fn covers(&self, recorded: Option<&HistoryScope>) -> bool {
        match (self, recorded) {
            (RunScope::Worktree, None) => true,
            (RunScope::History(run), Some(rec)) => run.covers(rec),
            _ => false,
        }
    }
}

/// A whole baseline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u64,
    pub salt: Salt,
    /// Recorded from history rather than the working tree; the widest
    /// history `create` and `update` have scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryScope>,
    #[serde(default)]
    pub entries: Vec<Entry>,
}

/// Just enough to read the version of a file we cannot otherwise parse.
#[derive(Deserialize)]
struct Head {
    version: serde_json::Value,
}

impl Baseline {
    /// An empty baseline with a fresh salt.
    pub fn new() -> Baseline {
        Baseline {
            version: VERSION,
            salt: Salt::generate(),
            history: None,
            entries: Vec::new(),
        }
    }

    pub fn key(&self) -> Key {
        Key::new(&self.salt)
    }

    /// Parses a baseline. `name` is the file (or `REV:path`) for messages.
    pub fn parse(bytes: &[u8], name: &Path) -> Result<Baseline> {
        match serde_json::from_slice::<Baseline>(bytes) {
            Ok(b) => {
                check_version(&serde_json::Value::from(b.version), name)?;
                Ok(b)
            }
            Err(e) => {
                // A newer file may not parse because of fields we don't know;
                // say that rather than pointing at the field.
                if let Ok(h) = serde_json::from_slice::<Head>(bytes) {
                    check_version(&h.version, name)?;
                }
                Err(Error::Config {
                    path: name.to_path_buf(),
                    line: e.line(),
                    col: e.column(),
                    msg: format!("invalid baseline: {}", strip_position(&e.to_string())),
                })
            }
        }
    }

    /// Reads and parses the baseline at `path`.
    pub fn read(path: &Path) -> Result<Baseline> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Baseline::parse(&bytes, path)
    }

    /// Sorts entries and drops exact duplicates (same path, rule and hash; the
    /// first, which carries the earlier triage, wins).
    pub fn normalize(&mut self) {
        self.entries.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.entries.dedup_by(|b, a| a.sort_key() == b.sort_key());
    }

    /// The file's bytes: sorted entries, two-space indentation, fixed key
    /// order, trailing newline. The same content always gives the same bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut sorted = self.clone();
        sorted.normalize();
        let mut out = serde_json::to_vec_pretty(&sorted).expect("a baseline always serializes");
        out.push(b'\n');
        out
    }

    /// Writes the file atomically (temporary file, then rename), so an
    /// interrupted run never leaves half a baseline.
    pub fn write(&self, path: &Path) -> Result<()> {
        let bytes = self.to_bytes();
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| DEFAULT_FILE.into());
        let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
        std::fs::write(&tmp, &bytes).map_err(|e| Error::io(&tmp, e))?;
        // The new file keeps the old one's mode: a team that made its
        // baseline 0600 keeps it so.
        if let Ok(meta) = std::fs::metadata(path) {
            if let Err(e) = std::fs::set_permissions(&tmp, meta.permissions()) {
                let _ = std::fs::remove_file(&tmp);
                return Err(Error::io(&tmp, e));
            }
        }
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io(path, e)
        })
    }
}

/// `FILE.lock` beside a baseline, held while a command reads, changes and
/// writes it, so `update` and `audit` running at once cannot lose each
/// other's changes. Created exclusively; removed when dropped.
#[derive(Debug)]
pub struct FileLock {
    path: PathBuf,
}

impl FileLock {
    pub fn acquire(file: &Path) -> Result<FileLock> {
        let mut name = file.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                use std::io::Write;
                let _ = writeln!(f, "{}", std::process::id());
                if let Ok(mut held) = HELD.lock() {
                    held.push(path.clone());
                }
                Ok(FileLock { path })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = std::fs::read_to_string(&path)
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .map(|pid| format!(" (process {pid})"))
                    .unwrap_or_default();
                Err(Error::Baseline {
                    path: file.to_path_buf(),
                    msg: format!(
                        "in use by another leakscan{holder}: {} exists; try again when it \
                         has finished, or remove that file if no leakscan is running",
                        path.display()
                    ),
                })
            }
            Err(e) => Err(Error::io(&path, e)),
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        if let Ok(mut held) = HELD.lock() {
            held.retain(|p| p != &self.path);
        }
    }
}

/// Lock files this process holds, so an exit from a signal handler can
/// remove them (`FileLock::release_all`).
static HELD: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

impl FileLock {
    /// Removes every lock file this process holds; for a process about to
    /// exit without unwinding (a second Ctrl-C).
    pub fn release_all() {
        if let Ok(held) = HELD.lock() {
            for p in held.iter() {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

impl Default for Baseline {
    fn default() -> Self {
        Baseline::new()
    }
}

fn check_version(v: &serde_json::Value, name: &Path) -> Result<()> {
    match v.as_u64() {
        Some(VERSION) => Ok(()),
        Some(n) if n > VERSION => Err(Error::Baseline {
            path: name.to_path_buf(),
            msg: format!(
                "baseline version {n} is newer than this leakscan supports ({VERSION}); upgrade leakscan"
            ),
        }),
        _ => Err(Error::Baseline {
            path: name.to_path_buf(),
            msg: format!("unsupported baseline version {v} (this leakscan reads version {VERSION})"),
        }),
    }
}

/// serde_json appends " at line L column C"; we print those in front.
fn strip_position(msg: &str) -> &str {
    match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    }
}

/// Today's date (UTC) as YYYY-MM-DD, or the date of `SOURCE_DATE_EPOCH` when
/// set, for reproducible files.
pub fn today() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let key = Key::new(&Salt(b"Jefe".to_vec()));
        let mac = key.mac(&[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn preview_keeps_at_most_a_quarter() {
        assert_eq!(preview(b"abcdefghijklmnopqrstuvwxyz0123456789ABCD"), "abcd");
        assert_eq!(preview(b"hunter22"), "hu");
        assert_eq!(preview(b"abc"), "");
    }

    #[test]
    fn literal_paths_with_glob_characters_match_only_themselves() {
        let p = EntryPath::literal(b"a/we*rd?[x]{y}.txt");
        let g = globset::Glob::new(p.glob().unwrap())
            .unwrap()
            .compile_matcher();
        assert!(g.is_match("a/we*rd?[x]{y}.txt"));
        assert!(!g.is_match("a/weXXrdZ[x]{y}.txt"));
        assert_eq!(EntryPath::literal(b"app/[id]/page.tsx").glob(), None);
    }

    #[test]
    fn version_errors() {
        let e = Baseline::parse(
            br#"{"version": 2, "salt": "00", "future": []}"#,
            Path::new("b.json"),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "b.json: baseline version 2 is newer than this leakscan supports (1); upgrade leakscan"
        );
        let e = Baseline::parse(
            b"{\n  \"version\": 1,\n  \"salt\": 7\n}",
            Path::new("b.json"),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("b.json:3:"), "{e}");
    }
}
