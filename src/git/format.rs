//! A repository's format, read from its configuration as git reads it
//! before touching anything else: `core.repositoryFormatVersion` and the
//! `extensions.*` keys, which say how objects are named
//! (`objectFormat`: sha1 or sha256), how refs are stored (`refStorage`:
//! files or reftable) and whether objects may be missing on purpose
//! (`partialClone`, and the `remote.<name>.promisor` remotes).
//!
//! An extension we do not know changes how the repository must be read, so
//! it fails closed, as git does: the error names the extension and this
//! leakscan's version. Only the repository's own `config` file (the common
//! directory's, for a linked worktree) is read, without includes: git reads
//! the format from there alone.

use std::path::{Path, PathBuf};

use super::oid::HashKind;

/// How refs are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefStorage {
    /// Loose files under `refs/` and `packed-refs`.
    #[default]
    Files,
    /// `reftable/`: a stack of binary tables (see `reftable`).
    Reftable,
}

/// What the configuration says about reading the repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Format {
    pub objects: HashKind,
    pub refs: RefStorage,
    /// Remotes that promise objects missing here (a partial clone): the
    /// `extensions.partialClone` remote and every `remote.<name>.promisor`.
    pub promisors: Vec<String>,
}

/// A repository this leakscan cannot read; the message says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError(pub String);

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Extensions that change nothing for a reader: `preciousObjects` (do not
/// delete objects), `worktreeConfig` (per-worktree config files),
/// `compatObjectFormat` (a second, translated set of ids kept alongside;
/// objects are still stored and named in `objectFormat`) and git's test
/// extensions `noop`/`noop-v1`.
const HARMLESS: [&str; 5] = [
    "preciousobjects",
    "worktreeconfig",
    "compatobjectformat",
    "noop",
    "noop-v1",
];

/// Extensions git honours only in format version 1.
const V1_ONLY: [&str; 4] = [
    "objectformat",
    "refstorage",
    "compatobjectformat",
    "noop-v1",
];

impl Format {
    /// Reads the format of the repository whose git directory is `git_dir`.
    /// No `config` at all is a plain version-0 repository.
    pub fn read(git_dir: &Path) -> Result<Format, FormatError> {
        let path = common_dir(git_dir).join("config");
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Format::default()),
            Err(e) => return Err(FormatError(format!("{}: {e}", path.display()))),
        };
        Format::parse(&text).map_err(|msg| FormatError(format!("{}: {msg}", path.display())))
    }

    /// The format a config file's text describes.
    pub fn parse(text: &[u8]) -> Result<Format, String> {
        let mut version = 0u32;
        let mut extensions: Vec<(String, String)> = Vec::new();
        let mut promisors = Vec::new();
        for item in config_items(text)? {
            match (
                item.section.as_str(),
                item.sub.as_deref(),
                item.key.as_str(),
            ) {
                ("core", None, "repositoryformatversion") => {
                    version = item.value.trim().parse().map_err(|_| {
                        format!(
                            "line {}: core.repositoryFormatVersion = {:?} is not a number",
                            item.line, item.value
                        )
                    })?;
                }
                ("extensions", None, _) => extensions.push((item.key, item.value)),
                ("remote", Some(name), "promisor") if truthy(&item.value) => {
                    promisors.push(name.to_string())
                }
                _ => {}
            }
        }
        if version > 1 {
            return Err(format!(
                "repository format version {version}; leakscan {} reads versions 0 and 1",
                env!("CARGO_PKG_VERSION")
            ));
        }
        let mut format = Format {
            promisors,
            ..Format::default()
        };
        for (key, value) in extensions {
            if version == 0 && V1_ONLY.contains(&key.as_str()) {
                // Git refuses these in a version-0 repository.
                return Err(format!(
                    "extensions.{key} needs repository format version 1, but \
                     core.repositoryFormatVersion is 0 (git refuses this repository too)"
                ));
            }
            match key.as_str() {
                "objectformat" => {
                    format.objects = match value.to_ascii_lowercase().as_str() {
                        "sha1" => HashKind::Sha1,
                        "sha256" => HashKind::Sha256,
                        _ => return Err(unknown_value(&key, &value)),
                    }
                }
                "refstorage" => {
                    format.refs = match value.to_ascii_lowercase().as_str() {
                        "files" => RefStorage::Files,
                        "reftable" => RefStorage::Reftable,
                        _ => return Err(unknown_value(&key, &value)),
                    }
                }
                "partialclone" => {
                    if !format.promisors.contains(&value) {
                        format.promisors.push(value)
                    }
                }
                k if HARMLESS.contains(&k) => {}
                // Version 0 ignores extensions it does not know (git does).
                _ if version == 0 => {}
                _ => {
                    return Err(format!(
                        "the repository uses extension `extensions.{key}`, which leakscan {} \
                         does not know how to read; refusing to scan it rather than miss objects \
                         (a newer leakscan may support it)",
                        env!("CARGO_PKG_VERSION")
                    ))
                }
            }
        }
        Ok(format)
    }

    /// Whether objects may be missing on purpose (a partial clone).
    #[allow(dead_code)] // TODO(#20): partial clones
    pub fn partial(&self) -> bool {
        !self.promisors.is_empty()
    }
}

