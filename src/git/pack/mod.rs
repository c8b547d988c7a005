//! Reading a repository's pack files directly, for whole-history scans.
//!
//! libgit2 reads one object at a time: each read inflates the object's whole
//! delta chain again unless the links are still in a small (16 MiB) cache, so
//! a full history scan inflated most objects many times. Here every object of
//! every pack is numbered in pack order, the delta relations form a forest
//! (`forest`), and each wanted object is decoded once by walking that forest
//! from its roots, keeping a base only while its deltas are being applied —
//! what `git index-pack` does.
//!
//! This is a fast path, not a replacement: anything it cannot do (a pack
//! without a version 2 index, an object whose chain is broken or reaches
//! outside the packs, a loose object) is left to `ObjectReader`, which
//! reports errors the usual way.

pub mod delta;
pub mod forest;

use std::path::{Path, PathBuf};

use super::oid::{HashKind, ObjectId as Oid};

/// Object types as a pack entry's header codes them.
pub const COMMIT: u8 = 1;
pub const TREE: u8 = 2;
pub const BLOB: u8 = 3;
pub const TAG: u8 = 4;

/// The object type of a whole entry's type code (`parse_header` accepts
/// only the four).
pub fn kind_of(code: u8) -> git2::ObjectType {
    match code {
        COMMIT => git2::ObjectType::Commit,
        TREE => git2::ObjectType::Tree,
        BLOB => git2::ObjectType::Blob,
        _ => git2::ObjectType::Tag,
    }
}
const OFS_DELTA: u8 = 6;
const REF_DELTA: u8 = 7;

/// The part of a pack entry that precedes its zlib stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// 1–4 for whole objects, 6 or 7 for deltas.
    pub code: u8,
    /// Inflated size: the object's, or the delta's for a delta.
    pub size: u64,
    /// Where the zlib stream starts, in the pack.
    pub data: usize,
    pub base: Base,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// A whole object.
    None,
    /// A delta against the entry at this pack offset.
    Offset(u64),
    /// A delta against the object with this id.
    Id(Oid),
}

/// One pack file, memory-mapped, with its index.
struct Pack {
    data: memmap2::Mmap,
    idx: memmap2::Mmap,
    /// Bytes of an id (and of the trailing checksum): 20 or 32.
    hash: usize,
    /// Object number (pack order) → entry offset, ascending.
    offsets: Vec<u64>,
    /// Object number → position in the index (sorted by id).
    index_pos: Vec<u32>,
    /// Position in the index → object number.
    number: Vec<u32>,
}

/// Every pack of a repository. Objects are numbered across packs: pack 0's
/// in pack order, then pack 1's, and so on.
pub struct PackSet {
    packs: Vec<Pack>,
    /// The repository's hash: every id here is of this kind.
    kind: HashKind,
    /// First object number of each pack, plus the total at the end.
    starts: Vec<u32>,
    /// Packs that could not be used, with why (their objects are read
    /// through libgit2 instead).
    pub skipped: Vec<(PathBuf, String)>,
}

const IDX_HEADER: usize = 8 + 256 * 4;
const IDX_MAGIC: &[u8] = b"\xfftOc\0\0\0\x02";

/// `objects/pack/*.EXT` of `git_dir`, in name order, then `pack/*.EXT` of
/// each extra object directory (a push's quarantine, see `objdirs`).
pub fn files(git_dir: &Path, ext: &str) -> Vec<PathBuf> {
    let own = git_dir.join("objects");
    let mut all = Vec::new();
    for dir in std::iter::once(&own).chain(super::objdirs::extra()) {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join("pack"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == ext))
            .collect();
        paths.sort();
        all.append(&mut paths);
    }
    all
}

/// A version 2 pack index: 256 fan-out counts, the sorted ids (20 bytes
/// each for SHA-1, 32 for SHA-256), their CRCs, 31-bit offsets (high bit
/// set: an index into the table of 64-bit offsets that follows), then two
/// checksums (of the id's length).
#[derive(Clone, Copy)]
pub struct Index<'a> {
    d: &'a [u8],
    n: usize,
    /// Bytes of an id.
    hash: usize,
    /// Entries in the 64-bit offset table.
    large: usize,
    /// Version 1 (only through `as_libgit2`): no header, each id preceded
    /// by its 32-bit offset, no CRCs.
    v1: bool,
}

