//! The zip family (zip, jar, war, wheel, apk, nupkg, Office files, …),
//! read from memory with the `zip` crate. Entries whose data overlap (the
//! overlapping-entry bomb) make the whole archive refused; encrypted entries
//! are reported, never guessed at.

use std::io::Cursor;

use ::zip::ZipArchive;

use super::walk::{read_capped, Walk};

pub fn walk(w: &mut Walk<'_>, data: &[u8]) {
    let mut z = match ZipArchive::new(Cursor::new(data)) {
        Ok(z) => z,
        Err(e) => return w.fail(format!("corrupt zip: {e}")),
    };
    // Each entry's local header and data, in file order, must not overlap
    // the next: overlapping entries expand one deflate stream many times.
    let mut spans = Vec::with_capacity(z.len());
    for i in 0..z.len() {
        match z.by_index_raw(i) {
            Ok(f) => spans.push((
                f.header_start(),
                f.data_start().saturating_add(f.compressed_size()),
            )),
            Err(e) => return w.fail(format!("corrupt zip: entry {i}: {e}")),
        }
    }
    spans.sort_unstable();
    if spans.windows(2).any(|s| s[0].1 > s[1].0) {
        return w.fail("zip entries overlap (a zip bomb?); not scanned".into());
    }
    let cap = w.limits().max_entry_size;
    for i in 0..z.len() {
        if w.stopped() || !w.count_entry() {
            return;
        }
        let (name, size, encrypted) = match z.by_index_raw(i) {
            Ok(f) => {
                if f.is_dir() {
                    continue;
                }
                // The file-type bits say symlink (not `ZipFile::is_symlink`,
                // which tests only some of them and takes files for links).
                if f.unix_mode().is_some_and(|m| m & 0o170000 == 0o120000) {
                    w.link();
                    continue;
                }
                (f.name_raw().to_vec(), f.size(), f.encrypted())
            }
            Err(e) => {
                w.fail(format!("corrupt zip: entry {i}: {e}"));
                continue;
            }
        };
        if encrypted {
            w.fail_entry(&name, "encrypted; not scanned".into());
            continue;
        }
        if size > cap {
            w.too_large(size);
            continue;
        }
        let read = match z.by_index(i) {
            Ok(f) => read_capped(w.metered(f), cap, size),
            Err(e) => {
                w.fail_entry(&name, format!("cannot read: {e}"));
                continue;
            }
        };
        match read {
            Ok(Ok(buf)) => w.item(&name, &buf),
            Ok(Err(n)) => w.too_large(n),
            Err(e) => w.read_failed(Some(&name), "zip entry", &e),
        }
    }
}
