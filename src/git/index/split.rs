//! Split indexes (`git update-index --split-index`, `core.splitIndex`): the
//! index file holds only what changed since a shared index
//! (`sharedindex.<id>` in the git directory), named by its `link`
//! extension with two EWAH bitmaps over the shared entries: those deleted,
//! and those replaced (by the index's first entries, written without a
//! name). Entries are merged as git merges them (`merge_base_index`):
//! deletions, then replacements, then the index's other entries added in
//! order, an added entry replacing the one of the same path and stage. The
//! result is checked like any index (sorted, no duplicates), and held in
//! memory: a split index is small by design, and its cache tree is not used.
//! Ids are the repository's width (20 or 32 bytes), the shared index's
//! name included. Anything git would die on (a missing or damaged shared index, a bit past
//! its entries, a replacement with a name) is an error naming the file.

use std::fs::File;
use std::io;
use std::path::Path;

use super::{
    be32, corrupt, Checkpoints, HashKind, IndexEntry, IndexError, IndexFile, Order, Step, Stream,
    HEADER,
};
use crate::git::oid::ObjectId;

/// The entries git reads from the split index at `path` (shared index in
/// `git_dir`); `Ok(None)` when `path` is not a split index.
pub fn read_split(
    path: &Path,
    git_dir: &Path,
    kind: HashKind,
) -> Result<Option<Vec<IndexEntry>>, IndexError> {
    let hash = kind.len();
    let Some((own, link)) = read_unordered(path, hash)? else {
        return Ok(None);
    };
    let Some(link) = link else {
        return Ok(None);
    };
    let named = |what: &str| IndexError::Corrupt(format!("{}: {what}", path.display()));
    if link.len() < hash {
        return Err(named("corrupt link extension (too short)"));
    }
    let (id, rest) = link.split_at(hash);
    let shared: Vec<IndexEntry> = if id.iter().all(|&b| b == 0) {
        Vec::new()
    } else {
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let shared_path = git_dir.join(format!("sharedindex.{hex}"));
        let shared_err = |what: String| {
            IndexError::Corrupt(format!(
                "{}: the shared index of split index {}: {what}",
                shared_path.display(),
                path.display()
            ))
        };
        let file = match IndexFile::open(&shared_path, kind) {
            Ok(Some(f)) => f,
            Ok(None) => return Err(shared_err("missing".into())),
            Err(IndexError::Corrupt(e) | IndexError::Unsupported(e)) => return Err(shared_err(e)),
        };
        let mut all = Vec::with_capacity(file.count);
        file.for_each(|_, e| {
            all.push(IndexEntry {
                path: e.path.to_vec(),
                mode: e.mode,
                id: object_id(e.id, hash)?,
                stage: e.stage,
                intent_to_add: e.intent_to_add,
            });
            Ok::<_, IndexError>(Step::Next)
        })
        .map_err(|e| match e {
            IndexError::Corrupt(e) | IndexError::Unsupported(e) => shared_err(e),
        })?;
        all
    };
    let (delete, replace) = if rest.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let bits = |d: &[u8], what: &str| {
            ewah_bits(d, shared.len())
                .map_err(|e| named(&format!("link extension, {what} bitmap: {e}")))
        };
        let (delete, used) = bits(rest, "delete")?;
        let (replace, used2) = bits(&rest[used..], "replace")?;
        if used + used2 != rest.len() {
            return Err(named("garbage at the end of the link extension"));
        }
        (delete, replace)
    };
    merge(shared, own, &delete, &replace)
        .map(Some)
        .map_err(|e| named(&e))
}

/// Merges the index's own entries into the shared ones, as git does.
fn merge(
    shared: Vec<IndexEntry>,
    own: Vec<IndexEntry>,
    delete: &[usize],
    replace: &[usize],
) -> Result<Vec<IndexEntry>, String> {
    let mut base: Vec<(IndexEntry, bool)> = shared.into_iter().map(|e| (e, false)).collect();
    for &pos in delete {
        base[pos].1 = true;
    }
    if own.len() < replace.len() {
        return Err(format!(
            "{} replacements but {} entries",
            replace.len(),
            own.len()
        ));
    }
    let mut own = own.into_iter();
    for &pos in replace {
        let mut e = own.next().expect("counted");
        if !e.path.is_empty() {
            return Err(format!(
                "replacement entry for shared entry {pos} has a name"
            ));
        }
        let (dst, deleted) = &mut base[pos];
        if *deleted {
            return Err(format!("shared entry {pos} is both deleted and replaced"));
        }
        e.path = std::mem::take(&mut dst.path);
        *dst = e;
    }
    let mut added: Vec<IndexEntry> = own.collect();
    if let Some(i) = added.iter().position(|e| e.path.is_empty()) {
        return Err(format!("added entry {i} has no name"));
    }
    // Added entries go in order; one of the same path and stage replaces
    // the shared one (deleted or not); a merged one (stage 0) replaces
    // every stage of its path.
    added.sort_by(|a, b| (&a.path, a.stage).cmp(&(&b.path, b.stage)));
    added.dedup_by(|b, a| (&a.path, a.stage) == (&b.path, b.stage));
    let merged_paths: std::collections::HashSet<Vec<u8>> = added
        .iter()
        .filter(|e| e.stage == 0)
        .map(|e| e.path.clone())
        .collect();
    let keys: std::collections::HashSet<(Vec<u8>, u8)> =
        added.iter().map(|e| (e.path.clone(), e.stage)).collect();
    let kept = base.into_iter().filter_map(|(e, deleted)| {
        let gone =
            deleted || keys.contains(&(e.path.clone(), e.stage)) || merged_paths.contains(&e.path);
        (!gone).then_some(e)
    });
    let mut out: Vec<IndexEntry> = kept.chain(added).collect();
    out.sort_by(|a, b| (&a.path, a.stage).cmp(&(&b.path, b.stage)));
    // The result must be an index git would write.
    let mut order = Order::default();
    for e in &out {
        let flags = u16::from(e.stage) << 12;
        order.check(&e.path, flags, None).map_err(|e| match e {
            IndexError::Corrupt(e) | IndexError::Unsupported(e) => e,
        })?;
    }
    Ok(out)
}

