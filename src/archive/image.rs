//! Container images: which layer an entry is. OCI image layouts and
//! `docker save` tarballs keep layers as content-addressed blobs
//! (`blobs/sha256/<hex>`); each layer is a tar (often gzipped) opened like
//! any other, so files a later layer deletes with a whiteout are still read,
//! as they still ship. The config blob (environment, build history) is JSON
//! and scanned as text.

/// `sha256:<hex>` for a blob path `…blobs/sha256/<hex>`.
pub fn layer_of(name: &[u8]) -> Option<String> {
    let name = std::str::from_utf8(name).ok()?;
    let mut parts = name.rsplit('/');
    let hex = parts.next()?;
    let alg = parts.next()?;
    if parts.next()? != "blobs" {
        return None;
    }
    let ok = !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && !alg.is_empty()
        && alg.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| format!("{alg}:{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_paths_name_their_digest() {
        assert_eq!(
            layer_of(b"blobs/sha256/ab12").as_deref(),
            Some("sha256:ab12")
        );
        assert_eq!(
            layer_of(b"img/blobs/sha256/ab12").as_deref(),
            Some("sha256:ab12")
        );
        assert_eq!(layer_of(b"blobs/sha256/not-hex"), None);
        assert_eq!(layer_of(b"app/layer.tar"), None);
    }
}
