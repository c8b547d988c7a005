//! Reads git's index file (`.git/index`, or `$GIT_INDEX_FILE`) directly, as
//! a stream: the entries (path, mode, blob id, stage, intent-to-add) and the
//! cache-tree extension. Timestamps, stat data and other extensions are
//! skipped.
//!
//! Why not libgit2's reader: it verifies the file's SHA-1 with collision
//! detection, validates every path and fills a hash map of all entries, about
//! 80 ms for a 78k-file index, more than the pre-commit budget; and it does
//! not expose the cache tree, which lets the staged scan skip every directory
//! the change did not touch. Git itself trusts the cache tree when it writes
//! the commit, so using it judges exactly what will be recorded.
//!
//! Why streaming: the cache tree sits after the entries, so `open` reads the
//! file once through one small reused buffer to find the extensions, noting
//! where each entry starts; `for_each` then reads only the entries its caller
//! does not jump over (a directory the cache tree proves unchanged is one
//! jump). Reading an 8 MiB index into fresh memory costs more in page faults
//! than that first pass.
//!
//! Versions 2, 3 and 4 (path prefix compression) with SHA-1 ids are read,
//! and sparse indexes (`sdir`): a sparse directory entry (mode 040000, path
//! ending in `/`) is passed on as it is, a tree the commit records whole.
//! Split indexes (`link`) are reported as `Unsupported`; `split` reads them
//! (in memory, merged with their shared index).

mod split;

pub use split::read_split;

use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::Path;

use super::oid::HashKind;

/// Bytes of a SHA-1 object id, for the unit tests' indexes (the readers
/// take the repository's hash length, 20 or 32).
#[cfg(test)]
const OID_LEN: usize = 20;
/// The header: signature, version, entry count.
const HEADER: usize = 12;
/// Fixed part of an on-disk entry before the path: ctime, mtime, dev, ino,
/// mode, uid, gid, size (10 × 4 bytes), the id (`hash` bytes), and 2 bytes
/// of flags.
const fn entry_fixed(hash: usize) -> usize {
    40 + hash + 2
}
/// The read buffer: far larger than any entry, small enough to be reused
/// from cache on every refill.
const CHUNK: usize = 256 << 10;
/// The first read after a jump: a few entries' worth.
const JUMP_CHUNK: usize = 4 << 10;
/// Version 4: entries between two saved decoding states. A jump lands on the
/// state before its target and decodes at most this many entries to get there.
const CHECKPOINT: usize = 64;

const FLAG_EXTENDED: u16 = 0x4000;
const FLAG_STAGE_MASK: u16 = 0x3000;
const FLAG_NAME_MASK: u16 = 0x0FFF;
const EXT_FLAG_INTENT_TO_ADD: u16 = 0x2000;
/// Intent-to-add and skip-worktree: the extended flags git understands.
const EXT_FLAGS_KNOWN: u16 = 0x6000;

/// One index entry, borrowed from the reader for the duration of a callback.
#[derive(Debug, Clone, Copy)]
pub struct IndexEntryRef<'a> {
    pub path: &'a [u8],
    pub mode: u32,
    /// 20 or 32 bytes: the repository's hash.
    pub id: &'a [u8],
    /// 0 for a normal entry; 1–3 for the sides of an unresolved conflict.
    pub stage: u8,
    /// `git add -N`: listed, but not part of the next commit.
    pub intent_to_add: bool,
}

/// An owned entry (the libgit2 fallback keeps these in memory).
#[derive(Debug, Clone)]
pub struct IndexEntry {
    pub path: Vec<u8>,
    pub mode: u32,
    /// 20 or 32 bytes: the repository's hash.
    pub id: super::oid::ObjectId,
    pub stage: u8,
    pub intent_to_add: bool,
}

impl IndexEntry {
    fn as_ref(&self) -> IndexEntryRef<'_> {
        IndexEntryRef {
            path: &self.path,
            mode: self.mode,
            id: self.id.as_bytes(),
            stage: self.stage,
            intent_to_add: self.intent_to_add,
        }
    }
}

/// One cache-tree node: a directory of the index and, when still valid, the
/// id of the tree object it would be written as. Offsets point into
/// `CacheTree::data`; 20 bytes a node, as a big repository has thousands.
#[derive(Debug, Clone)]
struct TreeNode {
    name: u32,
    name_len: u32,
    /// Where the id is, or `INVALID` when an update below this directory
    /// invalidated it.
    id: u32,
    /// Index entries under this directory (meaningful when valid).
    entries: u32,
    /// The node just past this node's subtree (nodes are in pre-order).
    end: u32,
}

const INVALID: u32 = u32::MAX;

