//! Checks on damaged object stores before libgit2 reads them.
//!
//! libgit2 trusts what it reads: an `.idx` offset past the end of its pack
//! crashes it (SIGSEGV), a truncated loose object can make it loop in
//! `inflate`, an entry header claiming 4 GB becomes a 4 GB allocation, and
//! git2 panics on an object type it does not know. So every object handed
//! to libgit2 is checked here first, cheaply (no inflating for packed
//! objects): loose objects are read and inflated here, with their size
//! bounded by the file's; packed objects have their index offset and every
//! entry header of their delta chain checked against the pack's real size,
//! and every delta's two sizes (the first bytes of its stream, the only
//! part inflated) checked: the base size must be the size of the object
//! below it, and the target size no more than the delta can produce (it is
//! what libgit2 allocates before applying the delta).
//! A problem is a `ReadError` naming the object; the scan goes on.

use std::cell::{OnceCell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::SystemTime;

use git2::ObjectType;

use super::oid::ObjectId as Oid;

use super::chain;
use super::error::ReadError;
use super::pack::{self, Base, Index};
use super::stream::BlobStream;

/// Longer delta chains than this are refused (git's default is 50; `git
/// repack` allows 4095 at most).
const MAX_CHAIN: usize = 10_000;

/// The object directories of one repository (its own and its alternates'),
/// with their packs mapped on first use.
pub struct Guard {
    dirs: Vec<PathBuf>,
    packs: OnceCell<Vec<Arc<Mapped>>>,
    /// Pack entries already checked, with their object's size: the walk
    /// down a delta chain stops at the first one (successive versions of a
    /// file or tree share most of their chain).
    checked: RefCell<Checked>,
}

/// (pack number, entry offset) → the size of the object the entry gives.
type Checked = std::collections::HashMap<(u32, u64), u64>;

struct Mapped {
    path: PathBuf,
    idx: memmap2::Mmap,
    data: memmap2::Mmap,
    /// How libgit2 takes the `.idx` (see `pack::Index::as_libgit2`).
    state: IdxState,
}

enum IdxState {
    /// libgit2 refuses the index: it never reads through this pack.
    Refused,
    /// Lookups here land where libgit2's do.
    Checked,
    /// libgit2 would read through it, but it cannot be checked: no object
    /// is handed to libgit2 while it is there.
    Unchecked(String),
}

impl Mapped {
    fn index(&self) -> Option<Index<'_>> {
        matches!(self.state, IdxState::Checked).then(|| Index::lax(&self.idx))
    }

    /// The pack at `path` mapped and its `.idx` judged (`Index::as_libgit2`),
    /// once per process while any reader holds it: every reader of a run
    /// (the hook's own, the policy reader, each worker's) opens the same
    /// packs, and judging a large index reads all of it (386k ids: ~6 M
    /// instructions, ~24 M before ids were compared a word at a time). A
    /// file replaced since (another size or modification time) is mapped
    /// and judged again. `None` when either file cannot be mapped.
    fn shared(path: PathBuf) -> Option<Arc<Mapped>> {
        let idx_path = path.with_extension("idx");
        let stamp = |p: &Path| {
            std::fs::metadata(p)
                .ok()
                .map(|m| (m.len(), m.modified().ok()))
        };
        let key = (stamp(&path)?, stamp(&idx_path)?);
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|o| o.mapped.strong_count() > 0);
        if let Some(m) = open
            .iter()
            .find(|o| o.path == path && o.key == key)
            .and_then(|o| o.mapped.upgrade())
        {
            return Some(m);
        }
        let (Ok(data), Ok(idx)) = (pack::map(&path), pack::map(&idx_path)) else {
            return None;
        };
        let state = match Index::as_libgit2(&idx) {
            Ok(None) => IdxState::Refused,
            Ok(Some(_)) => IdxState::Checked,
            Err(why) => IdxState::Unchecked(why),
        };
        let m = Arc::new(Mapped {
            path: path.clone(),
            idx,
            data,
            state,
        });
        open.push(Opened {
            path,
            key,
            mapped: Arc::downgrade(&m),
        });
        Some(m)
    }
}

/// A file's size and modification time.
type Stamp = (u64, Option<SystemTime>);