impl<'a> Index<'a> {
    /// Checks the header, that the fan-out table is sorted and that the
    /// size matches the object count with ids of `kind`.
    pub fn of(d: &'a [u8], kind: HashKind) -> Result<Index<'a>, String> {
        if d.len() < IDX_HEADER || !d.starts_with(IDX_MAGIC) {
            return Err("not a version 2 pack index".into());
        }
        let mut prev = 0;
        for b in 0..256 {
            let c = be32(d, 8 + b * 4);
            if c < prev {
                return Err("its fan-out table is not sorted".into());
            }
            prev = c;
        }
        let hash = kind.len();
        let n = prev as usize;
        let min_len = (n as u64) * (hash as u64 + 8) + (IDX_HEADER + 2 * hash) as u64;
        let len = d.len() as u64;
        if len < min_len || (len - min_len) % 8 != 0 {
            return Err(format!(
                "its size does not fit {n} objects with {hash}-byte ids ({} index?)",
                if hash == 20 {
                    "not a SHA-1"
                } else {
                    "not a SHA-256"
                }
            ));
        }
        Ok(Index {
            d,
            n,
            hash,
            large: ((len - min_len) / 8) as usize,
            v1: false,
        })
    }

    /// An index that `of` accepted with `hash`-byte ids, without checking
    /// it again (lookups are the hot path).
    pub(crate) fn checked_before(d: &'a [u8], hash: usize) -> Index<'a> {
        let n = be32(d, 8 + 255 * 4) as usize;
        let min_len = IDX_HEADER + n * (hash + 8) + 2 * hash;
        Index {
            d,
            n,
            hash,
            large: d.len().saturating_sub(min_len) / 8,
            v1: false,
        }
    }

    /// The index as libgit2 takes it (`pack_index_check_locked`), which is
    /// laxer than `new`: no version-2 header means version 1, and a
    /// version-2 file may be up to `8 × (n - 1)` bytes longer than its
    /// tables (any length in between). `Ok(None)`: libgit2 refuses the file,
    /// so never reads through it. `Ok(Some)`: libgit2 uses it and it is safe
    /// to check lookups against (its ids strictly sorted, its fan-out
    /// agreeing with them, so a lookup here lands where libgit2's does; each
    /// offset is still checked where it is used). `Err`: libgit2 would read
    /// through it but lookups here could not follow it. Version 1 files
    /// (which libgit2 still reads) are checked the same way.
    pub fn as_libgit2(d: &'a [u8]) -> Result<Option<Index<'a>>, String> {
        const V1_HEADER: usize = 256 * 4;
        let v2 = d.len() >= 8 && d.starts_with(&IDX_MAGIC[..4]);
        if v2 && be32(d, 4) != 2 {
            return Ok(None);
        }
        let fan_at = if v2 { 8 } else { 0 };
        if d.len() < fan_at + V1_HEADER + 40 {
            return Ok(None);
        }
        let mut prev = 0;
        for b in 0..256 {
            let c = be32(d, fan_at + b * 4);
            if c < prev {
                return Ok(None);
            }
            prev = c;
        }
        let n = prev as u64;
        let len = d.len() as u64;
        if !v2 && len != V1_HEADER as u64 + n * 24 + 40 {
            return Ok(None);
        }
        let min = (IDX_HEADER as u64) + n * 28 + 40;
        if v2 && (len < min || len > min + n.saturating_sub(1) * 8) {
            return Ok(None);
        }
        if v2 && (len - min) % 8 != 0 {
            // Git writes whole 8-byte entries: bytes were inserted or lost,
            // and every offset after them is read shifted.
            return Err("its size does not fit its tables (bytes inserted or lost)".into());
        }
        let ix = Index::lax(d);
        // Every id read once, compared a word at a time (this runs over the
        // whole file: 386k ids cost ~24 M instructions with slice compares).
        let word = |id: &[u8]| u64::from_be_bytes(id[..8].try_into().expect("ids are 20 bytes"));
        let mut count = 0usize;
        let mut prev: Option<(u64, &[u8])> = None;
        for b in 0..256usize {
            let upto = be32(d, fan_at + b * 4) as usize;
            while count < upto {
                let id = ix.id_at(count);
                let w = word(id);
                if (w >> 56) as usize != b {
                    return Err(format!(
                        "its fan-out table disagrees with object {count}'s id"
                    ));
                }
                if let Some((pw, p)) = prev {
                    if pw > w || (pw == w && p >= id) {
                        return Err(format!("its ids are not sorted (at position {count})"));
                    }
                }
                prev = Some((w, id));
                count += 1;
            }
        }
        Ok(Some(ix))
    }

    /// An index (version 1 or 2) that `as_libgit2` accepted, without checking it
    /// again.
    pub fn lax(d: &'a [u8]) -> Index<'a> {
        if !d.starts_with(&IDX_MAGIC[..4]) {
            return Index {
                d,
                n: be32(d, 255 * 4) as usize,
                hash: 20,
                large: 0,
                v1: true,
            };
        }
        let n = be32(d, 8 + 255 * 4) as usize;
        let min = IDX_HEADER + n * 28 + 40;
        Index {
            d,
            n,
            hash: 20,
            // Whole 8-byte entries before the two checksums (libgit2 reads
            // up to the first checksum's end: never fewer bytes).
            large: d.len().saturating_sub(min) / 8,
            v1: false,
        }
    }

    pub fn len(&self) -> usize {
        self.n
    }

    /// The id at sorted position `pos`.
    pub fn id_at(&self, pos: usize) -> &'a [u8] {
        if self.v1 {
            let at = 256 * 4 + pos * 24 + 4;
            return &self.d[at..at + 20];
        }
        let at = IDX_HEADER + pos * self.hash;
        &self.d[at..at + self.hash]
    }

    /// The sorted position of `id`.
    pub fn position(&self, id: &[u8]) -> Option<usize> {
        let fan_at = if self.v1 { 0 } else { 8 };
        let fan = |b: usize| be32(self.d, fan_at + b * 4) as usize;
        let lo = if id[0] == 0 {
            0
        } else {
            fan(id[0] as usize - 1)
        };
        let hi = fan(id[0] as usize).min(self.n);
        let (mut a, mut b) = (lo.min(hi), hi);
        while a < b {
            let m = (a + b) / 2;
            match self.id_at(m).cmp(id) {
                std::cmp::Ordering::Less => a = m + 1,
                std::cmp::Ordering::Greater => b = m,
                std::cmp::Ordering::Equal => return Some(m),
            }
        }
        None
    }

    /// The pack offset of the entry at sorted position `pos`; `None` when
    /// it points past the 64-bit offset table.
    pub fn offset(&self, pos: usize) -> Option<u64> {
        if self.v1 {
            return Some(u64::from(be32(self.d, 256 * 4 + pos * 24)));
        }
        let small = IDX_HEADER + self.n * (self.hash + 4);
        let o = be32(self.d, small + pos * 4);
        if o & 0x8000_0000 == 0 {
            return Some(u64::from(o));
        }
        let k = (o & 0x7fff_ffff) as usize;
        if k >= self.large {
            return None;
        }
        debug_assert!(small + self.n * 4 + k * 8 + 8 <= self.d.len());
        let at = small + self.n * 4 + k * 8;
        Some(u64::from_be_bytes(
            self.d[at..at + 8].try_into().expect("8 bytes"),
        ))
    }
}

impl Pack {
    fn open(pack_path: &Path, kind: HashKind) -> Result<Pack, String> {
        let idx_path = pack_path.with_extension("idx");
        let idx = map(&idx_path)?;
        let data = map(pack_path)?;
        let index = Index::of(&idx, kind)?;
        let hash = kind.len();
        if data.len() < 12 + hash || !data.starts_with(b"PACK") {
            return Err("not a pack file".into());
        }
        let n = index.len();
        if be32(&data, 8) as usize != n {
            return Err("pack and index disagree on the object count".into());
        }
        let mut by_offset: Vec<(u64, u32)> = Vec::with_capacity(n);
        for i in 0..n {
            let off = index
                .offset(i)
                .filter(|&o| o >= 12 && o < (data.len() - hash) as u64)
                .ok_or("index offset out of range")?;
            by_offset.push((off, i as u32));
        }
        by_offset.sort_unstable();
        if by_offset.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err("two index entries share an offset".into());
        }
        let mut number = vec![0u32; n];
        for (num, &(_, pos)) in by_offset.iter().enumerate() {
            number[pos as usize] = num as u32;
        }
        Ok(Pack {
            offsets: by_offset.iter().map(|&(o, _)| o).collect(),
            index_pos: by_offset.iter().map(|&(_, p)| p).collect(),
            number,
            data,
            idx,
            hash,
        })
    }

    /// The index, checked by `Index::of` when the pack was opened (not
    /// again on every lookup: this is the pack reader's hot path).
    fn index(&self) -> Index<'_> {
        Index::checked_before(&self.idx, self.hash)
    }

    /// The object number of `id` in this pack.
    fn find(&self, id: &[u8]) -> Option<u32> {
        self.index().position(id).map(|pos| self.number[pos])
    }

    /// The zlib stream of entry `num` runs to the next entry (or to the
    /// pack's trailing checksum).
    fn end_of(&self, num: usize) -> usize {
        match self.offsets.get(num + 1) {
            Some(&o) => o as usize,
            None => self.data.len() - self.hash,
        }
    }

    fn header(&self, num: usize) -> Result<Header, String> {
        parse_header(
            &self.data[..self.end_of(num)],
            self.offsets[num] as usize,
            self.hash,
        )
    }
}

/// Parses the entry header at `off` of pack bytes `d` (cut where the entry
/// must end) of a repository whose ids are `hash` bytes long: its type
/// code, inflated size and base. Every code other than the four object
/// types and the two deltas is an error, and so is a base offset outside
/// the pack. The one parser of entry headers (the pack reader, the guard
/// and `store` all use it).
pub fn parse_header(d: &[u8], off: usize, hash: usize) -> Result<Header, String> {
    let mut pos = off;
    let mut next = || -> Result<u8, String> {
        let b = *d.get(pos).ok_or("truncated entry header")?;
        pos += 1;
        Ok(b)
    };
    let mut c = next()?;
    let code = (c >> 4) & 7;
    let mut size = u64::from(c & 15);
    let mut shift = 4;
    while c & 0x80 != 0 {
        c = next()?;
        if shift > 57 {
            return Err("entry size too large".into());
        }
        size |= u64::from(c & 0x7f) << shift;
        shift += 7;
    }
    let base = match code {
        COMMIT | TREE | BLOB | TAG => Base::None,
        OFS_DELTA => {
            let mut c = next()?;
            let mut back = u64::from(c & 0x7f);
            while c & 0x80 != 0 {
                c = next()?;
                back = back
                    .checked_add(1)
                    .and_then(|b| b.checked_mul(128))
                    .ok_or("delta base offset too large")?
                    | u64::from(c & 0x7f);
            }
            if back == 0 || back > off as u64 {
                return Err("delta base offset out of range".into());
            }
            Base::Offset(off as u64 - back)
        }
        REF_DELTA => {
            let id = d.get(pos..pos + hash).ok_or("truncated delta base id")?;
            pos += hash;
            Base::Id(Oid::from_bytes(id).ok_or("bad id length")?)
        }
        other => return Err(format!("unknown entry type {other}")),
    };
    Ok(Header {
        code,
        size,
        data: pos,
        base,
    })
}

/// The hash of the repository at `git_dir` (SHA-1 when its configuration
/// cannot be read: opening it through `ObjectReader` then reports why).
pub fn hash_of(git_dir: &Path) -> HashKind {
    super::format::Format::read(git_dir).map_or(HashKind::Sha1, |f| f.objects)
}

/// Maps a pack or index file into memory.
pub(crate) fn map(p: &Path) -> Result<memmap2::Mmap, String> {
    let f = std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
    // SAFETY: git never modifies a pack or index file once written (they are
    // replaced under new names, and a repack unlinks old ones, which leaves
    // an existing mapping intact).
    #[allow(unsafe_code)]
    let m = unsafe { memmap2::Mmap::map(&f) };
    m.map_err(|e| format!("{}: {e}", p.display()))
}

/// The most bytes a zlib stream of `compressed` bytes can inflate to
/// (deflate expands at most ~1032:1): a larger claim is damage, and must
/// not become an allocation.
pub fn max_inflated(compressed: usize) -> u64 {
    (compressed as u64).saturating_mul(1032).saturating_add(64)
}

fn be32(d: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(d[at..at + 4].try_into().expect("4 bytes"))
}

impl PackSet {
    /// Opens every `objects/pack/*.pack` of `git_dir` that has a version 2
    /// index, with ids of the repository's hash (`extensions.objectFormat`).
    /// A repository without packs gives an empty set.
    pub fn open(git_dir: &Path) -> PackSet {
        PackSet::open_as(git_dir, hash_of(git_dir))
    }

