//! `leakscan install-hook` / `uninstall-hook`: write or remove a git
//! pre-commit hook that runs `leakscan staged`, or (`--pre-push`) a pre-push
//! hook that runs `leakscan pre-push`.
//!
//! The hook goes where git looks for hooks: `core.hooksPath` (absolute, or
//! relative to the work tree's top, as git resolves it), else `hooks/` in the
//! common git directory, which linked worktrees share. A hook that is not ours
//! is never overwritten silently: `--force` keeps it as `pre-commit.local`,
//! and our hook runs it first, so nothing is lost; `uninstall-hook` puts it
//! back. Our hook is recognised by its `MARKER` line.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::cli::HookArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::git::Locate;

/// The line that identifies a hook written by `install-hook`.
pub const MARKER: &str = "# leakscan-hook: pre-commit";
/// Where a replaced hook is kept, next to ours.
pub const CHAINED: &str = "pre-commit.local";

/// The hook script. It fails closed: if `leakscan` is missing or fails, the
/// commit is blocked with a message saying why.
const SCRIPT: &str = r#"#!/bin/sh
# leakscan-hook: pre-commit (installed by `leakscan install-hook`; `leakscan uninstall-hook` removes it)
#
# Blocks the commit when the staged change adds a secret. Fails closed: when
# leakscan is missing or cannot finish, the commit is blocked too.
# `git commit --no-verify` skips this hook for one commit.

hook_dir=$(dirname -- "$0")
if [ -x "$hook_dir/pre-commit.local" ]; then
    # The hook that was here before leakscan's, kept by `install-hook --force`.
    "$hook_dir/pre-commit.local" "$@" || exit $?
fi

if ! command -v leakscan >/dev/null 2>&1; then
    echo "leakscan pre-commit hook: 'leakscan' is not on PATH, so the staged change cannot be checked for secrets; commit blocked." >&2
    echo "Install leakscan or fix PATH; 'leakscan uninstall-hook' removes this hook." >&2
    exit 1
fi

leakscan staged
status=$?
case $status in
    0) exit 0 ;;
    # New secrets: leakscan has listed them and said what to do.
    1) exit 1 ;;
    *)
        echo "leakscan pre-commit hook: leakscan failed (exit code $status, see above), so the staged change was not fully checked; commit blocked." >&2
        exit 1
        ;;
esac
"#;

/// The marker line of the pre-push hook.
pub const PUSH_MARKER: &str = "# leakscan-hook: pre-push";
/// Where a replaced pre-push hook is kept.
pub const PUSH_CHAINED: &str = "pre-push.local";

/// The pre-push hook script. git gives the hook its input once, so it is
/// kept in a variable for the chained hook and for leakscan. Fails closed.
const PUSH_SCRIPT: &str = r#"#!/bin/sh
# leakscan-hook: pre-push (installed by `leakscan install-hook --pre-push`; `leakscan uninstall-hook --pre-push` removes it)
#
# Stops the push when a commit it would send adds a secret. Fails closed: when
# leakscan is missing or cannot finish, the push is stopped too.
# `git push --no-verify` skips this hook for one push.

hook_dir=$(dirname -- "$0")
input=$(cat)
if [ -x "$hook_dir/pre-push.local" ]; then
    # The hook that was here before leakscan's, kept by `install-hook --pre-push --force`.
    printf '%s\n' "$input" | "$hook_dir/pre-push.local" "$@" || exit $?
fi

if ! command -v leakscan >/dev/null 2>&1; then
    echo "leakscan pre-push hook: 'leakscan' is not on PATH, so the push cannot be checked for secrets; push stopped." >&2
    echo "Install leakscan or fix PATH; 'leakscan uninstall-hook --pre-push' removes this hook." >&2
    exit 1
fi

printf '%s\n' "$input" | leakscan pre-push "$@"
status=$?
case $status in
    0) exit 0 ;;
    1) exit 1 ;;
    *)
        echo "leakscan pre-push hook: leakscan failed (exit code $status, see above), so the push was not fully checked; push stopped." >&2
        exit 1
        ;;
esac
"#;

/// One kind of hook: its file name, marker line, chained file and script.
struct Kind {
    name: &'static str,
    marker: &'static str,
    chained: &'static str,
    script: &'static str,
}

const PRE_COMMIT: Kind = Kind {
    name: "pre-commit",
    marker: MARKER,
    chained: CHAINED,
    script: SCRIPT,
};

const PRE_PUSH: Kind = Kind {
    name: "pre-push",
    marker: PUSH_MARKER,
    chained: PUSH_CHAINED,
    script: PUSH_SCRIPT,
};

fn kind(args: &HookArgs) -> &'static Kind {
    if args.pre_push {
        &PRE_PUSH
    } else {
        &PRE_COMMIT
    }
}