/// A pack some reader of this process has open (see `Mapped::shared`).
struct Opened {
    path: PathBuf,
    /// The pack's and its index's stamps when they were mapped.
    key: (Stamp, Stamp),
    mapped: Weak<Mapped>,
}

/// The packs open in this process, by path.
static OPEN: Mutex<Vec<Opened>> = Mutex::new(Vec::new());

impl Guard {
    /// The guard for the git directory `common_dir` (the common directory
    /// of a linked work tree).
    pub fn new(common_dir: &Path) -> Guard {
        let objects = common_dir.join("objects");
        let mut dirs = vec![objects.clone()];
        if let Ok(text) = std::fs::read_to_string(objects.join("info").join("alternates")) {
            for line in text.lines().map(str::trim) {
                if !line.is_empty() && !line.starts_with('#') {
                    dirs.push(objects.join(line));
                }
            }
        }
        // A push's quarantine: libgit2 reads it too (`objdirs::attach`).
        dirs.extend(super::objdirs::extra().iter().cloned());
        Guard {
            dirs,
            packs: OnceCell::new(),
            checked: RefCell::default(),
        }
    }

    fn packs(&self) -> &[Arc<Mapped>] {
        self.packs.get_or_init(|| {
            let mut out = Vec::new();
            for dir in &self.dirs {
                for p in files_in(&dir.join("pack"), "pack") {
                    if let Some(m) = Mapped::shared(p) {
                        out.push(m);
                    }
                }
            }
            out
        })
    }

    /// Reads `oid` when it is a loose object: `None` when no object
    /// directory holds it loose.
    pub fn read_loose(&self, oid: Oid) -> Option<Result<(ObjectType, Vec<u8>), ReadError>> {
        let hex = oid.to_string();
        for dir in &self.dirs {
            let path = dir.join(&hex[..2]).join(&hex[2..]);
            match std::fs::read(&path) {
                Ok(raw) => {
                    return Some(
                        parse_loose(&raw)
                            .map_err(|e| ReadError(format!("object {oid} (loose): {e}"))),
                    )
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Some(Err(ReadError(format!("object {oid}: {e}")))),
            }
        }
        None
    }

    /// `oid` as a stream (see `stream`), checked as `check` checks it, when
    /// it is a blob of more than `over` bytes stored loose or packed (whole
    /// or as a delta chain, `chain::open`); `None` otherwise (read it
    /// whole). A loose file too small to inflate past `over` is not opened.
    pub fn stream(&self, oid: Oid, over: u64) -> Result<Option<BlobStream<'_>>, ReadError> {
        if self.check_packed(oid)? {
            let packs = self.packs();
            for (i, p) in packs.iter().enumerate() {
                let Some(index) = p.index() else { continue };
                let Some(off) = index.position(oid.as_bytes()).and_then(|i| index.offset(i)) else {
                    continue;
                };
                // `check_packed` has just sized the entry: most blobs stop here.
                if let Some(&size) = self.checked.borrow().get(&(i as u32, off)) {
                    if size <= over {
                        return Ok(None);
                    }
                }
                let src = Entries {
                    packs,
                    dirs: &self.dirs,
                };
                return chain::open(&src, oid, i, off, over)
                    .map_err(|e| ReadError(format!("object {oid} in {}: {e}", p.path.display())));
            }
            return Ok(None);
        }
        BlobStream::find_loose(oid, &self.dirs, over)
    }

    /// `oid` read here, without libgit2, when the first pack holding it
    /// (as libgit2 looks: packs first) stores it whole, not as a delta, and
    /// it inflates to at most `limit` bytes: its type, with its bytes in
    /// `buf`. A small object costs libgit2 ~48k instructions, most of them
    /// setting up a zlib stream (a push's walk reads a commit per existing
    /// ref); libdeflate inflates it in a few thousand. The entry is checked
    /// as `check` checks it (offset inside the pack, known type, size the
    /// pack can hold) and must inflate to exactly its size. `None`: read it
    /// the usual way (a delta, a loose object, a pack whose index cannot be
    /// checked, or an entry that does not read cleanly here, which the usual
    /// way then checks and reports).
    pub fn read_whole(
        &self,
        oid: Oid,
        limit: u64,
        inflater: &mut pack::Inflater,
        buf: &mut Vec<u8>,
    ) -> Option<ObjectType> {
        let (p, h) = self.whole_entry(oid)?;
        if h.size > limit {
            return None;
        }
        let end = p.data.len() - 20;
        inflater
            .inflate(&p.data[h.data..end], usize::try_from(h.size).ok()?, buf)
            .ok()?;
        Some(pack::kind_of(h.code))
    }