/// The index's cache tree; node 0 is the root.
#[derive(Debug, Clone, Default)]
pub struct CacheTree {
    /// The TREE extension's bytes.
    data: Vec<u8>,
    /// Bytes of an id.
    hash: usize,
    nodes: Vec<TreeNode>,
}

impl CacheTree {
    pub fn root(&self) -> Option<usize> {
        (!self.nodes.is_empty()).then_some(0)
    }

    /// The tree id of node `i`, if the node is still valid.
    pub fn id(&self, i: usize) -> Option<&[u8]> {
        let at = self.nodes[i].id;
        (at != INVALID).then(|| &self.data[at as usize..at as usize + self.hash])
    }

    /// How many index entries node `i` covers (meaningful when valid).
    pub fn entries(&self, i: usize) -> usize {
        self.nodes[i].entries as usize
    }

    fn name(&self, i: usize) -> &[u8] {
        let n = &self.nodes[i];
        &self.data[n.name as usize..(n.name + n.name_len) as usize]
    }

    /// The child directory `name` of node `i`, if the cache tree lists it.
    pub fn child(&self, i: usize, name: &[u8]) -> Option<usize> {
        let mut c = i + 1;
        while c < self.nodes[i].end as usize {
            if self.name(c) == name {
                return Some(c);
            }
            c = self.nodes[c].end as usize;
        }
        None
    }
}

/// Why an index could not be read here.
#[derive(Debug)]
pub enum IndexError {
    /// A valid index using a feature this reader does not handle.
    Unsupported(String),
    /// Not an index, damaged, or unreadable.
    Corrupt(String),
}

/// What a `for_each` visitor wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Next,
    /// Continue with the entry at this position, skipping those before it
    /// (a hint: readers that cannot jump deliver every entry).
    JumpTo(usize),
}

/// The entries of an index: streamed from the file, or held in memory.
pub enum Entries {
    File(IndexFile),
    Memory(Vec<IndexEntry>),
}

impl Entries {
    /// The cache tree, if the index has one.
    pub fn tree(&self) -> Option<&CacheTree> {
        match self {
            Entries::File(f) => f.tree.as_ref(),
            Entries::Memory(_) => None,
        }
    }

    /// Calls `visit` with each entry's position and the entry, in index order
    /// (by path, then stage).
    pub fn for_each<E>(
        &self,
        mut visit: impl FnMut(usize, IndexEntryRef<'_>) -> Result<Step, E>,
    ) -> Result<(), E>
    where
        E: From<IndexError>,
    {
        match self {
            Entries::File(f) => f.for_each(visit),
            Entries::Memory(v) => {
                for (i, e) in v.iter().enumerate() {
                    visit(i, e.as_ref())?;
                }
                Ok(())
            }
        }
    }
}

/// What `IndexFile::entries` calls with each entry's position and the entry.
type Visitor<'v> = dyn FnMut(usize, IndexEntryRef<'_>) -> Result<Step, IndexError> + 'v;

/// Saved version 4 decoding states: (entry offset, path before it) every
/// `CHECKPOINT` entries.
#[derive(Debug, Default)]
struct Checkpoints {
    at: Vec<(u64, Range<usize>)>,
    paths: Vec<u8>,
}

/// An index file whose extensions have been read; `for_each` streams its entries.
pub struct IndexFile {
    file: File,
    /// Bytes of an id: 20 (SHA-1) or 32 (SHA-256), as the repository says.
    hash: usize,
    version: u32,
    count: usize,
    /// Where each entry starts (versions 2 and 3).
    offsets: Vec<u32>,
    /// Version 4, whose paths are relative to the previous entry's: every
    /// `CHECKPOINT`th entry's offset and the path before it.
    checkpoints: Checkpoints,
    /// Where the extensions start (just past the last entry).
    entries_end: u64,
    tree: Option<CacheTree>,
    /// Whether visited entries are checked against git's order (see
    /// `Order`): not for a split index's own entries, whose replacements
    /// have no name (`split` checks the merged result).
    ordered: bool,
}

