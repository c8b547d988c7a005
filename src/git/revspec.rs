//! Revision arguments (`main`, `v1.2^{}`-free forms, `HEAD~3`, `origin/main^2`,
//! a full or abbreviated id) resolved to commits, and files read as of a
//! commit, with every object read through the checked `ObjectReader`.
//!
//! libgit2's revision parser reads the objects it walks without our checks
//! (a damaged pack can crash it), so the common forms are resolved here: a
//! ref name or an object id, full or abbreviated (a unique prefix; an
//! ambiguous one is an error naming the candidates), then any number of
//! `~N` / `^N` steps over commits read and parsed by us. Only the rare forms
//! (`@{…}`, `^{…}`, `:/text`) still go to libgit2's parser, in SHA-1
//! repositories with files refs; elsewhere they are refused with a message.

use git2::ObjectType;

use super::oid::ObjectId as Oid;

use super::odb::{ObjectReader, ReadError};
use super::trees::Entries;
use super::MODE_TREE;

/// The commit `spec` names.
pub fn commit(reader: &ObjectReader, spec: &str) -> Result<Oid, String> {
    let (base, steps) = split(spec);
    let based = match steps {
        Some(_) => lookup(reader, base)?,
        None => None,
    };
    let id = match based {
        Some(id) => id,
        None => match (lookup(reader, spec)?, reader.repo()) {
            (Some(id), _) => return peel_commit(reader, &format!("`{spec}`"), id),
            // libgit2's parser would resolve names without the reftable.
            (None, Some(_)) if reader.reftable().is_some() => {
                return Err(format!(
                    "unknown revision `{spec}` (in a reftable repository, leakscan reads ref \
                     names, ids and ~N/^N)"
                ))
            }
            (None, None) => {
                return Err(format!(
                    "unknown revision `{spec}` (in a SHA-256 repository, leakscan reads ref \
                     names, full or abbreviated ids and ~N/^N)"
                ))
            }
            (None, Some(repo)) => repo
                .revparse_single(spec)
                .map_err(|e| format!("unknown revision `{spec}`: {}", e.message()))?
                .id()
                .into(),
        },
    };
    let mut c = peel_commit(reader, &format!("`{base}`"), id)?;
    for (kind, n) in steps.unwrap_or_default() {
        c = step(reader, spec, c, kind, n)?;
    }
    Ok(c)
}

/// A ref name or an object id (full, or a unique prefix of at least 4
/// digits), resolved without reading any object: refs first, as git does.
/// An ambiguous prefix is an error.
fn lookup(reader: &ObjectReader, name: &str) -> Result<Option<Oid>, String> {
    let kind = reader.kind();
    if let Some(refs) = reader.reftable() {
        if let Some(id) = refs.short_name(name) {
            return Ok(Some(id));
        }
    } else if let Some(n) = reader.native() {
        if let Some(id) = n.short_name(name) {
            return Ok(Some(id));
        }
    } else if let Some(repo) = reader.repo() {
        if let Ok(id) = repo
            .resolve_reference_from_short_name(name)
            .and_then(|r| r.resolve())
            .map(|r| r.target())
        {
            return Ok(id.map(Oid::from));
        }
    }
    if !(4..=kind.hex_len()).contains(&name.len()) || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    if name.len() == kind.hex_len() {
        return Ok(Oid::from_hex_of(kind, name.as_bytes()));
    }
    match (reader.repo(), reader.native()) {
        (_, Some(n)) => n.store().find_prefix(name),
        (Some(repo), _) => {
            let Ok(short) = git2::Oid::from_str(name) else {
                return Ok(None);
            };
            let Ok(odb) = repo.odb() else {
                return Ok(None);
            };
            match odb.exists_prefix(short, name.len()) {
                Ok(id) => Ok(Some(id.into())),
                Err(e) if e.code() == git2::ErrorCode::Ambiguous => Err(format!(
                    "short object id {name} is ambiguous (give more digits)"
                )),
                Err(_) => Ok(None),
            }
        }
        (None, None) => Ok(None),
    }
}

/// `~` (first parent, N times) or `^` (the N-th parent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Ancestor,
    Parent,
}

