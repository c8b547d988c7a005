//! Test support: runs the real `git` in a directory with a fixed identity
//! and returns its standard output (the unit tests of the readers compare
//! what they read with what git says).

use std::path::Path;

/// `git -C dir ARGS`, which must succeed; its standard output.
pub fn run(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@e", "-C"])
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}
