//! The HTTPS client and its safety policy: rustls (ring, no OpenSSL) with the
//! system's root certificates plus `LEAKSCAN_VERIFY_CA_FILE`, certificate
//! checks always on, HTTPS only, redirects never followed (the reader refuses
//! them), no proxy, bounded answers, timeouts. Every host is resolved here:
//! `LEAKSCAN_VERIFY_RESOLVE` (`host=IP:PORT,...`, the test and air-gap hook)
//! maps a host to an address while SNI and the certificate check still use
//! the real name; any other host must resolve to public addresses only (no
//! loopback, private, link-local, metadata or other special ranges).
//! Built only when a run verifies; errors never carry the request's URL.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ureq::config::Config;
use ureq::http;
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// The environment variable naming an extra PEM root certificate file.
pub const CA_FILE_ENV: &str = "LEAKSCAN_VERIFY_CA_FILE";
/// The environment variable mapping hosts to addresses.
pub const RESOLVE_ENV: &str = "LEAKSCAN_VERIFY_RESOLVE";

/// The most bytes of an answer that are read.
const MAX_BODY: u64 = 256 * 1024;

/// One answer, as far as verification needs it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// `Retry-After` in seconds (429 and 503).
    pub retry_after: Option<u64>,
    /// `Location` of a redirect.
    pub location: Option<String>,
}

/// A request, filled (it holds the secret: never printed).
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

pub struct Client {
    agent: ureq::Agent,
}

/// The policy's settings, from the environment.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub ca_file: Option<std::path::PathBuf>,
    pub resolve: HashMap<String, SocketAddr>,
}

impl Env {
    /// Reads `LEAKSCAN_VERIFY_CA_FILE` and `LEAKSCAN_VERIFY_RESOLVE`.
    pub fn from_env() -> Result<Env, String> {
        let ca_file = std::env::var_os(CA_FILE_ENV)
            .filter(|v| !v.is_empty())
            .map(Into::into);
        let resolve = match std::env::var(RESOLVE_ENV) {
            Ok(v) => parse_resolve(&v)?,
            Err(_) => HashMap::new(),
        };
        Ok(Env { ca_file, resolve })
    }
}

/// `host=IP:PORT[,host=IP:PORT...]`.
pub fn parse_resolve(v: &str) -> Result<HashMap<String, SocketAddr>, String> {
    let mut map = HashMap::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (host, addr) = item
            .split_once('=')
            .ok_or_else(|| format!("{RESOLVE_ENV}: {item:?} is not host=IP:PORT"))?;
        let addr: SocketAddr = addr
            .parse()
            .map_err(|_| format!("{RESOLVE_ENV}: {addr:?} is not IP:PORT"))?;
        map.insert(host.to_ascii_lowercase(), addr);
    }
    Ok(map)
}

impl Client {
    pub fn new(env: &Env, timeout: Duration) -> Result<Client, String> {
        let mut roots: Vec<Certificate<'static>> = Vec::new();
        let native = rustls_native_certs::load_native_certs();
        for c in native.certs {
            roots.push(Certificate::from_der(c.as_ref()).to_owned());
        }
        if let Some(path) = &env.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("{CA_FILE_ENV}: {}: {e}", path.display()))?;
            let mut n = 0;
            for item in ureq::tls::parse_pem(&pem) {
                if let ureq::tls::PemItem::Certificate(c) =
                    item.map_err(|e| format!("{CA_FILE_ENV}: {}: {e}", path.display()))?
                {
                    roots.push(c);
                    n += 1;
                }
            }
            if n == 0 {
                return Err(format!(
                    "{CA_FILE_ENV}: {}: no PEM certificate in it",
                    path.display()
                ));
            }
        }
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .root_certs(RootCerts::new_with_certs(&roots))
            .unversioned_rustls_crypto_provider(Arc::new(ring_provider()))
            .build();
        let config = Config::builder()
            .tls_config(tls)
            .https_only(true)
            .proxy(None)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .timeout_connect(Some(timeout.min(Duration::from_secs(5))))
            .user_agent("leakscan-verify/1")
            .max_idle_connections_per_host(4)
            .build();
        let resolver = Policy {
            map: env.resolve.clone(),
        };
        Ok(Client {
            agent: ureq::Agent::with_parts(config, DefaultConnector::default(), resolver),
        })
    }

    /// Sends one request. The error is safe to print: it never holds the URL
    /// or a header (`secret` is scrubbed from it besides).
    pub fn send(&self, req: &Request, secret: &str) -> Result<Answer, String> {
        let mut b = http::Request::builder()
            .method(req.method.as_str())
            .uri(req.url.as_str());
        for (k, v) in &req.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        // A POST without a body still says `Content-Length: 0`.
        let body = req
            .body
            .clone()
            .or_else(|| (req.method == "POST").then(String::new));
        let result = match body {
            Some(body) => b
                .body(body)
                .map_err(|_| "the request could not be built".to_string())
                .and_then(|r| self.agent.run(r).map_err(|e| describe(&e))),
            None => b
                .body(())
                .map_err(|_| "the request could not be built".to_string())
                .and_then(|r| self.agent.run(r).map_err(|e| describe(&e))),
        };
        let mut resp = result.map_err(|m| scrub(&m, secret))?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
        let location = header("location");
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| scrub(&describe(&e), secret))?;
        Ok(Answer {
            status,
            body,
            retry_after,
            location,
        })
    }
}

