//! Refs stored as reftables (`extensions.refStorage = reftable`, Git 3.0's
//! default), read directly: libgit2 cannot read them.
//!
//! `reftable/tables.list` names a stack of table files, oldest first. Each
//! table holds ref records sorted by name; a newer table's record for a name
//! replaces every older one, and a deletion record hides it. A table is a
//! header (`REFT`, version 1 for SHA-1 or 2 with a hash id, the block size),
//! ref blocks (`r`), then optional index, object and log blocks, which a
//! reader listing refs does not need, and a footer (the header again, the
//! sections' offsets and a CRC-32). Inside a ref block a record is
//! `varint prefix_len, varint (suffix_len << 3 | type), suffix,
//! varint update_index_delta, value`: the name is the previous record's
//! first `prefix_len` bytes plus the suffix; the value is nothing (a
//! deletion), an id, an id and its peeled id (an annotated tag), or a
//! symbolic ref's target. Blocks end with 3-byte restart offsets and a
//! 2-byte count, and are padded with zeros to the block size unless the
//! next block starts right after.
//!
//! The whole stack is merged into one sorted map: a repository has few refs
//! compared with its objects, and every caller (HEAD, `--all`, a ref name, a
//! push's existing refs) asks about one ref or all of them. Damaged tables
//! are an error naming the file, never a panic; a table that disappears
//! while being read (git compacted the stack) makes the read start over.
//! Reflogs are not read.

// TODO(#20): the rest is used once history and push read these formats.
#![cfg_attr(not(test), allow(dead_code))]

use std::collections::BTreeMap;
use std::path::Path;

use super::oid::{HashKind, ObjectId};

/// What a ref holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefValue {
    /// An object id, and for an annotated tag the object it peels to.
    Direct {
        id: ObjectId,
        peeled: Option<ObjectId>,
    },
    /// Another ref's name (`HEAD` → `refs/heads/main`).
    Symbolic(Vec<u8>),
}

/// A problem with the reftable stack; the message names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReftableError(pub String);

impl std::fmt::Display for ReftableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What HEAD is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// On a branch that has commits.
    Branch { name: Vec<u8>, id: ObjectId },
    /// On a branch with no commit yet.
    Unborn(Vec<u8>),
    /// Detached at a commit.
    Detached(ObjectId),
}

/// Symbolic refs pointing at symbolic refs: git stops after five.
const MAX_SYMREF_DEPTH: usize = 5;
/// Times the stack is read again when a table vanished underneath (git
/// compacts the stack on most writes).
const RETRIES: usize = 8;

/// Every ref of a repository's reftable stack, merged.
#[derive(Debug, Default, Clone)]
pub struct Refs {
    refs: BTreeMap<Vec<u8>, RefValue>,
}

/// Per-worktree refs: a linked worktree keeps these in its own stack.
fn per_worktree(name: &[u8]) -> bool {
    name == b"HEAD"
        || [&b"refs/bisect/"[..], b"refs/worktree/", b"refs/rewritten/"]
            .iter()
            .any(|p| name.starts_with(p))
}

impl Refs {
    /// Reads the refs of the repository whose git directory is `git_dir`:
    /// the common directory's stack, and for a linked worktree its own
    /// per-worktree refs (HEAD among them) from its git directory's stack.
    pub fn read(git_dir: &Path, kind: HashKind) -> Result<Refs, ReftableError> {
        let common = super::format::common_dir(git_dir);
        let mut refs = Refs {
            refs: read_stack(&common.join("reftable"), kind)?,
        };
        if common != git_dir {
            let own = read_stack(&git_dir.join("reftable"), kind)?;
            refs.refs.retain(|name, _| !per_worktree(name));
            refs.refs
                .extend(own.into_iter().filter(|(name, _)| per_worktree(name)));
        }
        Ok(refs)
    }

    /// The ref stored under exactly this name.
    pub fn get(&self, name: &[u8]) -> Option<&RefValue> {
        self.refs.get(name)
    }

