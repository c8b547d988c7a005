//! Reads git's index file (`.git/index`, or `$GIT_INDEX_FILE`) directly: the
//! entries (path, mode, blob id, stage, intent-to-add) and the cache-tree
//! extension. Nothing else: timestamps, stat data and the other extensions are
//! skipped.
//!
//! Why not libgit2's reader: it verifies the file's SHA-1 with collision
//! detection, validates every path and fills a hash map of all entries, which
//! takes about 80 ms on a 78k-file index, more than the whole pre-commit
//! budget; and it does not expose the cache tree, which is what lets the
//! staged scan skip every directory the change did not touch. Git itself
//! trusts the cache tree when it writes the commit, so using it judges exactly
//! what will be recorded.
//!
//! Versions 2, 3 and 4 (path prefix compression) with SHA-1 ids are read.
//! Split (`link`) and sparse (`sdir`) indexes are reported as `Unsupported`
//! and the caller falls back to libgit2.

use std::ops::Range;

/// Bytes of a SHA-1 object id.
const OID_LEN: usize = 20;
/// Fixed part of an on-disk entry before the path: ctime, mtime, dev, ino,
/// mode, uid, gid, size (10 × 4 bytes), the id, and 2 bytes of flags.
const ENTRY_FIXED: usize = 40 + OID_LEN + 2;

const FLAG_EXTENDED: u16 = 0x4000;
const FLAG_STAGE_MASK: u16 = 0x3000;
const EXT_FLAG_INTENT_TO_ADD: u16 = 0x2000;

/// One index entry. Its path is stored in `Index::paths`.
#[derive(Debug, Clone)]
pub struct Entry {
    path: Range<usize>,
    pub mode: u32,
    pub id: [u8; OID_LEN],
    /// 0 for a normal entry; 1–3 for the sides of an unresolved conflict.
    pub stage: u8,
    /// `git add -N`: listed, but not part of the next commit.
    pub intent_to_add: bool,
}

/// One cache-tree node: a directory of the index and, when still valid, the
/// id of the tree object it would be written as.
#[derive(Debug, Clone)]
pub struct TreeNode {
    name: Range<usize>,
    /// `None` when an update below this directory invalidated it.
    pub id: Option<[u8; OID_LEN]>,
    children: Vec<usize>,
}

/// The index's cache tree; node 0 is the root.
#[derive(Debug, Clone, Default)]
pub struct CacheTree {
    names: Vec<u8>,
    nodes: Vec<TreeNode>,
}

impl CacheTree {
    pub fn root(&self) -> Option<usize> {
        (!self.nodes.is_empty()).then_some(0)
    }

    pub fn node(&self, i: usize) -> &TreeNode {
        &self.nodes[i]
    }

    /// The child directory `name` of node `i`, if the cache tree lists it.
    pub fn child(&self, i: usize, name: &[u8]) -> Option<usize> {
        self.nodes[i]
            .children
            .iter()
            .copied()
            .find(|&c| &self.names[self.nodes[c].name.clone()] == name)
    }
}

/// A parsed index.
#[derive(Debug, Default)]
pub struct Index {
    /// Path storage: the file itself for versions 2 and 3, rebuilt paths for 4.
    paths: Vec<u8>,
    pub entries: Vec<Entry>,
    pub tree: Option<CacheTree>,
}

/// Why an index could not be read here.
#[derive(Debug)]
pub enum ReadError {
    /// A valid index using a feature this reader does not handle.
    Unsupported(String),
    /// Not an index, or damaged.
    Corrupt(String),
}

impl Entry {
    /// An entry whose path `Index::from_entries` sets.
    pub fn new(mode: u32, id: [u8; OID_LEN], stage: u8, intent_to_add: bool) -> Entry {
        Entry {
            path: 0..0,
            mode,
            id,
            stage,
            intent_to_add,
        }
    }
}

impl Index {
    pub fn path(&self, e: &Entry) -> &[u8] {
        &self.paths[e.path.clone()]
    }

    /// Builds an index from entries read elsewhere (the libgit2 fallback).
    /// There is no cache tree, so every directory gets compared.
    pub fn from_entries(items: impl IntoIterator<Item = (Vec<u8>, Entry)>) -> Index {
        let mut ix = Index::default();
        for (path, mut e) in items {
            let start = ix.paths.len();
            ix.paths.extend_from_slice(&path);
            e.path = start..ix.paths.len();
            ix.entries.push(e);
        }
        ix
    }