/// rustls's *ring* provider. Deprecated in rustls 0.23.48 only for lacking
/// post-quantum key exchange, which a one-off verification call does not
/// need; aws-lc-rs would add a C/CMake build to every build of leakscan.
#[allow(deprecated)]
pub(crate) fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// A ureq error in words that never include the URL.
fn describe(e: &ureq::Error) -> String {
    use ureq::Error as E;
    match e {
        E::Timeout(_) => "timed out".into(),
        E::HostNotFound => "host not found".into(),
        E::Io(io) if io.kind() == io::ErrorKind::PermissionDenied => io.to_string(),
        E::Io(io) => format!("connection failed ({})", io.kind()),
        E::ConnectionFailed => "connection failed".into(),
        E::BodyExceedsLimit(n) => format!("answer larger than {n} bytes"),
        E::RequireHttpsOnly(_) => "refused: not HTTPS".into(),
        E::Tls(m) => format!("TLS: {m}"),
        E::Rustls(r) => format!("TLS: {r}"),
        _ => "request failed".into(),
    }
}

fn scrub(msg: &str, secret: &str) -> String {
    if secret.len() >= 4 {
        msg.replace(secret, "<secret>")
    } else {
        msg.to_string()
    }
}

/// Resolves hosts under the policy.
#[derive(Debug)]
struct Policy {
    map: HashMap<String, SocketAddr>,
}

impl Resolver for Policy {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or("").to_ascii_lowercase();
        if let Some(addr) = self.map.get(&host) {
            let mut out = self.empty();
            out.push(*addr);
            return Ok(out);
        }
        let found = DefaultResolver::default().resolve(uri, config, timeout)?;
        if let Some(bad) = found.iter().find(|a| !is_public(a.ip())) {
            return Err(ureq::Error::Io(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "refused: {host} resolves to a non-public address ({})",
                    bad.ip()
                ),
            )));
        }
        Ok(found)
    }
}

/// Whether an address is on the public internet: not loopback, private,
/// link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254 included),
/// shared, documentation, multicast, reserved or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            let o = v.octets();
            !(v.is_loopback()
                || v.is_private()
                || v.is_link_local()
                || v.is_unspecified()
                || v.is_broadcast()
                || v.is_multicast()
                || v.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 240)
        }
        IpAddr::V6(v) => {
            if let Some(v4) = v.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v.segments();
            !(v.is_loopback()
                || v.is_unspecified()
                || v.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x64 && s[1] == 0xff9b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_addresses_only() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(bad.parse().unwrap()), "{bad}");
        }
        for good in ["140.82.112.3", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(good.parse().unwrap()), "{good}");
        }
    }

    #[test]
    fn resolve_setting() {
        let m = parse_resolve("api.github.com=127.0.0.1:8443, x=[::1]:1").unwrap();
        assert_eq!(m["api.github.com"].port(), 8443);
        assert!(parse_resolve("nohost").is_err());
        assert!(parse_resolve("h=notanaddr").is_err());
    }

    #[test]
    fn a_host_on_a_private_address_is_refused() {
        let c = Client::new(&Env::default(), Duration::from_secs(5)).unwrap();
        let req = Request {
            method: "GET".into(),
            url: "https://localhost:1/".into(),
            headers: vec![],
            body: None,
        };
        let e = c.send(&req, "unused").unwrap_err();
        assert!(e.contains("non-public"), "{e}");
    }
}
