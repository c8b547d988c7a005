//! Reading objects without libgit2, for repositories libgit2 cannot open:
//! SHA-256 ones (`extensions.objectFormat = sha256`; git2's ids are fixed
//! at 20 bytes and libgit2's SHA-256 build is experimental and incompatible
//! with git2). Loose objects (`objects/xx/…`, parsed by `guard::parse_loose`)
//! and packed ones: a version 2 `.idx` whose names are the repository's
//! hash length, entries whose header, size and delta chain are checked as
//! the guard checks them for libgit2 (offsets inside the pack, known types,
//! sizes bounded by what the compressed bytes can hold, chains at most
//! `MAX_CHAIN` long, each delta's base size equal to its base), and deltas
//! by offset or by id (`REF_DELTA`, a base found anywhere in the store).
//!
//! One object at a time, each read decoding its whole chain (a blob over
//! 64 MiB is opened as a stream instead, its chain applied as it is read:
//! `stream`, through `chain`): this serves
//! `ObjectReader`'s native backend (a staged check, a revision lookup, the
//! commits and trees a history walk reads, the blobs the pack reader does
//! not give). Whole histories read packs through `pack` first. Entry
//! headers are parsed by `pack::parse_header`, the one parser. The object directories are
//! the repository's own, its alternates and a push's quarantine
//! (`objdirs`), as for libgit2.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use git2::ObjectType;

use super::oid::{HashKind, ObjectId};
use super::pack::{self, Base, Header};

/// Longer delta chains are refused (as by the guard).
const MAX_CHAIN: usize = 10_000;

/// A problem reading one object; the message names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The objects of one repository.
pub struct Store {
    kind: HashKind,
    dirs: Vec<PathBuf>,
    packs: OnceCell<Vec<Pack>>,
}

struct Pack {
    path: PathBuf,
    data: memmap2::Mmap,
    idx: memmap2::Mmap,
    n: usize,
    /// Entries of the 64-bit offset table.
    large: usize,
}

fn be32(d: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(d[at..at + 4].try_into().expect("4 bytes"))
}

impl Pack {
    fn open(path: PathBuf, kind: HashKind) -> Result<Pack, String> {
        let idx = pack::map(&path.with_extension("idx"))?;
        let data = pack::map(&path)?;
        let index = pack::Index::of(&idx, kind)?;
        let (n, hash) = (index.len(), kind.len());
        let min = (8 + 256 * 4 + 2 * hash) as u64 + n as u64 * (hash as u64 + 8);
        if data.len() < 12 + hash || !data.starts_with(b"PACK") || be32(&data, 8) as usize != n {
            return Err("not a pack file, or its object count disagrees with its index".into());
        }
        Ok(Pack {
            path,
            n,
            large: ((idx.len() as u64 - min) / 8) as usize,
            data,
            idx,
        })
    }

    /// The pack offset of `id`, if this pack holds it.
    fn find(&self, id: &[u8]) -> Option<Result<usize, String>> {
        let hash = id.len();
        let fan = |b: usize| be32(&self.idx, 8 + b * 4) as usize;
        let first = id[0] as usize;
        let (mut lo, mut hi) = (if first == 0 { 0 } else { fan(first - 1) }, fan(first));
        let names = 8 + 256 * 4;
        while lo < hi {
            let m = (lo + hi) / 2;
            let at = names + m * hash;
            match self.idx[at..at + hash].cmp(id) {
                std::cmp::Ordering::Less => lo = m + 1,
                std::cmp::Ordering::Greater => hi = m,
                std::cmp::Ordering::Equal => return Some(self.offset(m, hash)),
            }
        }
        None
    }

    /// The header of the entry at `off` (`pack::parse_header`, which reads
    /// the pack bytes before the trailing checksum).
    fn entry(&self, off: usize, kind: HashKind) -> Result<Header, String> {
        let d = &self.data[..self.data.len() - kind.len()];
        pack::parse_header(d, off, kind.len())
    }