impl IndexFile {
    /// Opens `path`, an index of a repository whose ids are `kind`, and reads
    /// up to its extensions. `Ok(None)` if there is no index yet (nothing has
    /// been staged).
    pub fn open(path: &Path, kind: HashKind) -> Result<Option<IndexFile>, IndexError> {
        let hash = kind.len();
        let io = |e: io::Error| IndexError::Corrupt(format!("{}: {e}", path.display()));
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let len = file.metadata().map_err(io)?.len();
        let mut s = Stream::new(&file, 0, len);
        if !s.fill(HEADER + hash).map_err(io)? || s.at(0, 4) != b"DIRC" {
            return Err(corrupt("not a git index file"));
        }
        let version = be32(s.at(4, 4));
        let count = be32(s.at(8, 4)) as usize;
        if !(2..=4).contains(&version) {
            return Err(IndexError::Unsupported(format!("index version {version}")));
        }
        s.consume(HEADER);
        let mut ix = IndexFile {
            file: file.try_clone().map_err(io)?,
            hash,
            version,
            count,
            offsets: Vec::new(),
            checkpoints: Checkpoints::default(),
            entries_end: 0,
            tree: None,
            ordered: true,
        };
        if version == 4 {
            let mut saved = Checkpoints::default();
            ix.entries(&mut s, None, Some(&mut saved))?;
            ix.checkpoints = saved;
        } else if len > u32::MAX as u64 {
            ix.entries(&mut s, None, None)?;
        } else {
            ix.offsets = Vec::with_capacity(count.min(len as usize / entry_fixed(hash)));
            ix.find_offsets(&mut s)?;
        }
        ix.entries_end = s.offset();
        // Extensions run up to the trailing checksum.
        let end = len
            .checked_sub(hash as u64)
            .ok_or_else(|| corrupt("truncated"))?;
        while s.offset() + 8 <= end {
            if !s.fill(8).map_err(io)? {
                return Err(corrupt("truncated extension"));
            }
            let sig: [u8; 4] = s.at(0, 4).try_into().expect("4 bytes");
            let size = be32(s.at(4, 4)) as usize;
            s.consume(8);
            if s.offset() + size as u64 > end {
                return Err(corrupt("truncated extension"));
            }
            match &sig {
                b"TREE" => {
                    if !s.fill(size).map_err(io)? {
                        return Err(corrupt("truncated cache tree"));
                    }
                    ix.tree = Some(
                        parse_tree(s.at(0, size), hash).ok_or_else(|| corrupt("bad cache tree"))?,
                    );
                    s.consume(size);
                }
                // Upper-case signatures are optional extensions a reader may
                // ignore; `sdir` only says the index has sparse directory
                // entries (read as trees by the caller).
                [b'A'..=b'Z', ..] | b"sdir" => s.skip_to(s.offset() + size as u64),
                other => {
                    return Err(IndexError::Unsupported(format!(
                        "index extension `{}` (split or sparse index)",
                        String::from_utf8_lossy(other)
                    )))
                }
            }
        }
        Ok(Some(ix))
    }

    /// Versions 2 and 3: notes where every entry starts, using the path
    /// length in each entry's flags (the hot loop of every run). Order is
    /// checked as entries are visited, not here (see `Order`).
    fn find_offsets(&mut self, s: &mut Stream<'_>) -> Result<(), IndexError> {
        let (hash, fixed) = (self.hash, entry_fixed(self.hash));
        let io = |e: io::Error| IndexError::Corrupt(format!("index: {e}"));
        while self.offsets.len() < self.count {
            // The entries already buffered, with one bounds check each.
            let base = s.offset();
            let b = s.buf();
            let mut at = 0;
            while self.offsets.len() < self.count && at + fixed + 2 <= b.len() {
                let flags = be16(&b[at + 40 + hash..]);
                let named = (flags & FLAG_NAME_MASK) as usize;
                let extended = flags & FLAG_EXTENDED != 0;
                let size = (fixed + 2 * extended as usize + named + 8) & !7;
                if named == FLAG_NAME_MASK as usize || at + size > b.len() {
                    break;
                }
                if extended && self.version < 3 {
                    return Err(corrupt("extended flags in a version 2 index"));
                }
                self.offsets.push((base + at as u64) as u32);
                at += size;
            }
            s.consume(at);
            if self.offsets.len() == self.count {
                break;
            }
            // The next entry is not (fully) buffered, or its path is 4095
            // bytes or longer and only its NUL says where it ends.
            if !s.fill(fixed + 2).map_err(io)? {
                return Err(corrupt("truncated entry"));
            }
            let flags = be16(s.at(40 + hash, 2));
            if flags & FLAG_EXTENDED != 0 && self.version < 3 {
                return Err(corrupt("extended flags in a version 2 index"));
            }
            let name_at = fixed + 2 * (flags & FLAG_EXTENDED != 0) as usize;
            let size = if flags & FLAG_NAME_MASK == FLAG_NAME_MASK {
                let nul = s
                    .find_nul(name_at)
                    .map_err(io)?
                    .ok_or_else(|| corrupt("unterminated path"))?;
                (nul + 8) & !7
            } else {
                (name_at + (flags & FLAG_NAME_MASK) as usize + 8) & !7
            };
            if !s.fill(size).map_err(io)? {
                return Err(corrupt("truncated entry"));
            }
            self.offsets.push(s.offset() as u32);
            s.consume(size);
        }
        Ok(())
    }

