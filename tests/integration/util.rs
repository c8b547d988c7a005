//! Shared helpers: temporary trees, running the binary, fake tokens built at
//! run time (never committed as literals).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub use tempfile::TempDir;

/// The binary under test.
pub fn leakscan() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_leakscan"));
    c.env("NO_COLOR", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE");
    c
}

/// What a run gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing the output if it differs.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The JSON report on stdout.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The findings array of the JSON report.
    pub fn findings(&self) -> Vec<serde_json::Value> {
        self.json()["findings"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

pub fn run(cmd: &mut Command) -> Run {
    run_with_stdin(cmd, None)
}

pub fn run_with_stdin(cmd: &mut Command, stdin: Option<&[u8]>) -> Run {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn leakscan");
    if let Some(data) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(data).unwrap();
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// A temporary directory with helpers to write files into it.
pub struct Tree {
    pub dir: TempDir,
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            dir: tempfile::Builder::new()
                .prefix("leakscan-test")
                .tempdir()
                .unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `content` to `rel`, creating parent directories.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, content).unwrap();
        p
    }

    /// `leakscan scan <tree> --format json --show-secrets` plus `extra` args, run in the tree.
    pub fn scan_json(&self, extra: &[&str]) -> Run {
        run(leakscan()
            .current_dir(self.path())
            .args(["scan", ".", "--format", "json", "--show-secrets"])
            .args(extra))
    }
}

/// Fake credentials with the right shape, generated at run time from a seed.
pub mod fake {
    use leakscan::rules::template::{expand, Rng};

    /// Expands a rule-example template such as `ghp_{alnum:36}`.
    pub fn token(template: &str, seed: u64) -> String {
        expand(template, &mut Rng::new(seed))
    }

    /// A classic GitHub token whose CRC32 checksum holds (a token whose
    /// checksum fails is reported with medium confidence).
    pub fn github_pat(seed: u64) -> String {
        token("ghp_{alnum:30}{crc32b62}", seed)
    }

    pub fn aws_key_id(seed: u64) -> String {
        token("AKIA{ualnum:16}", seed)
    }

    pub fn aws_secret(seed: u64) -> String {
        token("{b64:40}", seed)
    }

    pub fn slack_bot(seed: u64) -> String {
        token("xoxb-{digit:11}-{digit:13}-{alnum:24}", seed)
    }

    pub fn stripe_live(seed: u64) -> String {
        token("sk_live_{alnum:24}", seed)
    }

    pub fn password(seed: u64) -> String {
        token("Pw{alnum:14}", seed)
    }
}