    /// Parses the bytes of an index file.
    pub fn parse(data: Vec<u8>) -> Result<Index, ReadError> {
        let corrupt = |what: &str| ReadError::Corrupt(format!("index: {what}"));
        if data.len() < 12 + OID_LEN || &data[..4] != b"DIRC" {
            return Err(corrupt("not a git index file"));
        }
        let version = be32(&data, 4);
        if !(2..=4).contains(&version) {
            return Err(ReadError::Unsupported(format!("index version {version}")));
        }
        let count = be32(&data, 8) as usize;
        let end = data.len() - OID_LEN;
        let mut entries = Vec::with_capacity(count.min(end / ENTRY_FIXED));
        // Version 4 paths are rebuilt here; 2 and 3 point into `data`.
        let mut rebuilt: Vec<u8> = Vec::new();
        let mut prev: Range<usize> = 0..0;
        let mut at = 12;
        for _ in 0..count {
            if at + ENTRY_FIXED > end {
                return Err(corrupt("truncated entry"));
            }
            let mode = be32(&data, at + 24);
            let mut id = [0u8; OID_LEN];
            id.copy_from_slice(&data[at + 40..at + 40 + OID_LEN]);
            let flags = be16(&data, at + 40 + OID_LEN);
            let mut p = at + ENTRY_FIXED;
            let mut intent_to_add = false;
            if flags & FLAG_EXTENDED != 0 {
                if version < 3 || p + 2 > end {
                    return Err(corrupt("bad extended flags"));
                }
                intent_to_add = be16(&data, p) & EXT_FLAG_INTENT_TO_ADD != 0;
                p += 2;
            }
            let path;
            if version == 4 {
                let (strip, n) = varint(&data[p..end]).ok_or_else(|| corrupt("bad path prefix"))?;
                p += n;
                let nul =
                    memchr::memchr(0, &data[p..end]).ok_or_else(|| corrupt("unterminated path"))?;
                let keep = prev
                    .len()
                    .checked_sub(strip)
                    .ok_or_else(|| corrupt("bad path prefix"))?;
                let start = rebuilt.len();
                rebuilt.extend_from_within(prev.start..prev.start + keep);
                rebuilt.extend_from_slice(&data[p..p + nul]);
                path = start..rebuilt.len();
                prev = path.clone();
                at = p + nul + 1;
            } else {
                let nul =
                    memchr::memchr(0, &data[p..end]).ok_or_else(|| corrupt("unterminated path"))?;
                path = p..p + nul;
                // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
                at += (p - at + nul + 8) & !7;
            }
            if mode & 0o170000 == 0o040000 {
                return Err(ReadError::Unsupported(
                    "sparse index (directory entries)".into(),
                ));
            }
            entries.push(Entry {
                path,
                mode,
                id,
                stage: ((flags & FLAG_STAGE_MASK) >> 12) as u8,
                intent_to_add,
            });
        }
        let mut tree = None;
        while at + 8 <= end {
            let sig = &data[at..at + 4];
            let size = be32(&data, at + 4) as usize;
            let body = at + 8;
            if body + size > end {
                return Err(corrupt("truncated extension"));
            }
            match sig {
                b"TREE" => {
                    tree = Some(
                        parse_tree(&data[body..body + size])
                            .ok_or_else(|| corrupt("bad cache tree"))?,
                    )
                }
                // Upper-case signatures are optional extensions a reader may ignore.
                [b'A'..=b'Z', ..] => {}
                other => {
                    return Err(ReadError::Unsupported(format!(
                        "index extension `{}` (split or sparse index)",
                        String::from_utf8_lossy(other)
                    )))
                }
            }
            at = body + size;
        }
        let paths = if version == 4 { rebuilt } else { data };
        Ok(Index {
            paths,
            entries,
            tree,
        })
    }
}

/// Parses the TREE extension: nodes in pre-order, each
/// `name NUL entry_count SP subtree_count LF [id]`, `entry_count` -1 when invalid.
fn parse_tree(data: &[u8]) -> Option<CacheTree> {
    let mut t = CacheTree::default();
    // (node, children still to read), iteratively so a hostile file cannot overflow the stack.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let nul = memchr::memchr(0, &data[at..])?;
        let name = &data[at..at + nul];
        at += nul + 1;
        let sp = memchr::memchr(b' ', &data[at..])?;
        let count: i64 = std::str::from_utf8(&data[at..at + sp]).ok()?.parse().ok()?;
        at += sp + 1;
        let lf = memchr::memchr(b'\n', &data[at..])?;
        let subtrees: usize = std::str::from_utf8(&data[at..at + lf]).ok()?.parse().ok()?;
        at += lf + 1;
        let id = if count >= 0 {
            let mut id = [0u8; OID_LEN];
            id.copy_from_slice(data.get(at..at + OID_LEN)?);
            at += OID_LEN;
            Some(id)
        } else {
            None
        };
        let start = t.names.len();
        t.names.extend_from_slice(name);
        let me = t.nodes.len();
        t.nodes.push(TreeNode {
            name: start..t.names.len(),
            id,
            children: Vec::with_capacity(subtrees.min(1024)),
        });
        match stack.last_mut() {
            Some((parent, left)) => {
                let parent = *parent;
                *left -= 1;
                t.nodes[parent].children.push(me);
            }
            None if me != 0 => return None,
            None => {}
        }
        stack.push((me, subtrees));
        while matches!(stack.last(), Some((_, 0))) {
            stack.pop();
        }
    }
    stack.is_empty().then_some(t)
}

fn be32(d: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([d[at], d[at + 1], d[at + 2], d[at + 3]])
}

fn be16(d: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([d[at], d[at + 1]])
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
        let t = parse_tree(&d).unwrap();
        let a = t.child(0, b"a").unwrap();
        assert_eq!(t.node(a).id, None);
        let b = t.child(a, b"b").unwrap();
        assert_eq!(t.node(b).id, Some([2; OID_LEN]));
        assert_eq!(t.node(t.child(0, b"c").unwrap()).id, Some([3; OID_LEN]));
        assert!(t.child(0, b"b").is_none());
        // A node claiming more subtrees than follow is damaged.
        assert!(parse_tree(&d[..d.len() - (8 + OID_LEN)]).is_none());
    }
}