/// The set bits of a serialized EWAH bitmap at the start of `d` (bit size,
/// word count, words, last run-length word position; all big-endian), each
/// below `limit`, and the bytes it takes.
fn ewah_bits(d: &[u8], limit: usize) -> Result<(Vec<usize>, usize), String> {
    if d.len() < 8 {
        return Err("truncated".into());
    }
    let words = be32(&d[4..8]) as usize;
    let size = words
        .checked_mul(8)
        .and_then(|n| n.checked_add(12))
        .filter(|&n| n <= d.len())
        .ok_or("truncated")?;
    let word = |i: usize| u64::from_be_bytes(d[8 + 8 * i..16 + 8 * i].try_into().expect("8 bytes"));
    let out_of_range = |bit: u64| format!("bit {bit} is past the shared index's {limit} entries");
    let mut bits = Vec::new();
    let (mut i, mut bit) = (0usize, 0u64);
    while i < words {
        let rlw = word(i);
        let run = (rlw >> 1) & 0xFFFF_FFFF;
        let literals = (rlw >> 33) as usize;
        let run_bits = run * 64;
        if rlw & 1 != 0 && run > 0 {
            if bit + run_bits > limit as u64 {
                return Err(out_of_range((bit + run_bits - 1).max(bit)));
            }
            bits.extend((bit..bit + run_bits).map(|b| b as usize));
        }
        bit += run_bits;
        if i + literals >= words {
            return Err("a literal run past its words".into());
        }
        for k in 0..literals {
            let w = word(i + 1 + k);
            for b in 0..64 {
                if w >> b & 1 != 0 {
                    let at = bit + b;
                    if at >= limit as u64 {
                        return Err(out_of_range(at));
                    }
                    bits.push(at as usize);
                }
            }
            bit += 64;
        }
        i += 1 + literals;
    }
    Ok((bits, size))
}

/// The entries of the index at `path` in file order, unchecked (a split
/// index's replacements have no name), and its `link` extension if any.
#[allow(clippy::type_complexity)]
fn read_unordered(
    path: &Path,
    hash: usize,
) -> Result<Option<(Vec<IndexEntry>, Option<Vec<u8>>)>, IndexError> {
    let io = |e: io::Error| IndexError::Corrupt(format!("{}: {e}", path.display()));
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let len = file.metadata().map_err(io)?.len();
    let mut s = Stream::new(&file, 0, len);
    if !s.fill(HEADER + hash).map_err(io)? || s.at(0, 4) != b"DIRC" {
        return Ok(None);
    }
    let version = be32(s.at(4, 4));
    let count = be32(s.at(8, 4)) as usize;
    if !(2..=4).contains(&version) {
        return Ok(None);
    }
    s.consume(HEADER);
    let ix = IndexFile {
        file: file.try_clone().map_err(io)?,
        hash,
        version,
        count,
        offsets: Vec::new(),
        checkpoints: Checkpoints::default(),
        entries_end: 0,
        tree: None,
        ordered: false,
    };
    let mut own = Vec::with_capacity(count.min(len as usize / super::entry_fixed(hash)));
    ix.entries(
        &mut s,
        Some(&mut |_, e| {
            own.push(IndexEntry {
                path: e.path.to_vec(),
                mode: e.mode,
                id: object_id(e.id, hash)?,
                stage: e.stage,
                intent_to_add: e.intent_to_add,
            });
            Ok(Step::Next)
        }),
        None,
    )?;
    let end = len
        .checked_sub(hash as u64)
        .ok_or_else(|| corrupt("truncated"))?;
    let mut link = None;
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
        if &sig == b"link" {
            if !s.fill(size).map_err(io)? {
                return Err(corrupt("truncated link extension"));
            }
            link = Some(s.at(0, size).to_vec());
            s.consume(size);
        } else {
            s.skip_to(s.offset() + size as u64);
        }
    }
    Ok(Some((own, link)))
}