    /// Streams the entries from the start, jumping where the visitor asks.
    fn for_each<E>(
        &self,
        mut visit: impl FnMut(usize, IndexEntryRef<'_>) -> Result<Step, E>,
    ) -> Result<(), E>
    where
        E: From<IndexError>,
    {
        let mut s = Stream::new(&self.file, HEADER as u64, self.entries_end);
        let mut err = None;
        self.entries(
            &mut s,
            Some(&mut |i, e| {
                visit(i, e).map_err(|x| {
                    err = Some(x);
                    IndexError::Corrupt(String::new())
                })
            }),
            None,
        )
        .map_err(|e| err.take().unwrap_or_else(|| E::from(e)))
    }

    /// Parses the entries from `s`, passing each to `visit` when given and
    /// jumping where it asks; without one, only finds where they end. Saves
    /// version 4 checkpoints into `save`.
    fn entries(
        &self,
        s: &mut Stream<'_>,
        mut visit: Option<&mut Visitor<'_>>,
        mut save: Option<&mut Checkpoints>,
    ) -> Result<(), IndexError> {
        let io = |e: io::Error| IndexError::Corrupt(format!("index: {e}"));
        let (hash, fixed) = (self.hash, entry_fixed(self.hash));
        // Version 4 paths are rebuilt here from the previous entry's path.
        let rebuild = self.version == 4 && (visit.is_some() || save.is_some());
        let mut path: Vec<u8> = Vec::new();
        // Every visited entry must follow the one visited before it in git's
        // order (see `Order`); entries jumped over are not looked at.
        let mut order = Order::default();
        // Entries before this one are decoded (version 4 after a jump) but not visited.
        let mut quiet_until = 0;
        let mut i = 0;
        while i < self.count {
            if let Some(save) = save.as_mut() {
                if i % CHECKPOINT == 0 {
                    let start = save.paths.len();
                    save.paths.extend_from_slice(&path);
                    save.at.push((s.offset(), start..save.paths.len()));
                }
            }
            if !s.fill(fixed + 2).map_err(io)? {
                return Err(corrupt("truncated entry"));
            }
            let flags = be16(s.at(40 + hash, 2));
            let extended = flags & FLAG_EXTENDED != 0;
            if extended && self.version < 3 {
                return Err(corrupt("extended flags in a version 2 index"));
            }
            let name_at = fixed + if extended { 2 } else { 0 };
            // (start of the path or of its v4 suffix, its length, the entry's size)
            let (name_start, name_len, size) = if self.version == 4 {
                if !s.fill(name_at + 16).map_err(io)? && s.len() <= name_at {
                    return Err(corrupt("truncated entry"));
                }
                let (strip, n) =
                    varint(&s.buf()[name_at..]).ok_or_else(|| corrupt("bad path prefix"))?;
                let nul = s
                    .find_nul(name_at + n)
                    .map_err(io)?
                    .ok_or_else(|| corrupt("unterminated path"))?;
                if rebuild {
                    let keep = path
                        .len()
                        .checked_sub(strip)
                        .ok_or_else(|| corrupt("bad path prefix"))?;
                    path.truncate(keep);
                    path.extend_from_slice(&s.buf()[name_at + n..nul]);
                }
                (name_at + n, nul - (name_at + n), nul + 1)
            } else {
                let named = (flags & FLAG_NAME_MASK) as usize;
                let len = if named < FLAG_NAME_MASK as usize {
                    named
                } else {
                    // 0xFFF: the path is at least that long; find its end.
                    let nul = s
                        .find_nul(name_at)
                        .map_err(io)?
                        .ok_or_else(|| corrupt("unterminated path"))?;
                    nul - name_at
                };
                // Padded with 1 to 8 NULs to a multiple of 8 bytes.
                (name_at, len, (name_at + len + 8) & !7)
            };
            if !s.fill(size).map_err(io)? {
                return Err(corrupt("truncated entry"));
            }
            let mode = be32(s.at(24, 4));
            let mut step = Step::Next;
            if let Some(visit) = visit.as_mut().filter(|_| i >= quiet_until) {
                let b = s.buf();
                let this: &[u8] = if self.version == 4 {
                    &path
                } else {
                    &b[name_start..name_start + name_len]
                };
                if self.ordered {
                    order.check(this, flags, extended.then(|| be16(&b[fixed..])))?;
                }
                let entry = IndexEntryRef {
                    path: this,
                    mode,
                    id: &b[40..40 + self.hash],
                    stage: ((flags & FLAG_STAGE_MASK) >> 12) as u8,
                    intent_to_add: extended && be16(&b[fixed..]) & EXT_FLAG_INTENT_TO_ADD != 0,
                };
                step = visit(i, entry)?;
            }
            s.consume(size);
            i += 1;
            if let Step::JumpTo(j) = step {
                if j > i && j < self.count {
                    if !self.offsets.is_empty() {
                        s.skip_to(self.offsets[j] as u64);
                        i = j;
                    } else if let Some((at, saved)) = self.checkpoints.at.get(j / CHECKPOINT) {
                        // Land on the checkpoint before `j`, then decode up to it.
                        if j / CHECKPOINT * CHECKPOINT > i {
                            s.skip_to(*at);
                            path.clear();
                            path.extend_from_slice(&self.checkpoints.paths[saved.clone()]);
                            i = j / CHECKPOINT * CHECKPOINT;
                        }
                        quiet_until = j;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Git writes entries sorted by path bytes, then stage, each (path, stage)
/// once, and never a merged entry (stage 0) beside conflict stages of the
/// same path. Git does not check this when it reads an index, and `git
/// commit` records entries in file order, so an index breaking it (damaged,
/// or written by hand) could commit what a sorted walk never looks at. Such
/// an index is refused; so are extended flags git does not know (git refuses
/// those too).
///
/// Checked as entries are visited: each visited entry against the one
/// visited before it, so every pass sees a sorted sequence. Entries a walk
/// jumps over are not checked: the staged walk jumps only over a directory
/// whose cache-tree node is valid, and `git commit` does the same, recording
/// that node's tree and skipping the same number of entries without reading
/// them; the entry a jump lands on (the directory's last) is visited and
/// checked. A pass that visits every entry checks them all. This keeps the
/// check off the open pass, which reads every entry of a 70k-entry index.
#[derive(Debug, Default)]
struct Order {
    prev: Vec<u8>,
    prev_stage: u8,
    seen: bool,
}

impl Order {
    fn check(&mut self, path: &[u8], flags: u16, ext: Option<u16>) -> Result<(), IndexError> {
        if ext.is_some_and(|x| x & !EXT_FLAGS_KNOWN != 0) {
            return Err(IndexError::Corrupt(format!(
                "index: unknown entry flags 0x{:04x} at `{}`",
                ext.unwrap_or(0),
                String::from_utf8_lossy(path)
            )));
        }
        let stage = ((flags & FLAG_STAGE_MASK) >> 12) as u8;
        if self.seen {
            if let Some(what) = misordered(&self.prev, self.prev_stage, path, stage) {
                return Err(order_error(what, path, &self.prev));
            }
        }
        self.set(path, stage);
        Ok(())
    }

    /// Records `path` at `stage` as the last entry seen.
    fn set(&mut self, path: &[u8], stage: u8) {
        self.prev.clear();
        self.prev.extend_from_slice(path);
        self.prev_stage = stage;
        self.seen = true;
    }
}

/// What is wrong with entry (`path`, `stage`) following (`prev`,
/// `prev_stage`), if anything.
#[inline]
fn misordered(prev: &[u8], prev_stage: u8, path: &[u8], stage: u8) -> Option<&'static str> {
    match prev.cmp(path) {
        std::cmp::Ordering::Less => None,
        std::cmp::Ordering::Greater => Some("entries out of order"),
        std::cmp::Ordering::Equal if stage == prev_stage => Some("duplicate entry"),
        std::cmp::Ordering::Equal if stage < prev_stage => Some("entries out of order"),
        std::cmp::Ordering::Equal if prev_stage == 0 => {
            Some("a merged entry and conflict stages for the same path")
        }
        std::cmp::Ordering::Equal => None,
    }
}

#[cold]
fn order_error(what: &str, path: &[u8], prev: &[u8]) -> IndexError {
    IndexError::Corrupt(format!(
        "index: {what} at `{}` (after `{}`); git never writes this \
         (`git reset` rewrites the index from HEAD, keeping the work tree)",
        String::from_utf8_lossy(path),
        String::from_utf8_lossy(prev)
    ))
}

fn corrupt(what: &str) -> IndexError {
    IndexError::Corrupt(format!("index: {what}"))
}

/// Sequential reads of `file[start..end]` through one reused buffer.
struct Stream<'f> {
    file: &'f File,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[pos..filled]`.
    pos: usize,
    filled: usize,
    /// File offset of `buf[pos]`.
    offset: u64,
    /// File offset just past the last buffered byte.
    read_to: u64,
    end: u64,
    /// How much the next refill reads.
    chunk: usize,
}

impl<'f> Stream<'f> {
    fn new(file: &'f File, start: u64, end: u64) -> Stream<'f> {
        Stream {
            file,
            buf: Vec::new(),
            pos: 0,
            filled: 0,
            offset: start,
            read_to: start,
            end,
            chunk: CHUNK,
        }
    }

    fn offset(&self) -> u64 {
        self.offset
    }

    fn len(&self) -> usize {
        self.filled - self.pos
    }

    /// The unconsumed bytes.
    fn buf(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }

    fn at(&self, at: usize, n: usize) -> &[u8] {
        &self.buf()[at..at + n]
    }

    fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.len());
        self.pos += n;
        self.offset += n as u64;
    }

    /// Moves forward to file offset `to`, seeking past what is not buffered.
    fn skip_to(&mut self, to: u64) {
        debug_assert!(to >= self.offset);
        let ahead = to - self.offset;
        if ahead <= self.len() as u64 {
            self.consume(ahead as usize);
        } else {
            self.offset = to;
            self.pos = 0;
            self.filled = 0;
            self.read_to = to;
            // After a jump, read little: the next jump may come soon.
            self.chunk = JUMP_CHUNK;
        }
    }

    /// Makes at least `n` unconsumed bytes available; false if the range ends first.
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        if self.len() >= n {
            return Ok(true);
        }
        if self.buf.len() < n.max(self.chunk) {
            self.buf.resize(n.max(self.chunk), 0);
        }
        self.buf.copy_within(self.pos..self.filled, 0);
        self.filled -= self.pos;
        self.pos = 0;
        let target = n.max(self.chunk).min(self.buf.len());
        // Sequential reading earns bigger reads again.
        self.chunk = (self.chunk * 2).min(CHUNK);
        while self.filled < target && self.read_to < self.end {
            let want = (target - self.filled).min((self.end - self.read_to) as usize);
            let got = read_at(
                self.file,
                &mut self.buf[self.filled..self.filled + want],
                self.read_to,
            )?;
            if got == 0 {
                break;
            }
            self.filled += got;
            self.read_to += got as u64;
        }
        Ok(self.filled >= n)
    }

    /// The index (into `buf()`) of the first NUL at or after `from`, reading more as needed.
    fn find_nul(&mut self, from: usize) -> io::Result<Option<usize>> {
        let mut searched = from;
        loop {
            if let Some(i) = memchr::memchr(0, self.buf().get(searched..).unwrap_or(&[])) {
                return Ok(Some(searched + i));
            }
            searched = self.len().max(from);
            if !self.fill(self.len() + 4096)? && self.len() <= searched {
                return Ok(None);
            }
        }
    }
}

/// Reads at an offset in one system call where the platform has one (a walk
/// makes hundreds of small reads, one after each jump).
fn read_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(file, buf, at)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(file, buf, at)
    }
    #[cfg(not(any(unix, windows)))]
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = file;
        f.seek(SeekFrom::Start(at))?;
        f.read(buf)
    }
}