    fn offset(&self, pos: usize, hash: usize) -> Result<usize, String> {
        let small = 8 + 256 * 4 + self.n * (hash + 4);
        let o = be32(&self.idx, small + pos * 4);
        let off = if o & 0x8000_0000 == 0 {
            u64::from(o)
        } else {
            let k = (o & 0x7fff_ffff) as usize;
            if k >= self.large {
                return Err("its index points past the 64-bit offset table".into());
            }
            let at = small + self.n * 4 + k * 8;
            u64::from_be_bytes(self.idx[at..at + 8].try_into().expect("8 bytes"))
        };
        usize::try_from(off)
            .ok()
            .filter(|&o| o >= 12 && o < self.data.len() - hash)
            .ok_or_else(|| format!("its index gives offset {off}, outside the pack"))
    }
}

impl Store {
    /// The store of the repository whose common git directory is
    /// `common_dir`, naming objects with `kind`.
    pub fn open(common_dir: &Path, kind: HashKind) -> Store {
        let objects = common_dir.join("objects");
        let mut dirs = vec![objects.clone()];
        if let Ok(text) = std::fs::read_to_string(objects.join("info").join("alternates")) {
            for line in text.lines().map(str::trim) {
                if !line.is_empty() && !line.starts_with('#') {
                    dirs.push(objects.join(line));
                }
            }
        }
        dirs.extend(super::objdirs::extra().iter().cloned());
        Store {
            kind,
            dirs,
            packs: OnceCell::new(),
        }
    }

