//! Trees in a compact form, for diffing a whole history in memory.
//!
//! A tree object is a list of `<octal mode> <name>\0<id>` entries (20-byte
//! ids in a SHA-1 repository, 32-byte ones in a SHA-256 one).
//! Across a history the same entries recur in thousands of tree versions, so
//! each distinct entry is stored once (`Interner`) and a tree becomes a list
//! of entry numbers: on the benchmark repository, 529 MB of tree objects are
//! 13 M entries but only ~400 k distinct ones. Equal numbers mean byte-equal
//! entries, which is all a diff needs to skip what did not change.
//!
//! `TreeStore` holds every tree of the packs, decoded once up front;
//! `Trees` is one worker's view: the shared store, plus trees it had to read
//! through `ObjectReader` (loose objects, or every tree when there is no
//! store), interned into a private extension of the entry numbers.

use std::sync::Arc;

use git2::ObjectType;

use super::odb::{ObjectReader, ReadError};
use super::oid::ObjectId as Oid;
use super::{OidMap, MODE_TREE, MODE_TYPE};

/// One tree entry, borrowed from a tree object's bytes.
#[derive(Clone, Copy)]
pub struct RawEntry<'a> {
    pub mode: u32,
    pub name: &'a [u8],
    pub oid: &'a [u8],
    /// The whole entry: equal bytes mean same mode, name and object.
    pub raw: &'a [u8],
}

/// The entries of a tree object's bytes; `None` at the first malformed one.
pub struct Entries<'a> {
    data: &'a [u8],
    pos: usize,
    /// Bytes of an id: 20 (SHA-1) or 32 (SHA-256).
    hash: usize,
}

impl<'a> Entries<'a> {
    /// A SHA-1 repository's tree.
    pub fn new(data: &'a [u8]) -> Entries<'a> {
        Entries::with_hash(data, 20)
    }

    /// A tree whose ids are `hash` bytes long.
    pub fn with_hash(data: &'a [u8], hash: usize) -> Entries<'a> {
        Entries { data, pos: 0, hash }
    }

    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = RawEntry<'a>;

    fn next(&mut self) -> Option<RawEntry<'a>> {
        let start = self.pos;
        let rest = self.data.get(start..)?;
        let mut mode = 0u32;
        let mut i = 0;
        while let Some(&c @ b'0'..=b'7') = rest.get(i) {
            mode = (mode << 3) | u32::from(c - b'0');
            i += 1;
        }
        if i == 0 || i > 7 || rest.get(i) != Some(&b' ') {
            return None;
        }
        let name_start = i + 1;
        let nul = name_start + memchr::memchr(0, rest.get(name_start..)?)?;
        let end = nul + 1 + self.hash;
        if end > rest.len() {
            return None;
        }
        self.pos = start + end;
        Some(RawEntry {
            mode,
            name: &rest[name_start..nul],
            oid: &rest[nul + 1..end],
            raw: &rest[..end],
        })
    }
}

/// A distinct tree entry.
#[derive(Clone, Copy)]
pub struct TreeEntry<'a> {
    pub mode: u32,
    pub name: &'a [u8],
    /// The object id.
    pub id: Oid,
}

impl TreeEntry<'_> {
    pub fn oid(&self) -> Oid {
        self.id
    }

    pub fn is_tree(&self) -> bool {
        self.mode & MODE_TYPE == MODE_TREE
    }

    /// Git's tree order: bytewise, a subtree's name followed by `/`.
    pub fn cmp_git(&self, other: &TreeEntry<'_>) -> std::cmp::Ordering {
        let n = self.name.len().min(other.name.len());
        self.name[..n].cmp(&other.name[..n]).then_with(|| {
            let end = |e: &TreeEntry<'_>| match e.name.get(n) {
                Some(&c) => c,
                None if e.is_tree() => b'/',
                None => 0,
            };
            end(self).cmp(&end(other))
        })
    }
}

/// FxHash-style hash of a raw entry (names and random ids; a collision
/// costs one more comparison, nothing else).
fn hash_raw(raw: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = raw.len() as u64;
    let mut chunks = raw.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    for &b in chunks.remainder() {
        h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
    }
    h
}

#[derive(Clone, Copy)]
struct Rec {
    mode: u32,
    /// The name, in `raws`.
    name_start: u32,
    name_len: u32,
    id: Oid,
}

/// Distinct tree entries, numbered from `first` in the order first seen.
/// Their raw bytes sit end to end in one buffer; the hash table holds only
/// numbers, so interning allocates nothing per entry.
pub struct Interner {
    first: u32,
    table: hashbrown::HashTable<u32>,
    hashes: Vec<u64>,
    raws: Vec<u8>,
    /// Where each entry's raw bytes start in `raws` (and one past the last).
    raw_starts: Vec<u32>,
    recs: Vec<Rec>,
}

