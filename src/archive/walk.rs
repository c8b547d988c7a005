//! The walk through one archive and the archives inside it: the shared
//! budget (entries, decompressed bytes, ratio), depth, the chain of names,
//! the image layer, and what could not be read.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

use super::detect::{self, Kind};
use super::{image, stream, tar, zip, Entry, Failure, Limits, Report, RATIO_FLOOR};
use crate::paths::PathBytes;

/// The name of an image config's strings inside its blob.
const CONFIG: &[u8] = b"(config)";

/// Which limit stopped a walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Entries,
    Bytes,
    Ratio,
}

/// The limits of one outermost archive, shared by the readers inside it.
pub struct Budget {
    limits: Limits,
    /// The outermost archive's size (for the ratio).
    top: u64,
    bytes: Cell<u64>,
    hit: Cell<Option<Limit>>,
}

impl Budget {
    /// Counts `n` more decompressed bytes; the limit they break, if any.
    fn charge(&self, n: u64) -> Result<(), Limit> {
        let total = self.bytes.get() + n;
        self.bytes.set(total);
        let limit = if total > self.limits.max_bytes {
            Some(Limit::Bytes)
        } else if total > RATIO_FLOOR && total / self.top.max(1) > self.limits.max_ratio {
            Some(Limit::Ratio)
        } else {
            None
        };
        match limit {
            Some(l) => {
                self.hit.set(Some(l));
                Err(l)
            }
            None => Ok(()),
        }
    }
}

/// A decompressing reader whose output is charged to the budget.
pub struct Metered<R> {
    inner: R,
    budget: Rc<Budget>,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.budget.hit.get().is_some() {
            return Err(io::Error::other("archive limit reached"));
        }
        let n = self.inner.read(buf)?;
        self.budget
            .charge(n as u64)
            .map_err(|_| io::Error::other("archive limit reached"))?;
        Ok(n)
    }
}

pub struct Walk<'v> {
    budget: Rc<Budget>,
    entries: u64,
    depth: u32,
    chain: Vec<PathBytes>,
    layer: Option<String>,
    visit: &'v mut dyn FnMut(Entry<'_>),
    report: Report,
    /// A limit on the whole archive was reached: read nothing more.
    stopped: bool,
}