    /// Packs that cannot be opened are left out: an object only they hold
    /// is then "not found", naming the object.
    fn packs(&self) -> &[Pack] {
        self.packs.get_or_init(|| {
            let mut out = Vec::new();
            for dir in &self.dirs {
                let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join("pack"))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "pack"))
                    .collect();
                paths.sort();
                out.extend(
                    paths
                        .into_iter()
                        .filter_map(|p| Pack::open(p, self.kind).ok()),
                );
            }
            out
        })
    }

    /// Reads object `id`: its type and content. An id of another hash, a
    /// missing object and damaged data are errors naming the object.
    pub fn read(&self, id: &ObjectId) -> Result<(ObjectType, Vec<u8>), StoreError> {
        if id.kind() != self.kind {
            return Err(StoreError(format!(
                "object {id}: a {} id in a {} repository",
                id.kind().name(),
                self.kind.name()
            )));
        }
        self.read_depth(id, 0)
    }

    /// The object whose id starts with the hex digits `prefix` (at least
    /// 4): `Ok(None)` when none does, an error naming the candidates when
    /// several do (git's "short object ID is ambiguous").
    pub fn find_prefix(&self, prefix: &str) -> Result<Option<ObjectId>, String> {
        let prefix = prefix.to_ascii_lowercase();
        if prefix.len() < 4
            || prefix.len() > self.kind.hex_len()
            || !prefix.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Ok(None);
        }
        // The smallest id with this prefix: the prefix padded with zeros.
        let mut low = [0u8; super::oid::MAX_LEN];
        let padded = format!("{prefix:0<width$}", width = self.kind.hex_len());
        hex::decode_to_slice(&padded, &mut low[..self.kind.len()]).map_err(|e| e.to_string())?;
        let low = &low[..self.kind.len()];
        let mut found: Vec<ObjectId> = Vec::new();
        let add = |found: &mut Vec<ObjectId>, id: ObjectId| {
            if !found.contains(&id) {
                found.push(id);
            }
        };
        for p in self.packs() {
            let hash = self.kind.len();
            let names = 8 + 256 * 4;
            let name = |m: usize| &p.idx[names + m * hash..names + (m + 1) * hash];
            let (mut lo, mut hi) = (0, p.n);
            while lo < hi {
                let m = (lo + hi) / 2;
                if name(m) < low {
                    lo = m + 1;
                } else {
                    hi = m;
                }
            }
            let mut m = lo;
            while m < p.n && hex::encode(name(m)).starts_with(&prefix) {
                add(
                    &mut found,
                    ObjectId::from_bytes(name(m)).expect("hash length"),
                );
                m += 1;
                if found.len() > 8 {
                    break;
                }
            }
        }
        for dir in &self.dirs {
            let Ok(entries) = std::fs::read_dir(dir.join(&prefix[..2])) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name();
                let Some(rest) = name.to_str() else { continue };
                if rest.starts_with(&prefix[2..]) {
                    if let Some(id) = ObjectId::from_hex_of(
                        self.kind,
                        format!("{}{rest}", &prefix[..2]).as_bytes(),
                    ) {
                        add(&mut found, id);
                    }
                }
            }
        }
        match found.len() {
            0 => Ok(None),
            1 => Ok(Some(found[0])),
            _ => {
                found.sort();
                let shown: Vec<String> = found.iter().take(8).map(ObjectId::to_string).collect();
                Err(format!(
                    "short object id {prefix} is ambiguous: it begins {}{}",
                    shown.join(", "),
                    if found.len() > 8 { ", …" } else { "" }
                ))
            }
        }
    }

    /// An object's type and size (read whole: one object at a time is
    /// what this store serves).
    pub fn header(&self, id: &ObjectId) -> Result<(ObjectType, u64), StoreError> {
        let (kind, data) = self.read(id)?;
        Ok((kind, data.len() as u64))
    }

    /// Whether some pack or object directory holds `id` (nothing is read).
    pub fn contains(&self, id: &ObjectId) -> bool {
        if id.kind() != self.kind {
            return false;
        }
        if self.packs().iter().any(|p| p.find(id.as_bytes()).is_some()) {
            return true;
        }
        let hex = id.to_string();
        self.dirs
            .iter()
            .any(|d| d.join(&hex[..2]).join(&hex[2..]).is_file())
    }

    /// Blob `id` as a stream when it is larger than `over` and stored loose
    /// or packed (whole or as a delta chain, `chain::open`), as
    /// `guard::Guard::stream` does for libgit2's repositories; `None`: read
    /// it whole.
    pub fn stream(
        &self,
        id: ObjectId,
        over: u64,
    ) -> Result<Option<super::stream::BlobStream<'_>>, StoreError> {
        if id.kind() != self.kind {
            return Ok(None);
        }
        for (i, p) in self.packs().iter().enumerate() {
            if let Some(off) = p.find(id.as_bytes()) {
                let named =
                    |e: String| StoreError(format!("object {id} in {}: {e}", p.path.display()));
                let off = off.map_err(named)?;
                return super::chain::open(&self, id, i, off as u64, over).map_err(named);
            }
        }
        super::stream::BlobStream::find_loose(id, &self.dirs, over).map_err(|e| StoreError(e.0))
    }

    fn read_depth(&self, id: &ObjectId, depth: usize) -> Result<(ObjectType, Vec<u8>), StoreError> {
        for (i, p) in self.packs().iter().enumerate() {
            if let Some(off) = p.find(id.as_bytes()) {
                let named =
                    |e: String| StoreError(format!("object {id} in {}: {e}", p.path.display()));
                let off = off.map_err(named)?;
                return self.read_packed(i, off, depth).map_err(|e| match e {
                    Fail::Here(e) => named(e),
                    Fail::Base(e) => e,
                });
            }
        }
        for dir in &self.dirs {
            let hex = id.to_string();
            let path = dir.join(&hex[..2]).join(&hex[2..]);
            match std::fs::read(&path) {
                Ok(raw) => {
                    return super::guard::parse_loose(&raw)
                        .map_err(|e| StoreError(format!("object {id} (loose): {e}")))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError(format!("object {id}: {e}"))),
            }
        }
        Err(StoreError(format!("object {id} not found")))
    }

    /// Decodes the entry at `off` of pack `i`: down its chain to a whole
    /// object (or a base read by id), then each delta applied going back up.
    fn read_packed(
        &self,
        i: usize,
        off: usize,
        depth: usize,
    ) -> Result<(ObjectType, Vec<u8>), Fail> {
        let p = &self.packs()[i];
        let mut chain: Vec<Header> = Vec::new();
        let mut at = off;
        let (code, mut data) = loop {
            if chain.len() + depth > MAX_CHAIN {
                return Err(Fail::Here(format!("delta chain longer than {MAX_CHAIN}")));
            }
            let e = p.entry(at, self.kind).map_err(Fail::Here)?;
            match e.base {
                Base::None => {
                    let whole = self.inflate(p, &e).map_err(Fail::Here)?;
                    break (e.code, whole);
                }
                Base::Offset(b) => {
                    at = b as usize;
                    chain.push(e);
                }
                Base::Id(b) => {
                    let (kind, whole) = self
                        .read_depth(&b, depth + chain.len() + 1)
                        .map_err(|e| Fail::Base(StoreError(format!("delta base: {e}"))))?;
                    chain.push(e);
                    let code = match kind {
                        ObjectType::Commit => pack::COMMIT,
                        ObjectType::Tree => pack::TREE,
                        ObjectType::Blob => pack::BLOB,
                        _ => pack::TAG,
                    };
                    break (code, whole);
                }
            }
        };
        let mut delta = Vec::new();
        let mut out = Vec::new();
        for e in chain.iter().rev() {
            self.inflate_into(p, e, &mut delta).map_err(Fail::Here)?;
            let (base, target, _) =
                pack::delta::sizes(&delta).map_err(|e| Fail::Here(e.to_string()))?;
            if base != data.len() as u64
                || target > pack::delta::max_target(delta.len() as u64, base)
            {
                return Err(Fail::Here("a delta's sizes do not fit its base".into()));
            }
            pack::delta::apply(&data, &delta, &mut out).map_err(|e| Fail::Here(e.to_string()))?;
            std::mem::swap(&mut data, &mut out);
        }
        Ok((pack::kind_of(code), data))
    }

    fn inflate(&self, p: &Pack, e: &Header) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        self.inflate_into(p, e, &mut out)?;
        Ok(out)
    }

    fn inflate_into(&self, p: &Pack, e: &Header, out: &mut Vec<u8>) -> Result<(), String> {
        use std::io::Read;
        let end = p.data.len() - self.kind.len();
        // The stream's end is not recorded (the next entry's offset would
        // need every offset sorted): inflate as a stream, which stops at its
        // end, and let the buffer grow only as bytes really come out, up to
        // one more than the entry claims.
        out.clear();
        let mut z = flate2::bufread::ZlibDecoder::new(&p.data[e.data..end]);
        (&mut z)
            .take(e.size.saturating_add(1))
            .read_to_end(out)
            .map_err(|err| format!("corrupt zlib stream ({err})"))?;
        if out.len() as u64 != e.size {
            return Err(format!(
                "inflates to {}{} bytes, the entry says {}",
                out.len(),
                if out.len() as u64 > e.size {
                    " or more"
                } else {
                    ""
                },
                e.size
            ));
        }
        Ok(())
    }
}