    /// `open` for a repository whose ids are of `kind`.
    pub fn open_as(git_dir: &Path, kind: HashKind) -> PackSet {
        let paths = files(git_dir, "pack");
        let mut set = PackSet {
            kind,
            packs: Vec::new(),
            starts: vec![0],
            skipped: Vec::new(),
        };
        let mut total = 0u64;
        for p in paths {
            match Pack::open(&p, kind) {
                Ok(pack) if total + pack.offsets.len() as u64 <= u64::from(u32::MAX / 2) => {
                    total += pack.offsets.len() as u64;
                    set.starts.push(total as u32);
                    set.packs.push(pack);
                }
                Ok(_) => set.skipped.push((p, "too many objects".into())),
                Err(e) => set.skipped.push((p, e)),
            }
        }
        set
    }

    /// Objects in all packs (an object in two packs counts twice).
    pub fn len(&self) -> usize {
        *self.starts.last().expect("starts is never empty") as usize
    }

    fn locate(&self, num: u32) -> (&Pack, usize) {
        let p = self.starts.partition_point(|&s| s <= num) - 1;
        (&self.packs[p], (num - self.starts[p]) as usize)
    }

    /// The hash of every id here.
    pub fn kind(&self) -> HashKind {
        self.kind
    }

    /// The number of object `oid` (in the first pack holding it); `None`
    /// also for an id of another hash.
    pub fn find(&self, oid: Oid) -> Option<u32> {
        if oid.kind() != self.kind {
            return None;
        }
        let id = oid.as_bytes();
        self.packs
            .iter()
            .zip(&self.starts)
            .find_map(|(p, &s)| p.find(id).map(|n| s + n))
    }

