//! `--state DIR`: one result file per repository (`repos/<hash>.json`),
//! written atomically (a temporary file, synced, then renamed), recording
//! what the scan covered (ref tips) and under what (leakscan version, rule
//! digest, key id). A rerun reuses a result whose tips and settings match;
//! a killed sweep loses at most the repositories in flight. `outside.json`
//! keeps the files found outside any repository, so the report can be
//! rebuilt from the directory alone (`sweep merge DIR`). Never a plaintext
//! secret, even under `--show-secrets`.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::report::sweep::{Meta, Outside, RepoResult, Status};

/// Result files larger than this are refused (a corrupt or foreign file).
const MAX_ENTRY: u64 = 256 << 20;

/// One repository's result file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub meta: Meta,
    /// Whether the scan kept plaintext secrets (`--show-secrets`).
    pub show_secrets: bool,
    /// Where the repository was (for people reading the file).
    pub path: String,
    /// `(ref name, target)` of HEAD and every ref, sorted.
    pub tips: Vec<(String, String)>,
    pub result: RepoResult,
}

impl Entry {
    /// Whether this result answers a scan under `meta` of a repository
    /// whose refs are now `tips`.
    pub fn reusable(&self, meta: &Meta, tips: &[(String, String)], show_secrets: bool) -> bool {
        self.meta == *meta
            && self.tips == tips
            && self.result.status == Status::Ok
            && (self.show_secrets || !show_secrets)
    }
}

pub struct State {
    dir: PathBuf,
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map_or("x".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".tmp-{name}-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

impl State {
    /// Opens (creating) the state directory.
    pub fn open(dir: &Path) -> Result<State> {
        std::fs::create_dir_all(dir.join("repos")).map_err(|e| Error::io(dir, e))?;
        Ok(State {
            dir: dir.to_path_buf(),
        })
    }

    /// An existing state directory, for `merge`.
    pub fn existing(dir: &Path) -> Result<State> {
        if !dir.join("repos").is_dir() {
            return Err(Error::Usage(format!(
                "{}: not a sweep state directory (no repos/ inside)",
                dir.display()
            )));
        }
        Ok(State {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, repo: &str) -> PathBuf {
        let h = Sha256::digest(repo.as_bytes());
        self.dir
            .join("repos")
            .join(format!("{}.json", hex::encode(&h[..16])))
    }

    fn read(path: &Path) -> Result<Entry> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.len() > MAX_ENTRY {
            return Err(Error::Usage(format!(
                "{}: larger than {MAX_ENTRY} bytes; not a sweep result",
                path.display()
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::Usage(format!("{}: not a sweep result: {e}", path.display())))
    }

    /// The saved result for `repo`, if there is a readable one.
    pub fn load(&self, repo: &str) -> Option<Entry> {
        Self::read(&self.file(repo))
            .ok()
            .filter(|e| e.result.repo == repo)
    }

    /// Saves `entry` without any plaintext secret: state holds the HMAC
    /// keys and redacted forms only, so a `--show-secrets` sweep's state is
    /// no more sensitive than any other (its plaintext goes only to the
    /// final report, created 0600). A rerun asking for plaintext rescans.
    pub fn save(&self, entry: &Entry) -> Result<()> {
        let mut entry = entry.clone();
        entry.show_secrets = false;
        for h in &mut entry.result.secrets {
            h.plaintext = None;
        }
        let bytes = serde_json::to_vec(&entry).map_err(|e| Error::Usage(e.to_string()))?;
        write_atomic(&self.file(&entry.result.repo), &bytes)
    }

    pub fn save_outside(&self, outside: &Outside) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(outside).map_err(|e| Error::Usage(e.to_string()))?;
        write_atomic(&self.dir.join("outside.json"), &bytes)
    }

    /// What under the roots could not be examined (name, why): failures
    /// `sweep merge` of this state names.
    pub fn save_unlisted(&self, unlisted: &[(String, String)]) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(unlisted).map_err(|e| Error::Usage(e.to_string()))?;
        write_atomic(&self.dir.join("unlisted.json"), &bytes)
    }

    pub fn load_unlisted(&self) -> Result<Vec<(String, String)>> {
        let path = self.dir.join("unlisted.json");
        match std::fs::read_to_string(&path) {
            Ok(t) => serde_json::from_str(&t)
                .map_err(|e| Error::Usage(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    pub fn load_outside(&self) -> Outside {
        std::fs::read_to_string(self.dir.join("outside.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Every result in the directory (temporary files of killed runs are
    /// ignored), sorted by repository.
    pub fn all(&self) -> Result<Vec<Entry>> {
        let dir = self.dir.join("repos");
        let mut out = Vec::new();
        for e in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let e = e.map_err(|e| Error::io(&dir, e))?;
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            out.push(Self::read(&e.path())?);
        }
        out.sort_by(|a, b| a.result.repo.cmp(&b.result.repo));
        Ok(out)
    }
}