fn unknown_value(key: &str, value: &str) -> String {
    format!(
        "extensions.{key} = {value:?} is not a value leakscan {} knows",
        env!("CARGO_PKG_VERSION")
    )
}

/// The directory holding the shared config, refs and objects: a linked
/// worktree's git directory names it in its `commondir` file.
pub fn common_dir(git_dir: &Path) -> PathBuf {
    match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(s) if !s.trim().is_empty() => git_dir.join(s.trim_end_matches(['\n', '\r'])),
        _ => git_dir.to_path_buf(),
    }
}

/// Git's boolean spellings of true.
fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "yes" | "on" | "1"
    )
}

/// One `key = value` of a config file. Section and key are lowercased
/// (git compares them case-insensitively); the subsection is kept as is.
#[derive(Debug)]
struct Item {
    section: String,
    sub: Option<String>,
    key: String,
    value: String,
    line: usize,
}

/// The items of a git config file: `[section]`, `[section "sub"]`,
/// `[section.sub]`, `key = value` (quotes, `\` escapes and continuation
/// lines in values), a bare `key` (true), `#`/`;` comments.
fn config_items(text: &[u8]) -> Result<Vec<Item>, String> {
    let text = String::from_utf8_lossy(text);
    let mut items = Vec::new();
    let (mut section, mut sub) = (String::new(), None::<String>);
    let mut lines = text.lines().enumerate();
    while let Some((n, raw)) = lines.next() {
        let line_no = n + 1;
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let mut line = line.to_string();
        if line.starts_with('[') {
            let end = line
                .find(']')
                .ok_or_else(|| format!("line {line_no}: unterminated section header"))?;
            let head = &line[1..end];
            match head.find(|c: char| c.is_whitespace()) {
                Some(sp) => {
                    section = head[..sp].to_ascii_lowercase();
                    let quoted = head[sp..].trim();
                    let inner = quoted
                        .strip_prefix('"')
                        .and_then(|q| q.strip_suffix('"'))
                        .ok_or_else(|| format!("line {line_no}: bad subsection in {head:?}"))?;
                    sub = Some(inner.replace("\\\"", "\"").replace("\\\\", "\\"));
                }
                None => match head.split_once('.') {
                    Some((s, rest)) => {
                        section = s.to_ascii_lowercase();
                        sub = Some(rest.to_ascii_lowercase());
                    }
                    None => {
                        section = head.to_ascii_lowercase();
                        sub = None;
                    }
                },
            }
            line = line[end + 1..].trim_start().to_string();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
        }
        let (key, rest) = match line.find('=') {
            Some(eq) => (
                line[..eq].trim().to_ascii_lowercase(),
                Some(line[eq + 1..].to_string()),
            ),
            None => {
                let key = line.split(['#', ';']).next().unwrap_or("").trim();
                (key.to_ascii_lowercase(), None)
            }
        };
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("line {line_no}: bad config line {:?}", raw.trim()));
        }
        let value = match rest {
            None => "true".to_string(),
            Some(mut rest) => {
                let (mut value, mut spaces) = (String::new(), 0);
                loop {
                    match parse_value(&rest, &mut value, &mut spaces) {
                        Ok(false) => break,
                        Ok(true) => match lines.next() {
                            Some((_, next)) => rest = next.to_string(),
                            None => break,
                        },
                        Err(e) => return Err(format!("line {line_no}: {e}")),
                    }
                }
                value
            }
        };
        items.push(Item {
            section: section.clone(),
            sub: sub.clone(),
            key,
            value,
            line: line_no,
        });
    }
    Ok(items)
}