    /// `oid`'s type and size from its entry header alone, when the first
    /// pack holding it stores it whole (see `read_whole`; nothing is
    /// inflated). `None`: ask libgit2.
    pub fn header_whole(&self, oid: Oid) -> Option<(ObjectType, u64)> {
        self.whole_entry(oid)
            .map(|(_, h)| (pack::kind_of(h.code), h.size))
    }

    /// The pack and entry header of `oid` in the first pack holding it, when
    /// it is stored whole there and its header is sound.
    fn whole_entry(&self, oid: Oid) -> Option<(&Mapped, pack::Header)> {
        let packs = self.packs();
        if packs
            .iter()
            .any(|p| matches!(p.state, IdxState::Unchecked(_)))
        {
            return None;
        }
        for p in packs {
            let Some(index) = p.index() else { continue };
            let Some(pos) = index.position(oid.as_bytes()) else {
                continue;
            };
            let off = usize::try_from(index.offset(pos)?).ok()?;
            let end = p.data.len().checked_sub(20)?;
            if off < 12 || off >= end {
                return None;
            }
            let h = pack::parse_header(&p.data[..end], off, 20).ok()?;
            let whole = matches!(h.base, Base::None);
            return (whole && h.size <= pack::max_inflated(end - h.data)).then_some((&**p, h));
        }
        None
    }

    /// Checks that libgit2 can read `oid` safely: in every pack that holds
    /// it, the index offset lies inside the pack and each entry of the delta
    /// chain has a known type and a size the pack can hold; an object in no
    /// pack must have a loose copy that inflates whole to the size it
    /// declares, with a known type.
    pub fn check(&self, oid: Oid) -> Result<(), ReadError> {
        if !self.check_packed(oid)? {
            if let Some(r) = self.read_loose(oid) {
                return r.map(|_| ());
            }
        }
        Ok(())
    }

    /// The pack half of `check` (packs first, as libgit2 reads them, and
    /// without a system call): whether any pack holds `oid`.
    pub fn check_packed(&self, oid: Oid) -> Result<bool, ReadError> {
        let packs = self.packs();
        let mut found = false;
        for (i, p) in packs.iter().enumerate() {
            if let IdxState::Unchecked(why) = &p.state {
                return Err(ReadError(format!(
                    "{}: {why}; libgit2 would follow it unchecked, so no object of this \
                     repository is read through libgit2 (`git index-pack` rebuilds the index)",
                    p.path.with_extension("idx").display()
                )));
            }
            let Some(index) = p.index() else {
                continue;
            };
            if let Some(pos) = index.position(oid.as_bytes()) {
                found = true;
                let loose_base = check_chain(packs, &mut self.checked.borrow_mut(), i, pos)
                    .map_err(|e| ReadError(format!("object {oid} in {}: {e}", p.path.display())))?;
                if let Some(Err(e)) = loose_base.and_then(|b| self.read_loose(b)) {
                    return Err(ReadError(format!("object {oid}: delta base: {e}")));
                }
            }
        }
        Ok(found)
    }
}

/// The checked packs as `chain::open` follows them: a base named by id is
/// looked up in the same pack first, as libgit2 does.
struct Entries<'a> {
    packs: &'a [Arc<Mapped>],
    dirs: &'a [PathBuf],
}

impl<'a> chain::Packs<'a> for Entries<'a> {
    fn pack(&self, p: usize) -> &'a [u8] {
        let data = &self.packs[p].data;
        &data[..data.len().saturating_sub(20)]
    }

    fn hash(&self) -> usize {
        20
    }

    fn find(&self, id: &Oid, from: usize) -> Option<Result<(usize, u64), String>> {
        let order = std::iter::once(from).chain((0..self.packs.len()).filter(|&j| j != from));
        order.into_iter().find_map(|j| {
            let index = self.packs[j].index()?;
            let pos = index.position(id.as_bytes())?;
            Some(
                index
                    .offset(pos)
                    .map(|o| (j, o))
                    .ok_or_else(|| "bad index offset".into()),
            )
        })
    }

    fn dirs(&self) -> &[PathBuf] {
        self.dirs
    }
}

