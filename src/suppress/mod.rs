//! Suppression: decides which findings are reported as new and records why
//! the others are not. Order: public-by-design formats (`public = true`
//! rules), findings below `--min-confidence`, the user's allowlists (paths,
//! secret regexes, stopwords from `.leakscan.toml`), then inline
//! `leakscan:allow` markers, then the baseline.

pub mod baseline;

use crate::finding::Finding;
use crate::rules::{Allowlist, Confidence};
use crate::stats::SuppressReason;

/// The verdict on one finding.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Report,
    Suppressed(SuppressReason, Option<String>),
}

/// Global allowlist + inline markers + (optionally) a baseline.
pub struct Suppressor {
    pub allowlist: Allowlist,
    pub baseline: Option<baseline::Lookup>,
    /// Findings below this confidence are not reported (`--min-confidence`).
    pub min_confidence: Option<Confidence>,
}

impl Suppressor {
    pub fn new(allowlist: Allowlist, baseline: Option<baseline::Lookup>) -> Self {
        Suppressor {
            allowlist,
            baseline,
            min_confidence: None,
        }
    }

    pub fn judge(&self, f: &Finding) -> Verdict {
        if f.public {
            return Verdict::Suppressed(SuppressReason::PublicByDesign, None);
        }
        if self.min_confidence.is_some_and(|min| f.confidence < min) {
            return Verdict::Suppressed(SuppressReason::BelowMinConfidence, None);
        }
        // Inside an archive, a path pattern may name the archive or a file in it.
        let in_archive =
            f.archive.is_some() && self.allowlist.allows_path(&f.location().as_str_lossy());
        if in_archive
            || self.allowlist.allows_path(&f.path.as_str_lossy())
            || self.allowlist.allows_secret(f.secret.expose())
        {
            return Verdict::Suppressed(SuppressReason::Allowlist, None);
        }
        if f.inline.allows(&f.rule) {
            return Verdict::Suppressed(SuppressReason::Inline, None);
        }
        if let Some(b) = &self.baseline {
            if let Some(status) = b.judge(f) {
                return Verdict::Suppressed(SuppressReason::Baseline, Some(status));
            }
        }
        Verdict::Report
    }
}