/// Splits `spec` into a base and its trailing `~N` / `^N` steps; `None`
/// when the suffix holds anything else (left to libgit2).
fn split(spec: &str) -> (&str, Option<Vec<(Step, u32)>>) {
    let Some(at) = spec.find(['~', '^']).filter(|&i| i > 0) else {
        return (spec, None);
    };
    let (base, mut rest) = spec.split_at(at);
    let mut steps = Vec::new();
    while let Some(c) = rest.chars().next() {
        let kind = match c {
            '~' => Step::Ancestor,
            '^' => Step::Parent,
            _ => return (spec, None),
        };
        rest = &rest[1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n = match digits {
            0 => 1,
            _ => match rest[..digits].parse() {
                Ok(n) => n,
                Err(_) => return (spec, None),
            },
        };
        rest = &rest[digits..];
        steps.push((kind, n));
    }
    (base, Some(steps))
}

fn step(reader: &ObjectReader, spec: &str, mut c: Oid, kind: Step, n: u32) -> Result<Oid, String> {
    let parents = |c: Oid| -> Result<Vec<Oid>, String> {
        reader
            .commit(c)
            .map(|d| d.parents)
            .map_err(|e| format!("`{spec}`: commit {c}: {e}"))
    };
    match kind {
        Step::Parent if n == 0 => Ok(c),
        Step::Parent => parents(c)?
            .get(n as usize - 1)
            .copied()
            .ok_or_else(|| format!("`{spec}`: commit {c} has no parent {n}")),
        Step::Ancestor => {
            for _ in 0..n {
                c = *parents(c)?
                    .first()
                    .ok_or_else(|| format!("`{spec}`: commit {c} has no parent"))?;
            }
            Ok(c)
        }
    }
}

/// Follows annotated tags from `id` to a commit, reading every object
/// through the checked reader. A damaged object, or a non-commit at the
/// end, is an error naming `what` and the object.
pub fn peel_commit(reader: &ObjectReader, what: &str, id: Oid) -> Result<Oid, String> {
    match peel(reader, id) {
        Ok((ObjectType::Commit, c)) => Ok(c),
        Ok((kind, o)) => Err(format!(
            "{what} points to {} {o}, not a commit (a damaged repository?)",
            kind.str()
        )),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

/// Follows annotated tags from `id`: the type and id of the object at the
/// end.
pub fn peel(reader: &ObjectReader, mut id: Oid) -> Result<(ObjectType, Oid), ReadError> {
    let hash = reader.kind();
    for _ in 0..64 {
        let (kind, target) = reader.with_object(id, |kind, data| {
            let target = (kind == ObjectType::Tag)
                .then(|| tag_target(data, hash))
                .flatten();
            (kind, target)
        })?;
        match (kind, target) {
            (ObjectType::Tag, Some(t)) => id = t,
            (ObjectType::Tag, None) => {
                return Err(ReadError(format!("tag {id}: no `object` line")));
            }
            (kind, _) => return Ok((kind, id)),
        }
    }
    Err(ReadError(format!("tag {id}: a chain of more than 64 tags")))
}

/// The tag `id`'s target: `Some` for a tag with an `object` line, `None`
/// for a tag without one; an error for an unreadable object.
pub(super) fn peel_once(reader: &ObjectReader, id: Oid) -> Result<Option<Oid>, ReadError> {
    let hash = reader.kind();
    reader.with_object(id, |_, data| tag_target(data, hash))
}

/// The id on a tag object's `object` line.
fn tag_target(data: &[u8], hash: super::oid::HashKind) -> Option<Oid> {
    data.strip_prefix(b"object ")
        .and_then(|rest| rest.get(..hash.hex_len()))
        .and_then(|hex| Oid::from_hex_of(hash, hex))
}

/// The entry at `path` (`/`-separated) in `tree`, or `None` when nothing is
/// there (a missing name, or a name under something that is not a tree).
pub(super) fn entry_in(
    reader: &ObjectReader,
    tree: Oid,
    path: &[u8],
) -> Result<Option<super::repo::Entry>, String> {
    let mut id = tree;
    let hash = reader.kind().len();
    let mut parts = path
        .split(|&b| b == b'/')
        .filter(|p| !p.is_empty())
        .peekable();
    if parts.peek().is_none() {
        return Ok(None);
    }
    while let Some(name) = parts.next() {
        let found = reader
            .with_object(id, |kind, data| {
                if kind != ObjectType::Tree {
                    return Err(format!("object {id} is a {}, not a tree", kind.str()));
                }
                Ok(Entries::with_hash(data, hash)
                    .find(|e| e.name == name)
                    .and_then(|e| Some((e.mode, Oid::from_bytes(e.oid)?))))
            })
            .map_err(|e| e.to_string())??;
        let Some((mode, oid)) = found else {
            return Ok(None);
        };
        id = oid;
        if parts.peek().is_none() {
            return Ok(Some(super::repo::Entry { mode, id }));
        }
        if mode & super::MODE_TYPE != MODE_TREE {
            return Ok(None);
        }
    }
    Ok(None)
}

/// The bytes of `path` (`/`-separated) in `commit`'s tree, or `None` when
/// there is no file there (a missing name, a directory, a submodule).
pub fn read_path(
    reader: &ObjectReader,
    commit: Oid,
    path: &[u8],
) -> Result<Option<Vec<u8>>, String> {
    let tree = reader
        .commit(commit)
        .map_err(|e| format!("commit {commit}: {e}"))?
        .tree;
    let Some(entry) = entry_in(reader, tree, path)? else {
        return Ok(None);
    };
    if entry.mode & super::MODE_TYPE != super::MODE_FILE {
        return Ok(None);
    }
    let id = entry.id;
    reader
        .with_object(id, |kind, data| match kind {
            ObjectType::Blob => Ok(Some(data.to_vec())),
            other => Err(format!("object {id} is a {}, not a blob", other.str())),
        })
        .map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_steps() {
        assert_eq!(split("main"), ("main", None));
        assert_eq!(split("HEAD~3"), ("HEAD", Some(vec![(Step::Ancestor, 3)])));
        assert_eq!(
            split("origin/main^2~"),
            (
                "origin/main",
                Some(vec![(Step::Parent, 2), (Step::Ancestor, 1)])
            )
        );
        assert_eq!(split("v1^{}"), ("v1^{}", None));
        assert_eq!(split("main@{1}"), ("main@{1}", None));
        assert_eq!(split("^main"), ("^main", None));
        assert_eq!(split("a~99999999999"), ("a~99999999999", None));
    }
}