/// Walks the delta chain of the entry at sorted index position `pos` of
/// pack `i`, checking every header and every delta's sizes, down to a base
/// that is whole or already checked. A base found in no pack is returned (to
/// be checked as a loose object; such chains are not remembered as checked).
fn check_chain(
    packs: &[Arc<Mapped>],
    checked: &mut Checked,
    mut i: usize,
    pos: usize,
) -> Result<Option<Oid>, String> {
    let index = packs[i].index().ok_or("its pack index is not used")?;
    let mut off = index
        .offset(pos)
        .ok_or("the index offset points past its 64-bit offset table")?;
    // (pack, offset, base size, target size) of each delta on the way down.
    let mut deltas: Vec<(u32, u64, u64, u64)> = Vec::new();
    // The size of the object at the bottom, once reached.
    let mut below = None;
    for _ in 0..MAX_CHAIN {
        if let Some(&size) = checked.get(&(i as u32, off)) {
            below = Some(size);
            break;
        }
        let data = &packs[i].data;
        let end = data.len().saturating_sub(20);
        if off < 12 || off >= end as u64 {
            return Err(format!(
                "entry offset {off} lies outside the pack ({} bytes)",
                data.len()
            ));
        }
        let h = pack::parse_header(&data[..end], off as usize, 20)
            .map_err(|e| format!("entry at offset {off}: {e}"))?;
        if h.size > pack::max_inflated(end - h.data) {
            return Err(format!(
                "entry at offset {off} claims {} bytes, more than the pack can hold",
                h.size
            ));
        }
        if !matches!(h.base, Base::None) {
            let (base, target) = pack::delta::sizes_in_stream(&data[h.data..end])
                .map_err(|e| format!("delta at offset {off}: {e}"))?;
            if target > pack::delta::max_target(h.size, base) {
                return Err(format!(
                    "delta at offset {off} claims a {target}-byte result, more than its {} bytes can produce",
                    h.size
                ));
            }
            deltas.push((i as u32, off, base, target));
        }
        match h.base {
            Base::None => {
                checked.insert((i as u32, off), h.size);
                below = Some(h.size);
                break;
            }
            Base::Offset(o) => off = o,
            Base::Id(id) => {
                // libgit2 looks for the base in the same pack first.
                let order = std::iter::once(i).chain((0..packs.len()).filter(|&j| j != i));
                let found = order.into_iter().find_map(|j| {
                    let index = packs[j].index()?;
                    let pos = index.position(id.as_bytes())?;
                    Some((j, index.offset(pos)))
                });
                match found {
                    Some((j, Some(o))) => {
                        i = j;
                        off = o;
                    }
                    Some((_, None)) => {
                        return Err(format!("delta base {id}: bad index offset"));
                    }
                    // A loose base: its size is checked when it is read,
                    // and libgit2 checks it against the delta's.
                    None => return Ok(Some(id)),
                }
            }
        }
    }
    let Some(mut below) = below else {
        return Err(format!("delta chain longer than {MAX_CHAIN}"));
    };
    // Up the chain: each delta's base is the object below it.
    for &(p, at, base, target) in deltas.iter().rev() {
        if base != below {
            return Err(format!(
                "delta at offset {at} names a {base}-byte base, but its base has {below} bytes"
            ));
        }
        checked.insert((p, at), target);
        below = target;
    }
    Ok(None)
}

fn files_in(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    paths.sort();
    paths
}