    /// Object `num`'s id.
    pub fn id(&self, num: u32) -> Oid {
        let (p, n) = self.locate(num);
        Oid::from_bytes(p.index().id_at(p.index_pos[n] as usize)).expect("an id length")
    }

    #[cfg(test)]
    pub fn oid(&self, num: u32) -> Oid {
        self.id(num)
    }

    /// The entry header of object `num`, with a delta's base resolved to an
    /// object number (`Err` for a base in no pack).
    pub fn header(&self, num: u32) -> Result<(Header, Option<u32>), String> {
        let (p, n) = self.locate(num);
        let h = p.header(n)?;
        // The zlib stream runs at most to the next entry: a size it cannot
        // inflate to is damage (not "too large to scan").
        let stream = p.end_of(n).saturating_sub(h.data);
        if h.size > max_inflated(stream) {
            return Err(format!(
                "entry claims {} bytes, more than its {stream} compressed bytes can hold",
                h.size
            ));
        }
        let base = match h.base {
            Base::None => None,
            Base::Offset(off) => {
                let i = p.offsets.binary_search(&off).map_err(|_| {
                    format!("delta base at offset {off} is not an entry of the pack")
                })?;
                Some(num - n as u32 + i as u32)
            }
            Base::Id(id) => Some(
                self.find(id)
                    .ok_or_else(|| format!("delta base {id} is in no pack"))?,
            ),
        };
        Ok((h, base))
    }