impl Interner {
    pub fn new(first: u32) -> Interner {
        Interner {
            first,
            table: hashbrown::HashTable::new(),
            hashes: Vec::new(),
            raws: Vec::new(),
            raw_starts: vec![0],
            recs: Vec::new(),
        }
    }

    /// Numbers handed out so far end before this.
    pub fn end(&self) -> u32 {
        self.first + self.recs.len() as u32
    }

    fn raw(&self, i: usize) -> &[u8] {
        &self.raws[self.raw_starts[i] as usize..self.raw_starts[i + 1] as usize]
    }

    fn find(&self, raw: &[u8], hash: u64) -> Option<u32> {
        self.table
            .find(hash, |&i| self.raw(i as usize) == raw)
            .map(|&i| self.first + i)
    }

    fn get(&self, raw: &[u8]) -> Option<u32> {
        self.find(raw, hash_raw(raw))
    }

    fn insert(&mut self, e: &RawEntry<'_>, hash: u64) -> u32 {
        let i = self.recs.len() as u32;
        let name_at = self.raws.len() + (e.raw.len() - 1 - e.oid.len() - e.name.len());
        self.raws.extend_from_slice(e.raw);
        self.raw_starts.push(self.raws.len() as u32);
        self.recs.push(Rec {
            mode: e.mode,
            name_start: name_at as u32,
            name_len: e.name.len() as u32,
            id: Oid::from_bytes(e.oid).expect("tree entries hold ids of a hash's length"),
        });
        self.hashes.push(hash);
        let hashes = &self.hashes;
        self.table.insert_unique(hash, i, |&j| hashes[j as usize]);
        self.first + i
    }

    fn intern(&mut self, e: &RawEntry<'_>) -> u32 {
        let hash = hash_raw(e.raw);
        match self.find(e.raw, hash) {
            Some(id) => id,
            None => self.insert(e, hash),
        }
    }

    /// TreeEntry number `id`, which this interner handed out.
    fn entry(&self, id: u32) -> TreeEntry<'_> {
        let r = &self.recs[(id - self.first) as usize];
        TreeEntry {
            mode: r.mode,
            name: &self.raws[r.name_start as usize..(r.name_start + r.name_len) as usize],
            id: r.id,
        }
    }

    /// Interns the entries of a tree object whose ids are `hash` bytes long
    /// into `out`; `false` if the tree is malformed (`out` then holds a
    /// partial list).
    pub fn parse(&mut self, data: &[u8], hash: usize, out: &mut Vec<u32>) -> bool {
        let mut it = Entries::with_hash(data, hash);
        for e in it.by_ref() {
            out.push(self.intern(&e));
        }
        it.done()
    }
}

/// The trees of a pack set, each a span of entry numbers.
pub struct TreeStore {
    entries: Interner,
    trees: OidMap<(usize, u32)>,
    ids: Vec<u32>,
}

/// One thread's share of a `TreeStore` being built.
pub struct TreePart {
    interner: Interner,
    trees: Vec<(Oid, usize, u32)>,
    ids: Vec<u32>,
    /// Pack object number → index in `trees` (`u32::MAX`: none).
    by_num: Vec<u32>,
}

impl Default for TreePart {
    fn default() -> Self {
        TreePart {
            interner: Interner::new(0),
            trees: Vec::new(),
            ids: Vec::new(),
            by_num: Vec::new(),
        }
    }
}

impl TreePart {
    /// Adds tree `oid` (pack object `num`) with the object bytes `data`;
    /// `base` is the pack object it was decoded from, if that was added
    /// here too.
    pub fn add(&mut self, num: u32, oid: Oid, data: &[u8], base: Option<u32>) {
        let hash = oid.kind().len();
        let start = self.ids.len();
        let base = base
            .and_then(|b| self.by_num.get(b as usize))
            .filter(|&&t| t != u32::MAX)
            .map(|&t| self.trees[t as usize]);
        let ok = match base {
            Some((_, bs, bl)) => self.parse_against(data, hash, bs..bs + bl as usize),
            None => self.interner.parse(data, hash, &mut self.ids),
        };
        if ok {
            if self.by_num.len() <= num as usize {
                self.by_num.resize(num as usize + 1, u32::MAX);
            }
            self.by_num[num as usize] = self.trees.len() as u32;
            self.trees
                .push((oid, start, (self.ids.len() - start) as u32));
        } else {
            // Not stored: a diff that needs it reads it through libgit2,
            // which reports it.
            self.ids.truncate(start);
        }
    }

