//! The tar family: a tar read as a stream (from memory, or from a
//! decompressor: `.tar.gz` npm packages, sdists and `.crate` files, image
//! layers), one entry in memory at a time.

use std::io::Read;

use super::walk::{read_capped, Walk};

pub fn walk(w: &mut Walk<'_>, data: &[u8]) {
    walk_reader(w, data);
}

pub fn walk_reader(w: &mut Walk<'_>, reader: impl Read) {
    let mut ar = ::tar::Archive::new(reader);
    let entries = match ar.entries() {
        Ok(e) => e,
        Err(e) => return w.read_failed(None, "tar", &e),
    };
    let cap = w.limits().max_entry_size;
    for entry in entries {
        if w.stopped() || !w.count_entry() {
            return;
        }
        let entry = match entry {
            Ok(e) => e,
            Err(e) => return w.read_failed(None, "tar", &e),
        };
        let kind = entry.header().entry_type();
        // A hard link's content is its target's, read where that is.
        if kind.is_hard_link() {
            continue;
        }
        if kind.is_symlink() {
            w.link();
            continue;
        }
        if !(kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse()) {
            continue;
        }
        let name = entry.path_bytes().into_owned();
        let size = entry.size();
        if size > cap {
            w.too_large(size);
            continue;
        }
        match read_capped(entry, cap, size) {
            Ok(Ok(buf)) => w.item(&name, &buf),
            Ok(Err(n)) => w.too_large(n),
            Err(e) => return w.read_failed(Some(&name), "tar entry", &e),
        }
    }
}