pub fn install(args: HookArgs) -> Result<Exit> {
    let k = kind(&args);
    let dir = hooks_dir(args.repo.as_deref())?;
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let hook = dir.join(k.name);
    let chained = dir.join(k.chained);
    match read_hook(&hook)? {
        Some(text) if is_ours(&text, k) => {
            write_hook(&hook, k)?;
            verify(args.repo.as_deref(), &hook, k)?;
            eprintln!(
                "leakscan: updated the {} hook at {}",
                k.name,
                hook.display()
            );
        }
        Some(_) if !args.force => {
            return Err(Error::Usage(format!(
                "{}: a {} hook that leakscan did not install is already there; \
                 rerun with --force to keep it as {} and have the new hook run it first",
                hook.display(),
                k.name,
                k.chained
            )));
        }
        Some(_) => {
            if std::fs::symlink_metadata(&chained).is_ok() {
                return Err(Error::Usage(format!(
                    "{}: already exists, so the current hook cannot be kept there; move one of them away first",
                    chained.display()
                )));
            }
            std::fs::rename(&hook, &chained).map_err(|e| Error::io(&hook, e))?;
            write_hook(&hook, k)?;
            verify(args.repo.as_deref(), &hook, k)?;
            eprintln!(
                "leakscan: installed the {} hook at {}\n\
                 leakscan: the previous hook is kept as {} and still runs, before leakscan; \
                 `leakscan uninstall-hook{}` puts it back",
                k.name,
                hook.display(),
                chained.display(),
                if args.pre_push { " --pre-push" } else { "" }
            );
        }
        None => {
            write_hook(&hook, k)?;
            verify(args.repo.as_deref(), &hook, k)?;
            eprintln!(
                "leakscan: installed the {} hook at {}",
                k.name,
                hook.display()
            );
        }
    }
    Ok(Exit::Clean)
}

pub fn uninstall(args: HookArgs) -> Result<Exit> {
    let k = kind(&args);
    let dir = hooks_dir(args.repo.as_deref())?;
    let hook = dir.join(k.name);
    let chained = dir.join(k.chained);
    match read_hook(&hook)? {
        None => {
            eprintln!(
                "leakscan: no {} hook at {}; nothing to remove",
                k.name,
                hook.display()
            );
        }
        Some(text) if !is_ours(&text, k) => {
            return Err(Error::Usage(format!(
                "{}: this {} hook was not installed by leakscan; leaving it alone",
                hook.display(),
                k.name
            )));
        }
        Some(_) => {
            std::fs::remove_file(&hook).map_err(|e| Error::io(&hook, e))?;
            if std::fs::symlink_metadata(&chained).is_ok() {
                std::fs::rename(&chained, &hook).map_err(|e| Error::io(&chained, e))?;
                eprintln!(
                    "leakscan: removed leakscan's {} hook and restored the previous one from {}",
                    k.name,
                    chained.display()
                );
            } else {
                eprintln!(
                    "leakscan: removed the {} hook at {}",
                    k.name,
                    hook.display()
                );
            }
        }
    }
    Ok(Exit::Clean)
}

fn is_ours(text: &[u8], k: &Kind) -> bool {
    memchr::memmem::find(text, k.marker.as_bytes()).is_some()
}

/// The hook's content, `None` if there is none. A dangling symlink counts as
/// a hook that is there (it is somebody's), with empty content.
fn read_hook(hook: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(hook) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == ErrorKind::NotFound => match std::fs::symlink_metadata(hook) {
            Ok(_) => Ok(Some(Vec::new())),
            Err(_) => Ok(None),
        },
        Err(e) => Err(Error::io(hook, e)),
    }
}

fn write_hook(hook: &Path, k: &Kind) -> Result<()> {
    std::fs::write(hook, k.script).map_err(|e| Error::io(hook, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(hook, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io(hook, e))?;
    }
    Ok(())
}

/// Where git runs hooks from for the repository containing `path` (or the
/// one git's environment names): git itself is asked (`git rev-parse
/// --git-path hooks`), so `core.hooksPath` from any configuration source
/// (files, `GIT_CONFIG_COUNT`, `-c`), `~` expansion and worktrees are
/// resolved exactly as when git runs the hook.
fn hooks_dir(path: Option<&Path>) -> Result<PathBuf> {
    // A clear error when there is no repository at all.
    crate::git::Repo::open(match path {
        Some(p) => Locate::Discover(p),
        None => Locate::FromEnv,
    })?;
    git_path(path, "hooks")
}

/// `git rev-parse --git-path WHAT`, run in `path` (`--repo`, which then
/// overrides git's `GIT_DIR`) or here, as a path usable from here.
fn git_path(path: Option<&Path>, what: &str) -> Result<PathBuf> {
    let dir = path.unwrap_or(Path::new("."));
    let mut git = std::process::Command::new("git");
    git.args(["rev-parse", "--git-path", what]).current_dir(dir);
    if path.is_some() {
        git.env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_COMMON_DIR");
    }
    let out = git.output().map_err(|e| Error::Git {
        repo: dir.to_path_buf(),
        msg: format!("cannot run git to ask where it runs hooks: {e}"),
    })?;
    if !out.status.success() {
        return Err(Error::Git {
            repo: dir.to_path_buf(),
            msg: format!(
                "`git rev-parse --git-path {what}` failed, so git could not run a hook there either: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    let mut bytes = out.stdout;
    while bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    let p = crate::paths::from_bytes(&bytes);
    Ok(if p.is_absolute() { p } else { dir.join(p) })
}

/// After writing: asks git again which file it will run and checks that it
/// is the hook just written, so a hook git would never run is an error, not
/// a success message.
fn verify(path: Option<&Path>, hook: &Path, k: &Kind) -> Result<()> {
    let runs = git_path(path, &format!("hooks/{}", k.name))?;
    let ours = read_hook(&runs)?.is_some_and(|t| is_ours(&t, k));
    let same = match (runs.canonicalize(), hook.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if ours && same {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "wrote {} but git would run {} for {}: the hook would never run; \
         check core.hooksPath",
        hook.display(),
        runs.display(),
        k.name
    )))
}