/// An entry's id, `hash` bytes long (the repository's format); anything
/// else is damage, never a panic.
fn object_id(id: &[u8], hash: usize) -> Result<ObjectId, IndexError> {
    ObjectId::from_bytes(id)
        .filter(|_| id.len() == hash)
        .ok_or_else(|| IndexError::Corrupt(format!("an object id of {} bytes", id.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ewah(words: &[u64]) -> Vec<u8> {
        let mut d = 0u32.to_be_bytes().to_vec();
        d.extend((words.len() as u32).to_be_bytes());
        for w in words {
            d.extend(w.to_be_bytes());
        }
        d.extend(0u32.to_be_bytes());
        d
    }

    /// Real split indexes (replacements, deletions, additions, a conflict
    /// and its resolution) read as `git ls-files -s` lists them.
    #[test]
    fn split_indexes_read_as_git_lists_them() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path();
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .current_dir(repo)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_AUTHOR_NAME", "A")
                .env("GIT_AUTHOR_EMAIL", "a@example.com")
                .env("GIT_COMMITTER_NAME", "A")
                .env("GIT_COMMITTER_EMAIL", "a@example.com")
                .env_remove("GIT_DIR")
                .env_remove("GIT_INDEX_FILE")
                .args(args)
                .output()
                .unwrap();
            (out.status.success(), out.stdout)
        };
        let write = |p: &str, s: &str| {
            let p = repo.join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, s).unwrap();
        };
        let compare = |when: &str| {
            let (ok, out) = git(&["ls-files", "-s", "-z"]);
            assert!(ok);
            let want: Vec<String> = out
                .split(|&b| b == 0)
                .filter(|l| !l.is_empty())
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .collect();
            let git_dir = repo.join(".git");
            let got: Vec<String> = read_split(&git_dir.join("index"), &git_dir, HashKind::Sha1)
                .unwrap()
                .unwrap_or_else(|| panic!("{when}: not a split index"))
                .iter()
                .map(|e| {
                    let id = e.id.to_string();
                    let path = String::from_utf8_lossy(&e.path);
                    format!("{:06o} {id} {}\t{path}", e.mode, e.stage)
                })
                .collect();
            assert_eq!(got, want, "{when}");
        };
        assert!(git(&["init", "-q", "-b", "main"]).0);
        for i in 0..40 {
            write(&format!("src/f{i:02}.txt"), &format!("file {i}\n"));
        }
        assert!(git(&["add", "-A"]).0 && git(&["commit", "-qm", "init"]).0);
        assert!(git(&["update-index", "--split-index"]).0);
        write("src/f07.txt", "changed\n");
        write("src/new.txt", "new\n");
        write("a-first.txt", "first\n");
        assert!(git(&["rm", "-q", "src/f03.txt"]).0 && git(&["add", "-A"]).0);
        compare("replaced, deleted and added");
        assert!(git(&["commit", "-qm", "two"]).0);
        assert!(git(&["config", "core.splitIndex", "true"]).0);
        assert!(git(&["checkout", "-q", "-b", "side"]).0);
        write("src/f10.txt", "side\n");
        assert!(git(&["commit", "-qam", "side"]).0);
        assert!(git(&["checkout", "-q", "main"]).0);
        write("src/f10.txt", "main\n");
        assert!(git(&["commit", "-qam", "main"]).0);
        assert!(!git(&["merge", "-q", "side"]).0, "expected a conflict");
        compare("a conflict");
        write("src/f10.txt", "resolved\n");
        assert!(git(&["add", "src/f10.txt"]).0);
        compare("resolved");
        // Not a split index: `None`.
        assert!(git(&["update-index", "--no-split-index"]).0);
        let git_dir = repo.join(".git");
        assert!(read_split(&git_dir.join("index"), &git_dir, HashKind::Sha1)
            .unwrap()
            .is_none());
    }

    #[test]
    fn ewah_runs_and_literals() {
        // One marker: no run, two literal words.
        let d = ewah(&[2 << 33, 0b101, 1 << 63]);
        assert_eq!(ewah_bits(&d, 128).unwrap(), (vec![0, 2, 127], d.len()));
        // A run of one set word, then a literal.
        let d = ewah(&[(1 << 33) | (1 << 1) | 1, 0b1]);
        let (bits, _) = ewah_bits(&d, 200).unwrap();
        assert_eq!(bits, (0..65).collect::<Vec<_>>());
        // Past the shared entries, truncated, literals past the words.
        assert!(ewah_bits(&ewah(&[1 << 33, 1 << 10]), 10)
            .unwrap_err()
            .contains("bit 10"));
        assert!(ewah_bits(&ewah(&[(1 << 1) | 1]), 63)
            .unwrap_err()
            .contains("past"));
        assert!(ewah_bits(&d[..d.len() - 1], 200)
            .unwrap_err()
            .contains("truncated"));
        assert!(ewah_bits(&ewah(&[3 << 33, 0]), 200)
            .unwrap_err()
            .contains("literal"));
        // A huge run is refused before any bit is listed.
        assert!(ewah_bits(&ewah(&[(0xFFFF_FFFF << 1) | 1]), 100).is_err());
    }
}
