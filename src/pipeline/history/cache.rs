//! What scanning each blob gave, kept by blob id across the repositories
//! of a sweep, so a blob shared by forks is read once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::finding::Finding;
use crate::git::OidMap;
use crate::stats::SkipReason;

/// What scanning a blob gave, by blob id, kept across the repositories of a
/// sweep (forks and mirrors share most blobs): consulted before a blob is
/// read, filled after. Matching does not depend on the path, so findings
/// made under one repository's path apply to every other's (attribution
/// sets the path). Unreadable blobs are not kept: another repository may
/// hold them intact.
#[derive(Default)]
pub struct BlobCache {
    pub(super) map: Mutex<OidMap<Outcome>>,
    /// Blobs taken from the cache instead of being read.
    pub hits: AtomicU64,
}

impl std::fmt::Debug for BlobCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobCache({} hits)", self.hits.load(Ordering::Relaxed))
    }
}

/// A scanned blob's size and findings, or why it was not scanned.
#[derive(Clone)]
pub(super) enum Outcome {
    /// Scanned: size, whether binary, findings.
    Scanned(u64, bool, Arc<[Finding]>),
    Skipped(SkipReason, u64),
}

impl BlobCache {
    /// Distinct blobs held.
    pub fn len(&self) -> usize {
        self.map.lock().map_or(0, |m| m.len())
    }
}