    /// Every ref, in name order (`HEAD` included; deletions already applied).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &RefValue)> {
        self.refs.iter().map(|(k, v)| (k.as_slice(), v))
    }

    /// Follows symbolic refs from `name`: the last name reached and its id
    /// (`None` when that ref does not exist, e.g. an unborn branch).
    pub fn resolve(&self, name: &[u8]) -> Result<(Vec<u8>, Option<ObjectId>), ReftableError> {
        let mut name = name.to_vec();
        for _ in 0..=MAX_SYMREF_DEPTH {
            match self.refs.get(&name) {
                None => return Ok((name, None)),
                Some(RefValue::Direct { id, .. }) => return Ok((name, Some(*id))),
                Some(RefValue::Symbolic(target)) => name = target.clone(),
            }
        }
        Err(ReftableError(format!(
            "{}: symbolic refs nested more than {MAX_SYMREF_DEPTH} deep",
            String::from_utf8_lossy(&name)
        )))
    }

    /// The id ref `name` leads to (`None`: no such ref, or it leads to a
    /// branch not born yet).
    pub fn resolve_id(&self, name: &[u8]) -> Option<ObjectId> {
        self.resolve(name).ok()?.1
    }

    /// Ref `name` as `git::Ref`.
    pub fn to_ref(&self, name: &[u8]) -> Option<super::repo::Ref> {
        let value = self.refs.get(name)?;
        Some(super::repo::Ref {
            name: name.to_vec(),
            symbolic: match value {
                RefValue::Symbolic(t) => Some(t.clone()),
                RefValue::Direct { .. } => None,
            },
            direct: match value {
                RefValue::Direct { id, .. } => Some(*id),
                RefValue::Symbolic(_) => None,
            },
            resolved: self.resolve_id(name),
        })
    }

    /// Annotated tag id → the object it peels to, as the records store it
    /// (git writes the peeled id with every tag ref), so a tag is peeled
    /// without reading it.
    pub fn peeled(&self) -> super::OidMap<ObjectId> {
        self.refs
            .values()
            .filter_map(|v| match v {
                RefValue::Direct {
                    id,
                    peeled: Some(p),
                } => Some((*id, *p)),
                _ => None,
            })
            .collect()
    }

    /// Every ref under `refs/` whose name starts with `prefix`, in name
    /// order (as git lists them).
    pub fn list(&self, prefix: &str) -> Vec<super::repo::Ref> {
        self.refs
            .range(prefix.as_bytes().to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix.as_bytes()))
            .filter(|(k, _)| k.starts_with(b"refs/"))
            .filter_map(|(k, _)| self.to_ref(k))
            .collect()
    }

    /// A short name resolved in git's order (`main` → `refs/heads/main`, …).
    pub fn short_name(&self, name: &str) -> Option<ObjectId> {
        [
            name.to_string(),
            format!("refs/{name}"),
            format!("refs/tags/{name}"),
            format!("refs/heads/{name}"),
            format!("refs/remotes/{name}"),
            format!("refs/remotes/{name}/HEAD"),
        ]
        .iter()
        .find_map(|n| self.resolve_id(n.as_bytes()))
    }

    /// What HEAD is.
    pub fn head(&self) -> Result<Head, ReftableError> {
        match self.refs.get(&b"HEAD"[..]) {
            None => Err(ReftableError("the reftable stack has no HEAD".into())),
            Some(RefValue::Direct { id, .. }) => Ok(Head::Detached(*id)),
            Some(RefValue::Symbolic(_)) => match self.resolve(b"HEAD")? {
                (name, Some(id)) => Ok(Head::Branch { name, id }),
                (name, None) => Ok(Head::Unborn(name)),
            },
        }
    }
}

/// Reads and merges one stack directory (`…/reftable`). A missing
/// directory or `tables.list` holds no refs.
fn read_stack(dir: &Path, kind: HashKind) -> Result<BTreeMap<Vec<u8>, RefValue>, ReftableError> {
    let list = dir.join("tables.list");
    'again: for _ in 0..RETRIES {
        let names = match std::fs::read_to_string(&list) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(ReftableError(format!("{}: {e}", list.display()))),
        };
        let mut merged: BTreeMap<Vec<u8>, Option<RefValue>> = BTreeMap::new();
        // Newest first: the first record seen for a name is the one in force.
        for name in names.lines().rev().filter(|l| !l.is_empty()) {
            if name.contains('/') || name.starts_with('.') {
                return Err(ReftableError(format!(
                    "{}: bad table name {name:?}",
                    list.display()
                )));
            }
            let path = dir.join(name);
            let data = match std::fs::read(&path) {
                Ok(d) => d,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue 'again,
                Err(e) => return Err(ReftableError(format!("{}: {e}", path.display()))),
            };
            read_table(&data, kind, &mut |name, value| {
                merged.entry(name.to_vec()).or_insert(value);
            })
            .map_err(|e| ReftableError(format!("{}: {e}", path.display())))?;
        }
        return Ok(merged
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect());
    }
    Err(ReftableError(format!(
        "{}: the tables kept changing while being read; try again",
        dir.display()
    )))
}

