//! Container images: which layer an entry is. OCI image layouts and
//! `docker save` tarballs keep layers as content-addressed blobs
//! (`blobs/sha256/<hex>`); each layer is a tar (often gzipped) opened like
//! any other, so files a later layer deletes with a whiteout are still read,
//! as they still ship. The config blob (environment, labels, build history)
//! is JSON; its strings are matched one per line (`config_view`).

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

/// A blob named like an image config (`blobs/<alg>/<hex>`, or `<hex>.json`
/// in a legacy `docker save`) that is a JSON object with `rootfs`.
pub fn is_config(bytes: &[u8], name: &[u8]) -> bool {
    // The cheap test first: this runs for every file scanned.
    if bytes.first() != Some(&b'{') {
        return false;
    }
    let base = match memchr::memrchr(b'/', name) {
        Some(i) => &name[i + 1..],
        None => name,
    };
    let legacy = base.len() == 69
        && base.ends_with(b".json")
        && base[..64].iter().all(u8::is_ascii_hexdigit);
    (legacy || layer_of(name).is_some())
        && bytes.first() == Some(&b'{')
        && memchr::memmem::find(bytes, b"\"rootfs\"").is_some()
}

/// Every string of an image config, one per line: a string in an object
/// as `key=value`, in an array (`Env`, `Cmd`) as it is; newlines inside
/// become spaces. `None` if it is not JSON.
pub fn config_view(bytes: &[u8]) -> Option<Vec<u8>> {
    fn walk(v: &serde_json::Value, key: Option<&str>, out: &mut Vec<u8>) {
        match v {
            serde_json::Value::String(s) => {
                if let Some(k) = key {
                    out.extend_from_slice(k.as_bytes());
                    out.push(b'=');
                }
                out.extend(s.bytes().map(|b| if b == b'\n' { b' ' } else { b }));
                out.push(b'\n');
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, None, out)),
            serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| walk(v, Some(k), out)),
            _ => {}
        }
    }
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let mut out = Vec::with_capacity(bytes.len());
    walk(&v, None, &mut out);
    Some(out)
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

    #[test]
    fn a_config_is_read_one_string_a_line() {
        let cfg = br#"{"config": {"Env": ["PATH=/bin", "DB_PASSWORD=x"], "Labels": {"k": "v"}}, "rootfs": {}, "history": [{"created_by": "RUN a\nb"}]}"#;
        assert!(is_config(cfg, b"blobs/sha256/ab12"));
        assert!(!is_config(cfg, b"src/config.json"));
        assert!(!is_config(b"{}", b"blobs/sha256/ab12"));
        let view = String::from_utf8(config_view(cfg).unwrap()).unwrap();
        assert!(view.contains("\nDB_PASSWORD=x\n"), "{view}");
        assert!(
            view.contains("k=v\n") && view.contains("created_by=RUN a b\n"),
            "{view}"
        );
    }
}