/// Parses the TREE extension: nodes in pre-order, each
/// `name NUL entry_count SP subtree_count LF [id]`, `entry_count` -1 when invalid.
fn parse_tree(data: &[u8], hash: usize) -> Option<CacheTree> {
    if data.len() >= INVALID as usize {
        return None;
    }
    let mut t = CacheTree {
        data: data.to_vec(),
        hash,
        nodes: Vec::new(),
    };
    // (node, children still to read), iteratively so a hostile file cannot overflow the stack.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let nul = memchr::memchr(0, &data[at..])?;
        let name = at;
        at += nul + 1;
        let sp = memchr::memchr(b' ', &data[at..])?;
        let count = decimal(&data[at..at + sp])?;
        at += sp + 1;
        let lf = memchr::memchr(b'\n', &data[at..])?;
        let subtrees = usize::try_from(decimal(&data[at..at + lf])?).ok()?;
        at += lf + 1;
        let id = if count >= 0 {
            data.get(at..at + hash)?;
            at += hash;
            (at - hash) as u32
        } else {
            INVALID
        };
        let me = t.nodes.len();
        t.nodes.push(TreeNode {
            name: name as u32,
            name_len: nul as u32,
            id,
            entries: u32::try_from(count.max(0)).ok()?,
            end: me as u32 + 1,
        });
        match stack.last_mut() {
            Some((_, left)) => *left -= 1,
            None if me != 0 => return None,
            None => {}
        }
        stack.push((me, subtrees));
        while let Some(&(done, 0)) = stack.last() {
            t.nodes[done].end = t.nodes.len() as u32;
            stack.pop();
        }
    }
    stack.is_empty().then_some(t)
}