    /// `Interner::parse` for a tree that is a delta of the tree at
    /// `self.ids[base]`: most entries are the base's, in the same order, so
    /// each is first compared bytewise with the base's next entry (one
    /// comparison, no parsing or hashing); only the others are parsed.
    fn parse_against(&mut self, data: &[u8], hash: usize, base: std::ops::Range<usize>) -> bool {
        let mut at = base.start;
        let mut pos = 0;
        while pos < data.len() {
            if at < base.end {
                let id = self.ids[at];
                let raw = self.interner.raw((id - self.interner.first) as usize);
                if data[pos..].starts_with(raw) {
                    self.ids.push(id);
                    pos += raw.len();
                    at += 1;
                    continue;
                }
            }
            let mut it = Entries { data, pos, hash };
            let Some(e) = it.next() else { return false };
            pos = it.pos;
            let id = self.interner.intern(&e);
            self.ids.push(id);
            while at < base.end && self.interner.entry(self.ids[at]).name <= e.name {
                at += 1;
            }
        }
        true
    }
}

impl TreeStore {
    /// A store with no trees (every tree is then read on demand).
    pub fn empty() -> TreeStore {
        TreeStore {
            entries: Interner::new(0),
            trees: OidMap::default(),
            ids: Vec::new(),
        }
    }

    /// Merges the parts the threads built: one numbering for all entries
    /// (the first part's, extended by the others').
    pub fn merge(parts: Vec<TreePart>) -> TreeStore {
        let mut parts = parts.into_iter();
        let Some(first) = parts.next() else {
            return TreeStore::empty();
        };
        let mut store = TreeStore {
            entries: first.interner,
            trees: first
                .trees
                .into_iter()
                .map(|(oid, start, len)| (oid, (start, len)))
                .collect(),
            ids: first.ids,
        };
        for part in parts {
            let local = &part.interner;
            let remap: Vec<u32> = (0..local.recs.len())
                .map(|i| {
                    let (raw, hash) = (local.raw(i), local.hashes[i]);
                    match store.entries.find(raw, hash) {
                        Some(id) => id,
                        None => {
                            let e = local.entry(i as u32);
                            let e = RawEntry {
                                mode: e.mode,
                                name: e.name,
                                oid: e.id.as_bytes(),
                                raw,
                            };
                            store.entries.insert(&e, hash)
                        }
                    }
                })
                .collect();
            let base = store.ids.len();
            store
                .ids
                .extend(part.ids.iter().map(|&id| remap[id as usize]));
            for (oid, start, len) in part.trees {
                store.trees.insert(oid, (base + start, len));
            }
        }
        store
    }

    pub fn len(&self) -> usize {
        self.trees.len()
    }

    /// Whether the store holds tree `oid` (a sweep asks before reusing a
    /// store decoded for another repository).
    pub fn holds(&self, oid: &Oid) -> bool {
        self.tree(oid).is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.trees.is_empty()
    }

    /// Distinct entries and entry references.
    #[cfg(test)]
    pub fn sizes(&self) -> (usize, usize) {
        (self.entries.recs.len(), self.ids.len())
    }

    fn tree(&self, oid: &Oid) -> Option<&[u32]> {
        let &(start, len) = self.trees.get(oid)?;
        Some(&self.ids[start..start + len as usize])
    }
}

/// A tree's entry numbers: borrowed from the shared store, or a tree this
/// worker read itself.
#[derive(Clone)]
pub enum TreeIds<'s> {
    Shared(&'s [u32]),
    Local(Arc<[u32]>),
}

impl std::ops::Deref for TreeIds<'_> {
    type Target = [u32];

    fn deref(&self) -> &[u32] {
        match self {
            TreeIds::Shared(s) => s,
            TreeIds::Local(a) => a,
        }
    }
}

/// One worker's access to trees: the shared store first, then its own
/// recently read trees, then `ObjectReader`.
pub struct Trees<'s> {
    shared: &'s TreeStore,
    local: Interner,
    young: OidMap<Arc<[u32]>>,
    old: OidMap<Arc<[u32]>>,
    young_len: usize,
    budget: usize,
    reads: u64,
    scratch: Vec<u32>,
}

impl<'s> Trees<'s> {
    /// `budget`: about how many entry numbers of self-read trees to keep.
    pub fn new(shared: &'s TreeStore, budget: usize) -> Trees<'s> {
        Trees {
            shared,
            local: Interner::new(shared.entries.end()),
            young: OidMap::default(),
            old: OidMap::default(),
            young_len: 0,
            budget,
            reads: 0,
            scratch: Vec::new(),
        }
    }

    /// Trees read from the object store so far (not found in the shared
    /// store or the worker's cache).
    pub fn reads(&self) -> u64 {
        self.reads
    }

    pub fn entry(&self, id: u32) -> TreeEntry<'_> {
        if id < self.local.first {
            self.shared.entries.entry(id)
        } else {
            self.local.entry(id)
        }
    }