/// Parses a loose object file: a zlib stream of `TYPE SIZE\0` and the
/// content. The declared size is bounded by what the file can hold before
/// anything is allocated, the stream must end exactly after the content,
/// and only the four object types are accepted.
pub fn parse_loose(raw: &[u8]) -> Result<(ObjectType, Vec<u8>), String> {
    let bound = pack::max_inflated(raw.len());
    let mut inflater = libdeflater::Decompressor::new();
    // Text inflates ~4:1; grow until the whole stream fits (at most
    // log2(1032) rounds).
    let mut cap = (raw.len() as u64).saturating_mul(4).saturating_add(256);
    let mut out = Vec::new();
    let n = loop {
        let want = usize::try_from(cap.min(bound)).map_err(|_| "object too large")?;
        out.resize(want, 0);
        match inflater.zlib_decompress(raw, &mut out) {
            Ok(n) => break n,
            Err(libdeflater::DecompressionError::InsufficientSpace) if cap < bound => {
                cap = cap.saturating_mul(4);
            }
            Err(libdeflater::DecompressionError::InsufficientSpace) => {
                return Err("inflates to more than the file can hold".into())
            }
            Err(libdeflater::DecompressionError::BadData) => {
                return Err("corrupt or truncated zlib stream".into())
            }
        }
    };
    out.truncate(n);
    let nul = memchr::memchr(0, &out[..n.min(40)]).ok_or("no object header")?;
    let header = std::str::from_utf8(&out[..nul]).map_err(|_| "bad object header")?;
    let (kind, size) = header.split_once(' ').ok_or("bad object header")?;
    let kind = match kind {
        "commit" => ObjectType::Commit,
        "tree" => ObjectType::Tree,
        "blob" => ObjectType::Blob,
        "tag" => ObjectType::Tag,
        other => {
            return Err(format!(
                "unknown object type `{}`",
                other.escape_default().take(40).collect::<String>()
            ))
        }
    };
    let size: usize = size
        .parse()
        .ok()
        .filter(|s| size.bytes().all(|b| b.is_ascii_digit()) && !size.is_empty() && *s < n)
        .ok_or("bad object size")?;
    if nul + 1 + size != n {
        return Err(format!("declares {size} bytes but holds {}", n - nul - 1));
    }
    out.drain(..=nul);
    Ok((kind, out))
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
    fn loose_objects() {
        let body = b"x".repeat(100_000);
        let mut raw = b"blob 100000\0".to_vec();
        raw.extend_from_slice(&body);
        let (k, d) = parse_loose(&zlib(&raw)).unwrap();
        assert_eq!((k, d.len()), (ObjectType::Blob, 100_000));
        assert_eq!(d, body);
        let z = zlib(b"tree 0\0");
        assert_eq!(parse_loose(&z).unwrap(), (ObjectType::Tree, Vec::new()));
        let cases: [(&[u8], &str); 5] = [
            (b"ofs-delta 3\0abc", "unknown object type"),
            (b"blob 4\0abc", "declares 4 bytes"),
            (b"blob 2\0abc", "declares 2 bytes"),
            (b"blob +3\0abc", "bad object size"),
            (b"blob 3abc", "no object header"),
        ];
        for (raw, want) in cases {
            let e = parse_loose(&zlib(raw)).unwrap_err();
            assert!(e.contains(want), "{raw:?}: {e}");
        }
        let z = zlib(&raw);
        let e = parse_loose(&z[..z.len() / 2]).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
    }
}