    /// The compressed bytes of object `num`'s entry, whose zlib stream
    /// starts at `data` (`Header::data`).
    pub fn stream_from(&self, num: u32, data: usize) -> &[u8] {
        let (p, n) = self.locate(num);
        &p.data[data.min(p.data.len())..p.end_of(n).max(data)]
    }

    /// Reads object `oid` when a pack holds it whole (not as a delta):
    /// its type code, with the bytes in `buf`. `None` when no pack holds it
    /// whole (read it another way).
    pub fn read_whole(
        &self,
        oid: Oid,
        inflater: &mut Inflater,
        buf: &mut Vec<u8>,
    ) -> Option<Result<u8, String>> {
        let num = self.find(oid)?;
        let (h, base) = match self.header(num) {
            Ok(x) => x,
            Err(e) => return Some(Err(e)),
        };
        if base.is_some() {
            return None;
        }
        let size = usize::try_from(h.size).ok()?;
        Some(
            inflater
                .inflate(self.stream_from(num, h.data), size, buf)
                .map(|()| h.code),
        )
    }
}

/// Inflates pack entries with libdeflate, which decompresses a whole
/// buffer at once (we always know the exact size) and is ~25% faster than
/// zlib-rs here: 2.3–3.0 s against 3.2–3.8 s of CPU to decode the benchmark
/// repository's 1.8 GB of blobs.
pub struct Inflater(libdeflater::Decompressor);

impl Default for Inflater {
    fn default() -> Self {
        Inflater(libdeflater::Decompressor::new())
    }
}

impl Inflater {
    /// Inflates the zlib stream `input` into `out`, which must come out
    /// exactly `size` bytes long.
    pub fn inflate(&mut self, input: &[u8], size: usize, out: &mut Vec<u8>) -> Result<(), String> {
        // Deflate expands at most ~1032:1: a larger claim is a damaged
        // header, and must not become a huge allocation.
        if size as u64 > max_inflated(input.len()) {
            return Err(format!(
                "entry claims {size} bytes from {} compressed",
                input.len()
            ));
        }
        // No `clear()` first: a recycled buffer's old bytes are overwritten,
        // and only growth is zero-filled.
        out.resize(size, 0);
        match self.0.zlib_decompress(input, out) {
            Ok(n) if n == size => Ok(()),
            Ok(n) => Err(format!("inflated to {n} bytes, the entry says {size}")),
            Err(libdeflater::DecompressionError::InsufficientSpace) => Err(format!(
                "inflates to more than the {size} bytes the entry says"
            )),
            Err(libdeflater::DecompressionError::BadData) => Err("corrupt zlib stream".into()),
        }
    }
}

/// Whether a run over `commits` commits should decode the pack files in one
/// pass rather than read objects one at a time through libgit2. The pass
/// costs time in proportion to the objects in the packs, so it pays when the
/// run covers a good part of the history; a pull request's few commits are
/// read one by one. `forced` (`LEAKSCAN_PACK_READER=on|off`, read once by
/// `settings::Switches`) overrides, for tests and diagnosis.
pub fn worth_a_pass(git_dir: &Path, commits: usize, forced: Option<bool>) -> bool {
    if let Some(forced) = forced {
        return forced;
    }
    let objects = count_objects(git_dir);
    objects > 0 && (commits as u64).saturating_mul(64) >= objects
}

/// Objects in the repository's pack files, from the index headers alone
/// (cheap: to decide whether a one-pass read pays).
pub fn count_objects(git_dir: &Path) -> u64 {
    let mut total = 0u64;
    for p in files(git_dir, "idx") {
        let mut head = [0u8; IDX_HEADER];
        let ok = std::fs::File::open(&p)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
            .is_ok();
        if ok && head.starts_with(IDX_MAGIC) {
            total += u64::from(be32(&head, 8 + 255 * 4));
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::default());
        let mut out = vec![0; c.zlib_compress_bound(data.len())];
        let n = c.zlib_compress(data, &mut out).unwrap();
        out.truncate(n);
        out
    }

    #[test]
    fn inflates_exact_sizes_only() {
        let text = b"a line of text\n".repeat(1000);
        let z = zlib(&text);
        let mut inf = Inflater::default();
        let mut out = vec![7u8; 100_000];
        inf.inflate(&z, text.len(), &mut out).unwrap();
        assert_eq!(out, text, "a recycled, larger buffer comes out exact");
        let short = inf.inflate(&z, text.len() - 1, &mut out).unwrap_err();
        assert!(short.contains("more than"), "{short}");
        let long = inf.inflate(&z, text.len() + 1, &mut out).unwrap_err();
        assert!(long.contains("inflated to"), "{long}");
        let mut bad = z.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 0xff;
        assert!(inf.inflate(&bad, text.len(), &mut out).is_err());
        // A damaged header claiming a huge size is refused before any
        // allocation.
        let huge = inf.inflate(&z, 1 << 50, &mut out).unwrap_err();
        assert!(huge.contains("claims"), "{huge}");
    }
}
