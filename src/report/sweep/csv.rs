//! The sweep report as CSV: one row per secret and repository.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{Report, Status};

impl Report {
    /// One row per secret and repository.
    pub fn write_csv(&self, out: &mut dyn Write) -> io::Result<()> {
        self.write_csv_rows(out).map_err(|e| {
            if !e.is_io_error() {
                return io::Error::other(e);
            }
            // The writer's own error as it was (a closed pipe stays a
            // BrokenPipe, which the caller treats as a normal end).
            match e.into_kind() {
                csv::ErrorKind::Io(e) => e,
                kind => io::Error::other(format!("{kind:?}")),
            }
        })
    }

    fn write_csv_rows(&self, out: &mut dyn Write) -> csv::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let mut header = vec![
            "key", "rule", "secret", "repo", "at_head", "commit", "author", "email", "date",
            "path", "line", "commits", "repos", "status",
        ];
        // With --verify: the verdict, when it was checked, and the identity
        // the provider named (never the secret or the answer).
        if self.verified {
            header.extend(["verification", "checked_at", "identity"]);
        }
        w.write_record(&header)?;
        // Each row says whether its repository was read completely: a
        // failed or interrupted one's rows are what was found before it
        // stopped.
        let status: BTreeMap<&str, Status> = self
            .repos
            .iter()
            .map(|r| (r.repo.as_str(), r.status))
            .collect();
        for r in &self.rows {
            let secret = self.secret_text(r);
            let n = r.repos.len().to_string();
            let verdict = self.verification.get(&r.key);
            let verdict_cols = [
                verdict.map_or("", |v| v.status.as_str()).to_string(),
                verdict
                    .and_then(|v| v.checked_at.clone())
                    .unwrap_or_default(),
                verdict
                    .map(|v| {
                        v.identity
                            .iter()
                            .map(|(k, x)| format!("{k}={x}"))
                            .collect::<Vec<_>>()
                            .join(";")
                    })
                    .unwrap_or_default(),
            ];
            let extra: &[String] = if self.verified { &verdict_cols } else { &[] };
            for x in &r.repos {
                let base = [
                    r.key.as_str(),
                    &r.rule,
                    &secret,
                    &x.repo,
                    if x.at_head { "true" } else { "false" },
                    &x.first.commit,
                    &x.first.author,
                    &x.first.email,
                    &x.first.date,
                    &x.first.path,
                    &x.first.line.to_string(),
                    &x.commits.to_string(),
                    &n,
                    status.get(x.repo.as_str()).map_or("ok", |s| s.as_str()),
                ];
                w.write_record(base.iter().copied().chain(extra.iter().map(String::as_str)))?;
            }
        }
        w.flush()?;
        Ok(())
    }
}