/// Appends one line's part of a value to `out`, as git does: unquoted
/// runs of whitespace count as that many spaces, except at the start and
/// the end (`spaces` carries a run across a continuation line). `Ok(true)`
/// when the line ends in a continuation backslash.
fn parse_value(s: &str, out: &mut String, spaces: &mut usize) -> Result<bool, String> {
    let mut quoted = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if !quoted && (c == '#' || c == ';') {
            break;
        }
        if !quoted && c.is_whitespace() {
            if !out.is_empty() {
                *spaces += 1;
            }
            continue;
        }
        out.extend(std::iter::repeat(' ').take(std::mem::take(spaces)));
        match c {
            '"' => quoted = !quoted,
            '\\' => match chars.next() {
                None => return Ok(true),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('b') => {
                    out.pop();
                }
                Some(c @ ('"' | '\\')) => out.push(c),
                Some(c) => return Err(format!("bad escape \\{c}")),
            },
            c => out.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Format, String> {
        Format::parse(s.as_bytes())
    }

    #[test]
    fn a_plain_repository_is_sha1_with_files() {
        let f = parse("[core]\n\trepositoryformatversion = 0\n\tbare = false\n").unwrap();
        assert_eq!(f, Format::default());
        assert!(!f.partial());
    }

    #[test]
    fn git_3_defaults_are_read() {
        let f = parse(
            "[core]\n\trepositoryformatversion = 1\n[extensions]\n\tobjectformat = sha256\n\
             \trefStorage = reftable\n",
        )
        .unwrap();
        assert_eq!(f.objects, HashKind::Sha256);
        assert_eq!(f.refs, RefStorage::Reftable);
    }

    #[test]
    fn partial_clones_are_recognised_by_either_key() {
        let f = parse(
            "[core]\nrepositoryformatversion = 1\n[remote \"origin\"]\n\turl = x\n\
             \tpromisor = true\n\tpartialclonefilter = blob:none\n[extensions]\n\
             partialClone = origin\n",
        )
        .unwrap();
        assert_eq!(f.promisors, vec!["origin".to_string()]);
        let f = parse("[remote \"up\"]\npromisor\n").unwrap();
        assert_eq!(f.promisors, vec!["up".to_string()]);
    }

    #[test]
    fn unknown_extensions_fail_closed_naming_extension_and_version() {
        let e = parse("[core]\nrepositoryformatversion = 1\n[extensions]\nsubmarine = yes\n")
            .unwrap_err();
        assert!(e.contains("extensions.submarine"), "{e}");
        assert!(e.contains(env!("CARGO_PKG_VERSION")), "{e}");
        let e = parse("[core]\nrepositoryformatversion = 1\n[extensions]\nobjectformat = sha3\n")
            .unwrap_err();
        assert!(e.contains("sha3"), "{e}");
        let e = parse("[core]\nrepositoryformatversion = 2\n").unwrap_err();
        assert!(e.contains("version 2"), "{e}");
        // Version 0 ignores what it does not know, as git does ...
        assert!(parse("[extensions]\nsubmarine = yes\n").is_ok());
        // ... but refuses the version-1-only ones.
        assert!(parse("[extensions]\nobjectformat = sha256\n").is_err());
    }

    #[test]
    fn config_syntax_git_accepts() {
        let items = config_items(
            b"; comment\n[Core] # c\nA = \"x y\" # tail\nB = one \\\ntwo  \nC\n[a.B]\nd = e;f\n",
        )
        .unwrap();
        let got: Vec<_> = items
            .iter()
            .map(|i| {
                (
                    i.section.as_str(),
                    i.sub.as_deref(),
                    i.key.as_str(),
                    i.value.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("core", None, "a", "x y"),
                ("core", None, "b", "one two"),
                ("core", None, "c", "true"),
                ("a", Some("b"), "d", "e"),
            ]
        );
        assert!(config_items(b"[core\n").is_err());
        assert!(config_items(b"[core]\nx = \"open\n").is_err());
    }

    #[test]
    fn a_linked_worktree_reads_the_common_config() {
        let dir = std::env::temp_dir().join(format!("leakscan-format-{}", std::process::id()));
        let wt = dir.join("worktrees/w");
        std::fs::create_dir_all(&wt).unwrap();
        std::fs::write(wt.join("commondir"), "../..\n").unwrap();
        std::fs::write(
            dir.join("config"),
            "[core]\nrepositoryformatversion = 1\n[extensions]\nobjectformat = sha256\n",
        )
        .unwrap();
        assert_eq!(Format::read(&wt).unwrap().objects, HashKind::Sha256);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