impl<'v> Walk<'v> {
    pub fn run(
        bytes: &[u8],
        kind: Kind,
        name: &[u8],
        limits: &Limits,
        visit: &'v mut dyn FnMut(Entry<'_>),
    ) -> Report {
        let mut w = Walk {
            budget: Rc::new(Budget {
                limits: limits.clone(),
                top: bytes.len() as u64,
                bytes: Cell::new(0),
                hit: Cell::new(None),
            }),
            entries: 0,
            depth: 1,
            chain: Vec::new(),
            // A layer blob of an OCI layout directory, met in a walk.
            layer: (kind != Kind::ImageConfig)
                .then(|| image::layer_of(name))
                .flatten(),
            visit,
            report: Report::default(),
            stopped: false,
        };
        w.container(kind, bytes, name);
        w.report
    }

    pub fn limits(&self) -> &Limits {
        &self.budget.limits
    }

    pub fn metered<R: Read>(&self, inner: R) -> Metered<R> {
        Metered {
            inner,
            budget: self.budget.clone(),
        }
    }

    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// Opens a container held in memory.
    fn container(&mut self, kind: Kind, data: &[u8], name: &[u8]) {
        let failures = self.report.failures.len();
        let files = self.report.files;
        match kind {
            Kind::Zip => zip::walk(self, data),
            Kind::Tar => tar::walk(self, data),
            Kind::Gzip | Kind::Bzip2 | Kind::Xz | Kind::Zstd => {
                stream::walk(self, kind, data, name)
            }
            Kind::ImageConfig => {
                // Its strings one per line, named `(config)` inside the blob;
                // not JSON after all: its bytes as they are.
                let view = image::config_view(data);
                self.chain.push(PathBytes(CONFIG.to_vec()));
                self.leaf(view.as_deref().unwrap_or(data));
                self.chain.pop();
            }
        }
        // The outermost container failed before giving anything.
        if self.depth == 1 && files == self.report.files && self.report.failures.len() > failures {
            self.report.unopened = true;
        }
    }

    /// One file found in a container: opened when it is an archive itself
    /// (within the depth limit), else handed to the caller.
    pub fn item(&mut self, name: &[u8], data: &[u8]) {
        self.chain.push(PathBytes(name.to_vec()));
        match detect::detect(data, name) {
            Some(kind) if self.depth < self.budget.limits.max_depth => {
                self.depth += 1;
                let outer = self.layer.clone();
                if self.layer.is_none() && kind != Kind::ImageConfig {
                    self.layer = image::layer_of(name);
                }
                self.container(kind, data, name);
                self.layer = outer;
                self.depth -= 1;
            }
            Some(kind) => {
                let max = self.budget.limits.max_depth;
                self.fail(format!(
                    "{} archive nested deeper than the limit ({max}; --archive-max-depth raises it); its bytes scanned as they are",
                    kind.name()
                ));
                self.leaf(data);
            }
            None => self.leaf(data),
        }
        self.chain.pop();
    }

    /// A file inside that is not opened further.
    fn leaf(&mut self, data: &[u8]) {
        self.report.files += 1;
        (self.visit)(Entry {
            chain: &self.chain,
            layer: self.layer.as_deref(),
            data,
        });
    }

    /// Counts one more entry; false (and the walk stopped) past the limit.
    pub fn count_entry(&mut self) -> bool {
        self.entries += 1;
        if self.entries > self.budget.limits.max_entries {
            self.stop(Limit::Entries);
            return false;
        }
        true
    }

    pub fn too_large(&mut self, size: u64) {
        self.report.too_large.0 += 1;
        self.report.too_large.1 += size;
    }

    pub fn link(&mut self) {
        self.report.links += 1;
    }

    /// Records why the current container (or, with `entry`, one of its
    /// entries) could not be read.
    pub fn fail(&mut self, reason: String) {
        self.report.failures.push(Failure {
            chain: self.chain.clone(),
            reason,
        });
    }

    pub fn fail_entry(&mut self, entry: &[u8], reason: String) {
        let mut chain = self.chain.clone();
        chain.push(PathBytes(entry.to_vec()));
        self.report.failures.push(Failure { chain, reason });
    }

    /// A read failed: over a limit (the walk stops), else corrupt data.
    pub fn read_failed(&mut self, entry: Option<&[u8]>, what: &str, e: &dyn std::fmt::Display) {
        if let Some(l) = self.budget.hit.get() {
            self.stop(l);
        } else {
            let reason = format!("corrupt {what}: {e}");
            match entry {
                Some(name) => self.fail_entry(name, reason),
                None => self.fail(reason),
            }
        }
    }

    fn stop(&mut self, l: Limit) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let lim = &self.budget.limits;
        let reason = match l {
            Limit::Entries => format!(
                "more than {} entries (--archive-max-entries raises the limit); the rest not scanned",
                lim.max_entries
            ),
            Limit::Bytes => format!(
                "expands to more than {} bytes (--archive-max-bytes raises the limit); the rest not scanned",
                lim.max_bytes
            ),
            Limit::Ratio => format!(
                "expands more than {}-fold (a compression bomb?; --archive-max-ratio raises the limit); the rest not scanned",
                lim.max_ratio
            ),
        };
        // Reported against the outermost archive: the limits are its.
        self.report.failures.push(Failure {
            chain: Vec::new(),
            reason,
        });
    }
}

/// Reads at most `cap + 1` bytes of `r`: the content, or `None` (with the
/// bytes read so far) when it is larger than `cap`.
pub fn read_capped(r: impl Read, cap: u64, hint: u64) -> io::Result<Result<Vec<u8>, u64>> {
    let mut buf = Vec::with_capacity(hint.min(cap).min(16 << 20) as usize);
    r.take(cap.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > cap {
        return Ok(Err(buf.len() as u64));
    }
    Ok(Ok(buf))
}