/// An ASCII decimal, optionally negative (the cache tree's `-1`).
fn decimal(d: &[u8]) -> Option<i64> {
    let (neg, digits) = match d {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, d),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits.iter().fold(0i64, |n, &c| n * 10 + (c - b'0') as i64);
    Some(if neg { -n } else { n })
}

fn be32(d: &[u8]) -> u32 {
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

fn be16(d: &[u8]) -> u16 {
    u16::from_be_bytes([d[0], d[1]])
}

/// Git's offset varint (`decode_varint` in git's varint.c): returns the value
/// and the bytes used.
fn varint(d: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    let mut c = *d.first()?;
    let mut val = (c & 127) as usize;
    while c & 128 != 0 {
        i += 1;
        c = *d.get(i)?;
        val = val.checked_add(1)?.checked_mul(128)? | (c & 127) as usize;
    }
    Some((val, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        assert_eq!(decimal(b"-1"), Some(-1));
        assert_eq!(decimal(b"78635"), Some(78635));
        assert_eq!(decimal(b""), None);
        assert_eq!(decimal(b"1 "), None);
        assert_eq!(decimal(b"-"), None);
    }

    #[test]
    fn varint_matches_git() {
        assert_eq!(varint(&[0x05]), Some((5, 1)));
        // git encodes 128 as 0x80 0x00.
        assert_eq!(varint(&[0x80, 0x00]), Some((128, 2)));
        assert_eq!(varint(&[0x80]), None);
    }

    #[test]
    fn cache_tree_nesting() {
        let mut d = Vec::new();
        d.extend_from_slice(b"\x003 2\n");
        d.extend_from_slice(&[1; OID_LEN]);
        d.extend_from_slice(b"a\x00-1 1\n");
        d.extend_from_slice(b"b\x001 0\n");
        d.extend_from_slice(&[2; OID_LEN]);
        d.extend_from_slice(b"c\x001 0\n");
        d.extend_from_slice(&[3; OID_LEN]);
        let t = parse_tree(&d, OID_LEN).unwrap();
        let a = t.child(0, b"a").unwrap();
        assert_eq!(t.id(a), None);
        let b = t.child(a, b"b").unwrap();
        assert_eq!(t.id(b), Some(&[2; OID_LEN][..]));
        assert_eq!((t.id(0), t.entries(0)), (Some(&[1; OID_LEN][..]), 3));
        assert_eq!(t.id(t.child(0, b"c").unwrap()), Some(&[3; OID_LEN][..]));
        assert!(t.child(0, b"b").is_none());
        // A node claiming more subtrees than follow is damaged.
        assert!(parse_tree(&d[..d.len() - (8 + OID_LEN)], OID_LEN).is_none());
    }

    /// A version-2 index of `paths` (stage 0), in the order given.
    fn v2_index(paths: &[&str]) -> Vec<u8> {
        let mut d = b"DIRC".to_vec();
        d.extend(2u32.to_be_bytes());
        d.extend((paths.len() as u32).to_be_bytes());
        for p in paths {
            let start = d.len();
            d.extend([0u8; 24]);
            d.extend(0o100644u32.to_be_bytes());
            d.extend([0u8; 12]);
            d.extend([7u8; OID_LEN]);
            d.extend((p.len() as u16).to_be_bytes());
            d.extend(p.as_bytes());
            d.resize(start + ((entry_fixed(OID_LEN) + p.len() + 8) & !7), 0);
        }
        d.extend([0u8; OID_LEN]);
        d
    }

    /// Order is checked on the entries a pass visits, each against the one
    /// visited before it: a pass over every entry refuses an entry out of
    /// place, and so does a jump that lands on it; a jump over it (as over a
    /// directory whose valid cache-tree node git commits without reading
    /// its entries) does not read it.
    #[test]
    fn order_is_checked_on_the_entries_a_pass_visits() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("index");
        std::fs::write(&file, v2_index(&["a", "d/x", "$bad", "d/z", "e"])).unwrap();
        let ix = Entries::File(IndexFile::open(&file, HashKind::Sha1).unwrap().unwrap());
        let pass = |jump: Option<(usize, usize)>| {
            let mut seen = Vec::new();
            ix.for_each(|i, e| {
                seen.push(String::from_utf8_lossy(e.path).into_owned());
                Ok::<_, IndexError>(match jump {
                    Some((from, to)) if from == i => Step::JumpTo(to),
                    _ => Step::Next,
                })
            })
            .map(|()| seen)
        };
        match pass(None) {
            Err(IndexError::Corrupt(m)) => assert!(m.contains("out of order"), "{m}"),
            other => panic!("a full pass must refuse: {:?}", other.map(|_| ())),
        }
        assert!(pass(Some((1, 2))).is_err(), "a jump landing on it");
        assert_eq!(pass(Some((1, 3))).unwrap(), ["a", "d/x", "d/z", "e"]);
    }

    /// Writes a version-2 or -4 index by hand and reads it back through a
    /// buffer smaller than the file (about 450 KiB), so entries straddle refills.
    #[test]
    fn streams_versions_2_and_4() {
        let mut paths: Vec<Vec<u8>> = (0..6000)
            .map(|i| format!("dir{}/sub/file-{i:05}.txt", i % 7).into_bytes())
            .collect();
        // Paths of 4095 bytes or more have 0xFFF as their length in the flags.
        paths[3000] = format!("dir3/{}", "long-".repeat(1000)).into_bytes();
        let mut sorted = paths.clone();
        sorted.sort();
        for version in [2u32, 4] {
            let mut d = b"DIRC".to_vec();
            d.extend(version.to_be_bytes());
            d.extend((sorted.len() as u32).to_be_bytes());
            let mut prev: &[u8] = b"";
            for (i, p) in sorted.iter().enumerate() {
                let start = d.len();
                d.extend([0u8; 24]);
                d.extend(0o100644u32.to_be_bytes());
                d.extend([0u8; 12]);
                d.extend([i as u8; OID_LEN]);
                d.extend((p.len().min(0xFFF) as u16).to_be_bytes());
                if version == 4 {
                    let common = prev
                        .iter()
                        .zip(p.iter())
                        .take_while(|(a, b)| a == b)
                        .count();
                    let strip = prev.len() - common;
                    assert!(strip < 128 * 128);
                    if strip >= 128 {
                        // Git's offset varint: 0x80 | (n >> 7) - 1, then n & 127.
                        d.push(0x80 | ((strip >> 7) - 1) as u8);
                    }
                    d.push((strip & 127) as u8);
                    d.extend(&p[common..]);
                    d.push(0);
                } else {
                    d.extend(p);
                    let size = (entry_fixed(OID_LEN) + p.len() + 8) & !7;
                    d.resize(start + size, 0);
                }
                prev = p;
            }
            d.extend(b"TREE");
            let tree = b"\x006000 0\n"
                .iter()
                .copied()
                .chain([9u8; OID_LEN])
                .collect::<Vec<_>>();
            d.extend((tree.len() as u32).to_be_bytes());
            d.extend(&tree);
            d.extend([0u8; OID_LEN]);
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("index");
            std::fs::write(&file, &d).unwrap();
            let ix = IndexFile::open(&file, HashKind::Sha1).unwrap().unwrap();
            assert_eq!(ix.tree.as_ref().unwrap().id(0), Some(&[9; OID_LEN][..]));
            let mut seen = Vec::new();
            ix.for_each(|i, e| {
                assert_eq!(e.id[0], i as u8);
                seen.push(e.path.to_vec());
                Ok::<_, IndexError>(Step::Next)
            })
            .unwrap();
            assert_eq!(seen, sorted, "version {version}");
            // Jumps land on the right entries, with the right paths.
            let mut jumped = Vec::new();
            ix.for_each(|i, e| {
                assert_eq!(e.path, &sorted[i][..], "version {version}, entry {i}");
                jumped.push(i);
                Ok::<_, IndexError>(if i == 10 {
                    Step::JumpTo(5000)
                } else {
                    Step::Next
                })
            })
            .unwrap();
            let want: Vec<usize> = (0..=10).chain(5000..6000).collect();
            assert_eq!(jumped, want, "version {version}");
        }
    }

    /// Indexes written by git in both object formats, versions 2, 3 and 4,
    /// read entry for entry as `git ls-files -s` lists them, and the cache
    /// tree's root is HEAD's tree.
    #[test]
    fn sha1_and_sha256_indexes_as_git_lists_them() {
        let git = |dir: &Path, args: &[&str]| -> String {
            let out = std::process::Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@e", "-C"])
                .arg(dir)
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {out:?}");
            String::from_utf8(out.stdout).unwrap()
        };
        for (format, kind) in [("sha1", HashKind::Sha1), ("sha256", HashKind::Sha256)] {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path();
            git(dir, &["init", "-q", &format!("--object-format={format}")]);
            for (i, name) in ["a", "b/c", "b/d/e", "f g", "z/long-name-of-a-file"]
                .iter()
                .enumerate()
            {
                let p = dir.join(name);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, format!("{i}\n")).unwrap();
            }
            git(dir, &["add", "-A"]);
            git(dir, &["commit", "-q", "-m", "x"]);
            for version in ["2", "3", "4"] {
                git(dir, &["update-index", "--index-version", version]);
                let want = git(dir, &["ls-files", "-s"]);
                let ix = IndexFile::open(&dir.join(".git/index"), kind)
                    .unwrap()
                    .unwrap();
                let mut got = String::new();
                let entries = Entries::File(ix);
                entries
                    .for_each(|_, e| -> Result<Step, IndexError> {
                        got += &format!(
                            "{:o} {} {}\t{}\n",
                            e.mode,
                            hex::encode(e.id),
                            e.stage,
                            String::from_utf8_lossy(e.path)
                        );
                        Ok(Step::Next)
                    })
                    .unwrap();
                assert_eq!(got, want, "{format} v{version}");
                let tree = entries.tree().unwrap();
                let head = git(dir, &["rev-parse", "HEAD^{tree}"]);
                assert_eq!(hex::encode(tree.id(0).unwrap()), head.trim(), "{format}");
            }
        }
    }
}