    pub fn get(&mut self, reader: &ObjectReader, oid: Oid) -> Result<TreeIds<'s>, ReadError> {
        if let Some(t) = self.shared.tree(&oid) {
            return Ok(TreeIds::Shared(t));
        }
        if let Some(t) = self.young.get(&oid) {
            return Ok(TreeIds::Local(t.clone()));
        }
        let tree = match self.old.remove(&oid) {
            Some(t) => t,
            None => {
                self.reads += 1;
                let mut ids = std::mem::take(&mut self.scratch);
                ids.clear();
                let parsed = reader.with_object(oid, |kind, data| match kind {
                    ObjectType::Tree => {
                        let (shared, local) = (self.shared, &mut self.local);
                        let mut it = Entries::with_hash(data, oid.kind().len());
                        for e in it.by_ref() {
                            let id = shared.entries.get(e.raw);
                            ids.push(id.unwrap_or_else(|| local.intern(&e)));
                        }
                        if it.done() {
                            Ok(())
                        } else {
                            Err(ReadError("malformed tree".into()))
                        }
                    }
                    other => Err(ReadError(format!("expected a tree, found a {other}"))),
                });
                let r = parsed
                    .and_then(|r| r)
                    .map(|()| Arc::<[u32]>::from(&ids[..]));
                self.scratch = ids;
                r?
            }
        };
        self.young_len += tree.len() + 8;
        self.young.insert(oid, tree.clone());
        if self.young_len > self.budget / 2 {
            self.old = std::mem::take(&mut self.young);
            self.young_len = 0;
        }
        Ok(TreeIds::Local(tree))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::MODE_GITLINK;

    fn tree(entries: &[(&str, &str, u8)]) -> Vec<u8> {
        let mut raw = Vec::new();
        for &(mode, name, id) in entries {
            raw.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            raw.extend_from_slice(&[id; 20]);
        }
        raw
    }

    #[test]
    fn entries_in_git_order() {
        let raw = tree(&[("100644", "a.b", 7), ("40000", "a", 7), ("160000", "z", 7)]);
        let mut i = Interner::new(0);
        let mut ids = Vec::new();
        assert!(i.parse(&raw, 20, &mut ids));
        let e: Vec<TreeEntry<'_>> = ids.iter().map(|&id| i.entry(id)).collect();
        assert_eq!(e.len(), 3);
        assert_eq!(
            (e[1].name, e[1].mode, e[1].is_tree()),
            (&b"a"[..], 0o40000, true)
        );
        assert_eq!(e[0].cmp_git(&e[1]), std::cmp::Ordering::Less);
        assert_eq!(e[1].cmp_git(&e[2]), std::cmp::Ordering::Less);
        assert_eq!(e[2].mode & MODE_TYPE, MODE_GITLINK);
        let mut ids = Vec::new();
        assert!(!i.parse(&raw[..raw.len() - 1], 20, &mut ids));
        assert!(!i.parse(b"10064x a\0", 20, &mut ids));
    }

    #[test]
    fn equal_entries_get_equal_numbers_across_parts() {
        let t1 = tree(&[("100644", "a", 1), ("100644", "b", 2)]);
        let t2 = tree(&[("100644", "a", 1), ("100755", "b", 2), ("100644", "c", 3)]);
        let t3 = tree(&[("100644", "b", 2), ("100644", "c", 3)]);
        let (o1, o2, o3) = (
            Oid::from_bytes(&[11; 20]).unwrap(),
            Oid::from_bytes(&[12; 20]).unwrap(),
            Oid::from_bytes(&[13; 20]).unwrap(),
        );
        let mut p1 = TreePart::default();
        p1.add(1, o1, &t1, None);
        // Decoded from tree 1: its unchanged entries are found by position.
        p1.add(2, o2, &t2, Some(1));
        let mut p2 = TreePart::default();
        p2.add(3, o3, &t3, None);
        p2.add(4, Oid::from_bytes(&[14; 20]).unwrap(), b"garbage", Some(3));
        let store = TreeStore::merge(vec![p1, p2]);
        assert_eq!(store.len(), 3);
        let garbage = Oid::from_bytes(&[14; 20]).unwrap();
        assert!(
            store.tree(&garbage).is_none(),
            "a malformed tree is not stored"
        );
        assert_eq!(store.sizes(), (4, 7));
        let (a, b, c) = (
            store.tree(&o1).unwrap(),
            store.tree(&o2).unwrap(),
            store.tree(&o3).unwrap(),
        );
        assert_eq!(a[0], b[0], "same a");
        assert_ne!(a[1], b[1], "b changed mode");
        assert_eq!(a[1], c[0], "same b, interned by different parts");
        assert_eq!(b[2], c[1], "same c");
        let e = store.entries.entry(c[1]);
        assert_eq!((e.name, e.mode), (&b"c"[..], 0o100644));
        assert_eq!(e.oid(), Oid::from_bytes(&[3; 20]).unwrap());
    }
}