fn be(b: &[u8]) -> u64 {
    b.iter().fold(0, |acc, &x| (acc << 8) | u64::from(x))
}

/// A varint as reftables (and pack offsets) write it.
fn varint(data: &[u8], at: &mut usize) -> Result<u64, String> {
    let mut next = || {
        let b = *data.get(*at).ok_or("record runs past its block")?;
        *at += 1;
        Ok::<u8, String>(b)
    };
    let mut b = next()?;
    let mut val = u64::from(b & 0x7f);
    while b & 0x80 != 0 {
        b = next()?;
        val = val
            .checked_add(1)
            .and_then(|v| v.checked_mul(128))
            .ok_or("varint overflows")?
            | u64::from(b & 0x7f);
    }
    Ok(val)
}

fn take<'a>(data: &'a [u8], at: &mut usize, n: u64) -> Result<&'a [u8], String> {
    let end = usize::try_from(n)
        .ok()
        .and_then(|n| at.checked_add(n))
        .filter(|&e| e <= data.len())
        .ok_or("record runs past its block")?;
    let out = &data[*at..end];
    *at = end;
    Ok(out)
}

/// The number of ref records in one table's bytes (the fuzz target).
pub fn parse_table(data: &[u8], kind: HashKind) -> Result<usize, String> {
    let mut n = 0;
    read_table(data, kind, &mut |_, _| n += 1)?;
    Ok(n)
}