/// The packs as `chain::open` follows them: a base named by id is looked
/// up as `read` looks it up (packs in order, then loose).
impl<'a> super::chain::Packs<'a> for &'a Store {
    fn pack(&self, p: usize) -> &'a [u8] {
        let data = &self.packs()[p].data;
        &data[..data.len() - self.kind.len()]
    }

    fn hash(&self) -> usize {
        self.kind.len()
    }

    fn find(&self, id: &ObjectId, _from: usize) -> Option<Result<(usize, u64), String>> {
        self.packs()
            .iter()
            .enumerate()
            .find_map(|(j, p)| Some(p.find(id.as_bytes())?.map(|o| (j, o as u64))))
    }

    fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }
}

/// Where a packed read failed: in this entry, or in a base read by id
/// (whose error already names it).
enum Fail {
    Here(String),
    Base(StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@e", "-C"])
            .arg(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        out.stdout
    }

    /// Every object of a repository as `git cat-file --batch-all-objects`
    /// gives it, loose and then packed with deltas, in both formats.
    #[test]
    fn every_object_as_git_reads_it() {
        for (format, kind) in [("sha1", HashKind::Sha1), ("sha256", HashKind::Sha256)] {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path();
            git(dir, &["init", "-q", &format!("--object-format={format}")]);
            let mut text = String::new();
            for i in 0..30 {
                text += &format!("line {i} of a file that changes a little each time\n");
                std::fs::write(dir.join("f.txt"), &text).unwrap();
                std::fs::write(dir.join(format!("g{}.txt", i % 3)), text.repeat(2)).unwrap();
                git(dir, &["add", "-A"]);
                git(dir, &["commit", "-q", "-m", &format!("c{i}")]);
            }
            git(dir, &["tag", "-a", "-m", "t", "v1"]);
            for round in ["loose", "packed"] {
                let store = Store::open(&dir.join(".git"), kind);
                let list = git(
                    dir,
                    &[
                        "cat-file",
                        "--batch-all-objects",
                        "--batch-check=%(objectname) %(objecttype)",
                    ],
                );
                let list = String::from_utf8(list).unwrap();
                assert!(list.lines().count() > 100);
                for line in list.lines() {
                    let (hex, ty) = line.split_once(' ').unwrap();
                    let id = ObjectId::from_hex(hex.as_bytes()).unwrap();
                    assert_eq!(id.kind(), kind);
                    let (got_kind, data) = store.read(&id).unwrap();
                    assert_eq!(got_kind.str(), ty, "{round} {hex}");
                    assert_eq!(data, git(dir, &["cat-file", ty, hex]), "{round} {hex}");
                }
                git(dir, &["repack", "-adq", "--depth=50", "--window=50"]);
            }
            let missing = ObjectId::null(kind);
            assert!(store_err(dir, kind, &missing).contains("not found"));
        }
    }

    fn store_err(dir: &Path, kind: HashKind, id: &ObjectId) -> String {
        Store::open(&dir.join(".git"), kind).read(id).unwrap_err().0
    }

    /// Damaged packs: every byte changed, an error or the right content,
    /// never a panic or a huge allocation.
    #[test]
    fn damaged_packs_are_errors_never_panics() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q", "--object-format=sha256"]);
        let mut text = String::new();
        for i in 0..4 {
            text += &format!("line {i} of text\n");
            std::fs::write(dir.join("f"), &text).unwrap();
            git(dir, &["add", "-A"]);
            git(dir, &["commit", "-q", "-m", "x"]);
        }
        git(dir, &["repack", "-adq"]);
        let ids: Vec<ObjectId> = String::from_utf8(git(
            dir,
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objectname)",
            ],
        ))
        .unwrap()
        .lines()
        .map(|l| ObjectId::from_hex(l.as_bytes()).unwrap())
        .collect();
        let pack_dir = dir.join(".git/objects/pack");
        for ext in ["pack", "idx"] {
            let path = std::fs::read_dir(&pack_dir)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == ext))
                .unwrap();
            let good = std::fs::read(&path).unwrap();
            for at in (0..good.len()).step_by(7) {
                let mut bad = good.clone();
                bad[at] ^= 0x5a;
                std::fs::remove_file(&path).unwrap();
                std::fs::write(&path, &bad).unwrap();
                let store = Store::open(&dir.join(".git"), HashKind::Sha256);
                for id in &ids {
                    let _ = store.read(id);
                }
            }
            std::fs::remove_file(&path).unwrap();
            std::fs::write(&path, &good).unwrap();
        }
    }
}
