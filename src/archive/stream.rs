//! Single compressed streams: gzip, bzip2, xz, zstd. A stream holding a
//! tar is read as one, entry by entry, without holding the whole tar;
//! anything else is decompressed into memory (up to the entry size limit)
//! and handed on, named after the stream without its suffix.

use std::io::{self, Cursor, Read};

use super::detect::{self, Kind};
use super::walk::{read_capped, Walk};

pub fn walk(w: &mut Walk<'_>, kind: Kind, data: &[u8], name: &[u8]) {
    let decoder: Box<dyn Read + '_> = match kind {
        Kind::Gzip => Box::new(flate2::read::MultiGzDecoder::new(data)),
        Kind::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(data)),
        Kind::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(data)),
        Kind::Zstd => match ruzstd::decoding::StreamingDecoder::new(data) {
            Ok(d) => Box::new(d),
            Err(e) => return w.fail(format!("corrupt zstd stream: {e}")),
        },
        Kind::Zip | Kind::Tar | Kind::ImageConfig => return,
    };
    let what = format!("{} stream", kind.name());
    let mut reader = w.metered(decoder);
    let mut head = Vec::with_capacity(512);
    if let Err(e) = (&mut reader).take(512).read_to_end(&mut head) {
        return w.read_failed(None, &what, &e);
    }
    if detect::is_tar(&head) {
        return super::tar::walk_reader(w, Cursor::new(head).chain(reader));
    }
    let cap = w.limits().max_entry_size;
    let read: io::Result<_> = read_capped(Cursor::new(head).chain(reader), cap, 0);
    match read {
        Ok(Ok(buf)) => w.item(&detect::stem(name), &buf),
        Ok(Err(n)) => w.too_large(n),
        Err(e) => w.read_failed(None, &what, &e),
    }
}