/// Calls `each` with every ref record of one table, in name order
/// (`None`: a deletion).
fn read_table(
    data: &[u8],
    kind: HashKind,
    each: &mut dyn FnMut(&[u8], Option<RefValue>),
) -> Result<(), String> {
    if data.len() < 24 || &data[..4] != b"REFT" {
        return Err("not a reftable (no REFT header)".into());
    }
    let version = data[4];
    let header_len = match version {
        1 => 24,
        2 => 28,
        v => {
            return Err(format!(
                "reftable version {v}; leakscan reads versions 1 and 2"
            ))
        }
    };
    let footer_len = header_len + 5 * 8 + 4;
    if data.len() < header_len + footer_len {
        return Err("truncated table".into());
    }
    let table_kind = match version {
        1 => HashKind::Sha1,
        _ => match &data[24..28] {
            b"sha1" => HashKind::Sha1,
            b"s256" => HashKind::Sha256,
            other => {
                return Err(format!(
                    "unknown hash id {:?}",
                    String::from_utf8_lossy(other)
                ))
            }
        },
    };
    if table_kind != kind {
        return Err(format!(
            "table holds {} ids in a {} repository",
            table_kind.name(),
            kind.name()
        ));
    }
    let footer = &data[data.len() - footer_len..];
    let crc = zlib_rs::crc32::crc32(0, &footer[..footer_len - 4]);
    if footer[..header_len] != data[..header_len] || be(&footer[footer_len - 4..]) != u64::from(crc)
    {
        return Err("damaged footer (header mismatch or bad CRC-32)".into());
    }
    let block_size = be(&data[5..8]) as usize;
    let end = data.len() - footer_len;
    let hash = kind.len();
    let mut off = 0usize;
    let mut name: Vec<u8> = Vec::new();
    let mut last: Option<Vec<u8>> = None;
    while off < end {
        let head = if off == 0 { header_len } else { off };
        if head + 4 > end || data[head] != b'r' {
            break; // index, object or log blocks: the refs are done.
        }
        let block_len = be(&data[head + 1..head + 4]) as usize;
        let block_end = off + block_len;
        if block_end > end || block_len < (head - off) + 4 + 2 {
            return Err(format!("ref block at {off} runs past the table"));
        }
        let block = &data[..block_end];
        let restarts = be(&block[block_end - 2..]) as usize;
        let records_end = (block_end - 2)
            .checked_sub(3 * restarts)
            .filter(|&e| e >= head + 4 && restarts > 0)
            .ok_or_else(|| format!("ref block at {off}: bad restart count {restarts}"))?;
        let mut at = head + 4;
        name.clear();
        while at < records_end {
            let records = &data[..records_end];
            let prefix = varint(records, &mut at)? as usize;
            let suffix_type = varint(records, &mut at)?;
            if prefix > name.len() {
                return Err(format!(
                    "ref record at {at}: prefix longer than the previous name"
                ));
            }
            name.truncate(prefix);
            name.extend_from_slice(take(records, &mut at, suffix_type >> 3)?);
            varint(records, &mut at)?; // update_index_delta
            let value = match suffix_type & 7 {
                0 => None,
                1 => Some(RefValue::Direct {
                    id: ObjectId::from_bytes(take(records, &mut at, hash as u64)?)
                        .expect("hash length"),
                    peeled: None,
                }),
                2 => {
                    let id = take(records, &mut at, hash as u64)?;
                    let peeled = take(records, &mut at, hash as u64)?;
                    Some(RefValue::Direct {
                        id: ObjectId::from_bytes(id).expect("hash length"),
                        peeled: ObjectId::from_bytes(peeled),
                    })
                }
                3 => {
                    let len = varint(records, &mut at)?;
                    Some(RefValue::Symbolic(take(records, &mut at, len)?.to_vec()))
                }
                t => return Err(format!("ref record at {at}: value type {t} in a ref block")),
            };
            if last.as_ref().is_some_and(|l| *l >= name) {
                return Err(format!(
                    "ref {:?} out of order",
                    String::from_utf8_lossy(&name)
                ));
            }
            last = Some(name.clone());
            each(&name, value);
        }
        let next = if block_size == 0 || data.get(block_end).is_some_and(|&b| b != 0) {
            block_end
        } else {
            off + block_size
        };
        if next <= off {
            return Err(format!("ref block at {off}: no progress"));
        }
        off = next;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table built by hand: version 2 (SHA-256) when `kind` says so.
    fn table(kind: HashKind, block_size: u32, blocks: &[Vec<u8>]) -> Vec<u8> {
        let mut header = b"REFT".to_vec();
        header.push(if kind == HashKind::Sha1 { 1 } else { 2 });
        header.extend_from_slice(&block_size.to_be_bytes()[1..]);
        header.extend_from_slice(&1u64.to_be_bytes());
        header.extend_from_slice(&9u64.to_be_bytes());
        if kind == HashKind::Sha256 {
            header.extend_from_slice(b"s256");
        }
        let mut out = header.clone();
        for (i, records) in blocks.iter().enumerate() {
            let start = if i == 0 { 0 } else { out.len() };
            let first = out.len() + 4;
            let len = out.len() - start + 4 + records.len() + 3 + 2;
            out.push(b'r');
            out.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
            out.extend_from_slice(records);
            out.extend_from_slice(&(first as u32).to_be_bytes()[1..]);
            out.extend_from_slice(&1u16.to_be_bytes());
            if block_size > 0 && i + 1 < blocks.len() {
                out.resize(start + block_size as usize, 0);
            }
        }
        let mut footer = header;
        footer.extend_from_slice(&[0u8; 40]);
        let crc = zlib_rs::crc32::crc32(0, &footer);
        footer.extend_from_slice(&crc.to_be_bytes());
        out.extend_from_slice(&footer);
        out
    }

    fn record(prefix: usize, suffix: &[u8], kind: u8, value: &[u8]) -> Vec<u8> {
        let mut r = vec![prefix as u8, ((suffix.len() as u8) << 3) | kind];
        r.extend_from_slice(suffix);
        r.push(0);
        r.extend_from_slice(value);
        r
    }

    fn all(data: &[u8], kind: HashKind) -> Result<Vec<(String, Option<RefValue>)>, String> {
        let mut out = Vec::new();
        read_table(data, kind, &mut |n, v| {
            out.push((String::from_utf8_lossy(n).into_owned(), v))
        })?;
        Ok(out)
    }

    #[test]
    fn prefix_compressed_records_across_padded_blocks() {
        let id = [7u8; 32];
        let mut b1 = record(0, b"HEAD", 3, b"\x0frefs/heads/main");
        b1.extend(record(0, b"refs/heads/a", 1, &id));
        let mut b2 = record(0, b"refs/heads/main", 1, &id);
        b2.extend(record(11, b"x", 0, b""));
        b2.extend(record(5, b"tags/v1", 2, &[id, [8; 32]].concat()));
        let t = table(HashKind::Sha256, 256, &[b1, b2]);
        let got = all(&t, HashKind::Sha256).unwrap();
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "HEAD",
                "refs/heads/a",
                "refs/heads/main",
                "refs/heads/x",
                "refs/tags/v1"
            ]
        );
        assert_eq!(
            got[0].1,
            Some(RefValue::Symbolic(b"refs/heads/main".to_vec()))
        );
        assert_eq!(got[3].1, None);
        assert_eq!(
            got[4].1,
            Some(RefValue::Direct {
                id: ObjectId::from_bytes(&id).unwrap(),
                peeled: ObjectId::from_bytes(&[8; 32]),
            })
        );
    }

    #[test]
    fn damaged_tables_are_errors_never_panics() {
        let t = table(
            HashKind::Sha1,
            0,
            &[record(0, b"refs/heads/a", 1, &[1; 20])],
        );
        assert_eq!(all(&t, HashKind::Sha1).unwrap().len(), 1);
        assert!(all(&t, HashKind::Sha256).unwrap_err().contains("sha1 ids"));
        // Every truncation and every single-byte change: an error or a
        // result, never a panic.
        for n in 0..t.len() {
            let _ = all(&t[..n], HashKind::Sha1);
            for x in [0u8, 0x7f, 0x80, 0xff] {
                let mut bad = t.clone();
                bad[n] ^= x;
                let _ = all(&bad, HashKind::Sha1);
            }
        }
        let mut crc = t.clone();
        let last = crc.len() - 1;
        crc[last] ^= 1;
        assert!(all(&crc, HashKind::Sha1).unwrap_err().contains("CRC"));
        // A prefix longer than the previous name.
        let t = table(HashKind::Sha1, 0, &[record(3, b"x", 0, b"")]);
        assert!(all(&t, HashKind::Sha1).is_err());
    }

    #[test]
    fn varints_and_their_overflow() {
        let mut at = 0;
        assert_eq!(varint(&[0x80, 0x00], &mut at), Ok(128));
        let mut at = 0;
        assert!(varint(&[0xff; 12], &mut at).is_err());
    }

    #[test]
    fn symbolic_chains_and_head() {
        let id = ObjectId::from_bytes(&[3; 20]).unwrap();
        let mut refs = Refs::default();
        refs.refs.insert(
            b"HEAD".to_vec(),
            RefValue::Symbolic(b"refs/heads/s".to_vec()),
        );
        refs.refs.insert(
            b"refs/heads/s".to_vec(),
            RefValue::Symbolic(b"refs/heads/m".to_vec()),
        );
        assert_eq!(refs.head(), Ok(Head::Unborn(b"refs/heads/m".to_vec())));
        refs.refs.insert(
            b"refs/heads/m".to_vec(),
            RefValue::Direct { id, peeled: None },
        );
        assert_eq!(
            refs.head(),
            Ok(Head::Branch {
                name: b"refs/heads/m".to_vec(),
                id
            })
        );
        refs.refs.insert(
            b"refs/heads/m".to_vec(),
            RefValue::Symbolic(b"HEAD".to_vec()),
        );
        assert!(refs.head().is_err());
    }

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            // Git 2.47 compacts the stack on most writes; keep it growing.
            .env("GIT_TEST_REFTABLE_AUTOCOMPACTION", "false")
            .args(["-c", "user.name=t", "-c", "user.email=t@e", "-C"])
            .arg(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {:?}", out);
        String::from_utf8(out.stdout).unwrap()
    }

    /// `git for-each-ref` as our reader sees the stack: `id name` lines,
    /// symbolic refs resolved, HEAD left out (as git does).
    fn ours(refs: &Refs) -> String {
        let mut out = String::new();
        for (name, _) in refs.iter().filter(|(n, _)| n.starts_with(b"refs/")) {
            let (_, id) = refs.resolve(name).unwrap();
            out += &format!("{} {}\n", id.unwrap(), String::from_utf8_lossy(name));
        }
        out
    }

    /// The same repository history in each object format: every ref, tag,
    /// symbolic ref, stash and HEAD as git resolves them, before and after
    /// compaction, with many tables, deletions and a detached HEAD.
    #[test]
    fn every_ref_as_git_resolves_it() {
        for (format, kind) in [("sha1", HashKind::Sha1), ("sha256", HashKind::Sha256)] {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path();
            git(
                dir,
                &[
                    "init",
                    "-q",
                    "--ref-format=reftable",
                    &format!("--object-format={format}"),
                ],
            );
            let refs = Refs::read(&dir.join(".git"), kind).unwrap();
            let unborn = git(dir, &["symbolic-ref", "HEAD"]);
            assert_eq!(
                refs.head(),
                Ok(Head::Unborn(unborn.trim().as_bytes().to_vec()))
            );
            std::fs::write(dir.join("f"), "one").unwrap();
            git(dir, &["add", "f"]);
            git(dir, &["commit", "-q", "-m", "one"]);
            git(dir, &["tag", "-a", "-m", "t", "v1"]);
            git(dir, &["tag", "light"]);
            // Many tables: git auto-compacts some, not all; turn it off for part.
            for i in 0..40 {
                git(dir, &["update-ref", &format!("refs/heads/b{i:02}"), "HEAD"]);
            }
            git(dir, &["update-ref", "-d", "refs/heads/b07"]);
            for i in 0..20 {
                git(dir, &["branch", &format!("n{i}")]);
            }
            git(dir, &["branch", "-D", "n3"]);
            git(dir, &["symbolic-ref", "refs/heads/alias", "refs/heads/b01"]);
            std::fs::write(dir.join("f"), "two").unwrap();
            git(dir, &["stash", "-q"]);
            // Enough refs for many blocks, restart points and an index once compacted.
            let head = git(dir, &["rev-parse", "HEAD"]);
            let mut cmds = String::new();
            for i in 0..3000 {
                cmds += &format!("create refs/tags/many/t{i:05} {}\n", head.trim());
            }
            let mut child = std::process::Command::new("git")
                .env("GIT_TEST_REFTABLE_AUTOCOMPACTION", "false")
                .arg("-C")
                .arg(dir)
                .args(["update-ref", "--stdin"])
                .stdin(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(cmds.as_bytes())
                .unwrap();
            assert!(child.wait().unwrap().success());
            let tables = std::fs::read_to_string(dir.join(".git/reftable/tables.list")).unwrap();
            assert!(tables.lines().count() > 10, "{tables}");
            let want = git(dir, &["for-each-ref", "--format=%(objectname) %(refname)"]);
            for round in ["stacked", "compacted"] {
                let refs = Refs::read(&dir.join(".git"), kind).unwrap();
                assert_eq!(ours(&refs), want, "{format} {round}");
                let head = git(dir, &["rev-parse", "HEAD"]);
                match refs.head().unwrap() {
                    Head::Branch { id, .. } => assert_eq!(id.to_string(), head.trim()),
                    other => panic!("{other:?}"),
                }
                let peeled = git(dir, &["rev-parse", "v1^{}"]);
                match refs.get(b"refs/tags/v1") {
                    Some(RefValue::Direct {
                        peeled: Some(p), ..
                    }) => {
                        assert_eq!(p.to_string(), peeled.trim())
                    }
                    other => panic!("{other:?}"),
                }
                assert!(refs.get(b"refs/heads/b07").is_none());
                git(dir, &["pack-refs", "--all"]);
            }
            assert_eq!(
                std::fs::read_to_string(dir.join(".git/reftable/tables.list"))
                    .unwrap()
                    .lines()
                    .count(),
                1
            );
            // Detached HEAD.
            git(dir, &["checkout", "-q", "--detach", "HEAD"]);
            let refs = Refs::read(&dir.join(".git"), kind).unwrap();
            let head = git(dir, &["rev-parse", "HEAD"]);
            assert_eq!(
                refs.head(),
                Ok(Head::Detached(
                    ObjectId::from_hex(head.trim().as_bytes()).unwrap()
                ))
            );
            // A linked worktree has its own HEAD.
            git(dir, &["worktree", "add", "-q", "-b", "side", "wt"]);
            let wt_git = git(&dir.join("wt"), &["rev-parse", "--git-dir"]);
            let refs = Refs::read(Path::new(wt_git.trim()), kind).unwrap();
            assert!(
                matches!(refs.head(), Ok(Head::Branch { name, .. }) if name == b"refs/heads/side")
            );
            assert_eq!(
                ours(&refs),
                git(dir, &["for-each-ref", "--format=%(objectname) %(refname)"])
            );
        }
    }
}