#[cfg(test)]
mod pack_tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@e", "-C"])
            .arg(dir)
            .args(args)
            .env("GIT_COMMITTER_DATE", "2020-01-01T00:00:00Z")
            .env("GIT_AUTHOR_DATE", "2020-01-01T00:00:00Z")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// A repository of commits, trees, blobs (deltas among them) and an
    /// annotated tag, packed into one pack.
    fn packed_repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q"]);
        for i in 0..6 {
            let text: String = (0..200)
                .map(|l| format!("line {l} of version {i}\n"))
                .collect();
            std::fs::write(d.join("f.txt"), text).unwrap();
            std::fs::write(d.join(format!("n{i}.txt")), format!("file {i}\n")).unwrap();
            git(d, &["add", "-A"]);
            git(d, &["commit", "-q", "-m", &format!("commit {i}")]);
        }
        git(d, &["tag", "-a", "-m", "a tag", "v1"]);
        git(d, &["repack", "-adq"]);
        git(d, &["config", "gc.auto", "0"]);
        dir
    }

    fn all_ids(d: &Path) -> Vec<Oid> {
        git(
            d,
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objectname)",
            ],
        )
        .lines()
        .map(|l| Oid::from_str(l).unwrap())
        .collect()
    }

    #[test]
    fn objects_read_past_libgit2_equal_what_libgit2_reads() {
        let dir = packed_repo();
        let repo = git2::Repository::open(dir.path()).unwrap();
        let odb = repo.odb().unwrap();
        let guard = Guard::new(repo.path());
        let (mut inflater, mut buf) = (pack::Inflater::default(), Vec::new());
        let (mut whole, mut deltas) = (0, 0);
        for id in all_ids(dir.path()) {
            let lg = odb.read(id.to_git2().unwrap()).unwrap();
            let header = guard.header_whole(id);
            match guard.read_whole(id, u64::MAX, &mut inflater, &mut buf) {
                Some(kind) => {
                    whole += 1;
                    assert_eq!((kind, buf.as_slice()), (lg.kind(), lg.data()), "{id}");
                    assert_eq!(header, Some((lg.kind(), lg.len() as u64)), "{id}");
                }
                None => {
                    deltas += 1;
                    assert_eq!(header, None, "{id}");
                }
            }
            // Over the size limit: left to libgit2.
            if lg.len() > 10 {
                assert_eq!(guard.read_whole(id, 10, &mut inflater, &mut buf), None);
            }
        }
        assert!(whole > 10 && deltas > 0, "{whole} whole, {deltas} deltas");
    }

    #[test]
    fn a_damaged_whole_entry_is_left_to_the_checked_read() {
        let dir = packed_repo();
        let head = Oid::from_str(git(dir.path(), &["rev-parse", "HEAD"]).trim()).unwrap();
        let pack_dir = dir.path().join(".git/objects/pack");
        let pack = files_in(&pack_dir, "pack").remove(0);
        let off = {
            let idx = std::fs::read(pack.with_extension("idx")).unwrap();
            let ix = Index::as_libgit2(&idx).unwrap().unwrap();
            ix.offset(ix.position(head.as_bytes()).unwrap()).unwrap() as usize
        };
        let mut data = std::fs::read(&pack).unwrap();
        let h = pack::parse_header(&data, off, 20).unwrap();
        assert!(matches!(h.base, Base::None), "commits are stored whole");
        // The stream's first bytes garbled: it no longer inflates.
        for b in &mut data[h.data + 2..h.data + 8] {
            *b ^= 0x5a;
        }
        let mut perm = std::fs::metadata(&pack).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perm.set_readonly(false);
        std::fs::set_permissions(&pack, perm).unwrap();
        std::fs::write(&pack, &data).unwrap();
        let guard = Guard::new(&dir.path().join(".git"));
        let (mut inflater, mut buf) = (pack::Inflater::default(), Vec::new());
        assert_eq!(
            guard.read_whole(head, u64::MAX, &mut inflater, &mut buf),
            None
        );
        // ... where it is an error naming the commit.
        let reader = crate::git::odb::ObjectReader::open(&dir.path().join(".git")).unwrap();
        let e = reader.commit(head).unwrap_err();
        assert!(e.0.contains(&head.to_string()), "{e}");
    }

    #[test]
    fn readers_of_one_process_share_a_pack_until_its_index_changes() {
        let dir = packed_repo();
        let git_dir = dir.path().join(".git");
        let (a, b) = (Guard::new(&git_dir), Guard::new(&git_dir));
        assert!(Arc::ptr_eq(&a.packs()[0], &b.packs()[0]));
        // The index rewritten with two ids swapped (same size, another
        // modification time): judged again, and refused.
        let idx_path = a.packs()[0].path.with_extension("idx");
        let mut idx = std::fs::read(&idx_path).unwrap();
        let first = 8 + 256 * 4;
        let (x, y) = (
            idx[first..first + 20].to_vec(),
            idx[first + 20..first + 40].to_vec(),
        );
        idx[first..first + 20].copy_from_slice(&y);
        idx[first + 20..first + 40].copy_from_slice(&x);
        let mut perm = std::fs::metadata(&idx_path).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perm.set_readonly(false);
        std::fs::set_permissions(&idx_path, perm).unwrap();
        std::fs::write(&idx_path, &idx).unwrap();
        let f = std::fs::File::options()
            .write(true)
            .open(&idx_path)
            .unwrap();
        f.set_modified(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30))
            .unwrap();
        drop(f);
        let c = Guard::new(&git_dir);
        assert!(!Arc::ptr_eq(&a.packs()[0], &c.packs()[0]));
        let head = Oid::from_str(git(dir.path(), &["rev-parse", "HEAD"]).trim()).unwrap();
        let e = c.check(head).unwrap_err();
        assert!(e.0.contains("libgit2 would follow it unchecked"), "{e}");
        // Once no reader holds a pack, it is unmapped.
        let weak = Arc::downgrade(&a.packs()[0]);
        drop((a, b));
        assert!(weak.upgrade().is_none());
    }
}
