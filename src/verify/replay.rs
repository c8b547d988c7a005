//! A loopback HTTPS server with a certificate authority made at run time
//! (rcgen), answering each request through a handler. `rules check` starts
//! one and replays every verifier's recorded answers through the real
//! client (`check_recorded`); the integration tests use it as the provider.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::client::{Client, Env};
use super::read::read;
use super::spec::{self, Recorded};
use super::Status;

/// A request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub host: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What the server answers.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Wait this long before answering (timeouts).
    pub delay: Duration,
}

pub type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

pub struct Server {
    pub addr: SocketAddr,
    /// The test CA's certificate, PEM.
    pub ca_pem: String,
    /// Every request, in arrival order.
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// Handshakes started (connections accepted).
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Serves `hosts` (the certificate's names) on 127.0.0.1.
    pub fn start(hosts: &[String], handler: Handler) -> io::Result<Server> {
        let bad = |e: rcgen::Error| io::Error::other(e.to_string());
        let ca_key = rcgen::KeyPair::generate().map_err(bad)?;
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(bad)?;
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "leakscan replay CA");
        let ca = ca_params.self_signed(&ca_key).map_err(bad)?;
        let leaf_key = rcgen::KeyPair::generate().map_err(bad)?;
        let leaf = rcgen::CertificateParams::new(hosts.to_vec())
            .map_err(bad)?
            .signed_by(&leaf_key, &ca, &ca_key)
            .map_err(bad)?;
        let provider = Arc::new(super::client::ring_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(leaf.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .map_err(io::Error::other)?;
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, conns2, stop2) = (seen.clone(), connections.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                conns2.fetch_add(1, Ordering::SeqCst);
                let (config, handler, seen) = (config.clone(), handler.clone(), seen2.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, config, &*handler, &seen);
                });
            }
        });
        Ok(Server {
            addr,
            ca_pem: ca.pem(),
            seen,
            connections,
            stop,
        })
    }

    /// `LEAKSCAN_VERIFY_RESOLVE`'s value mapping `hosts` here.
    pub fn resolve_value(&self, hosts: &[String]) -> String {
        hosts
            .iter()
            .map(|h| format!("{h}={}", self.addr))
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    handler: &(dyn Fn(&Seen) -> Reply + Send + Sync),
    seen: &Mutex<Vec<Seen>>,
) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let conn = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
    let tls = rustls::StreamOwned::new(conn, stream);
    let mut r = BufReader::new(tls);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        let mut length = 0usize;
        let mut chunked = false;
        loop {
            let mut h = String::new();
            if r.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let (k, v) = (k.trim().to_string(), v.trim().to_string());
                if k.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = v.eq_ignore_ascii_case("chunked");
                }
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.parse().unwrap_or(0).min(1 << 20);
                }
                headers.push((k, v));
            }
        }
        let mut body = vec![0; length];
        r.read_exact(&mut body)?;
        while chunked {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim(), 16)
                .unwrap_or(0)
                .min(1 << 20);
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk[..n]);
            chunked = n > 0;
        }
        let host = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("host"))
            .map(|(_, v)| v.split(':').next().unwrap_or("").to_string())
            .unwrap_or_default();
        let req = Seen {
            method,
            path,
            host,
            headers,
            body,
        };
        seen.lock().unwrap().push(req.clone());
        let reply = handler(&req);
        std::thread::sleep(reply.delay);
        let mut out = format!(
            "HTTP/1.1 {} X\r\nContent-Length: {}\r\nContent-Type: application/json\r\n",
            reply.status,
            reply.body.len()
        );
        for (k, v) in &reply.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&reply.body);
        let tls = r.get_mut();
        tls.write_all(out.as_bytes())?;
        tls.flush()?;
    }
}

/// Whether the live answer's identity, with the values the spec reports,
/// is what the recording expects.
fn reported(
    s: &spec::VerifySpec,
    c: &Case,
    got: &std::collections::BTreeMap<String, String>,
    rec: &Recorded,
) -> bool {
    let mut all = got.clone();
    for r in &s.report {
        if let Some(v) = c.named.get(r) {
            all.entry(r.clone()).or_insert_with(|| v.clone());
        }
    }
    all == rec.identity
}

/// Replays every built-in verifier's recorded live and invalid answers
/// through the real client against a loopback server; returns one message
/// per failure (empty: all pass) and how many verifiers were checked.
pub fn check_recorded() -> crate::error::Result<(usize, Vec<String>)> {
    let specs = spec::builtin()?;
    Ok((specs.len(), replay_all(&specs)?))
}

/// What the replay sends for one spec: its secret, values and host.
struct Case {
    secret: String,
    named: std::collections::BTreeMap<String, String>,
    host: String,
}

/// The replay's secret and the text next to it (`answers.secret`,
/// `answers.near`: rule-example templates), and the values read from them
/// by the spec's own regexes.
fn case(s: &spec::VerifySpec) -> Result<Case, String> {
    let mut rng = crate::rules::template::Rng::from_str_seed(&s.rule);
    let secret = match &s.answers.secret {
        Some(t) => crate::rules::template::expand(t, &mut rng),
        None => "leakscanReplaySecret0123456789".to_string(),
    };
    let near = s
        .answers
        .near
        .as_ref()
        .map(|t| crate::rules::template::expand(t, &mut rng).replace("{secret}", &secret));
    let compiled = s.compiled_values()?;
    let named = super::derive(
        &compiled,
        secret.as_bytes(),
        near.as_deref().map(str::as_bytes),
    )?;
    let host = super::concrete_host(s, &named)?;
    Ok(Case {
        secret,
        named,
        host,
    })
}

fn replay_all(specs: &[spec::VerifySpec]) -> crate::error::Result<Vec<String>> {
    let mut failures = Vec::new();
    let mut cases = Vec::new();
    for s in specs {
        match case(s) {
            Ok(c) => cases.push((s, c)),
            Err(e) => failures.push(format!(
                "{}: verify: the recorded secret and text next to it give no request: {e}",
                s.rule
            )),
        }
    }
    let hosts: Vec<String> = cases
        .iter()
        .map(|(_, c)| c.host.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let next: Arc<Mutex<Option<Recorded>>> = Arc::new(Mutex::new(None));
    let next2 = next.clone();
    let handler: Handler = Arc::new(move |_| {
        let r = next2.lock().unwrap().clone();
        match r {
            Some(r) => Reply {
                status: r.status,
                body: r.body,
                ..Reply::default()
            },
            None => Reply {
                status: 500,
                ..Reply::default()
            },
        }
    });
    let io_err =
        |e: io::Error| crate::error::Error::Usage(format!("rules check: replay server: {e}"));
    let server = Server::start(&hosts, handler).map_err(io_err)?;
    let dir = std::env::temp_dir().join(format!("leakscan-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(io_err)?;
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &server.ca_pem).map_err(io_err)?;
    let env = Env {
        ca_file: Some(ca),
        resolve: hosts.iter().map(|h| (h.clone(), server.addr)).collect(),
    };
    let client = Client::new(&env, Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(&dir);
    let client = client.map_err(crate::error::Error::Usage)?;
    for (s, c) in &cases {
        let secret = c.secret.as_str();
        let paired = Some("AKIAREPLAYPAIREDVALUE");
        let now = super::now_secs();
        let built = match &s.code {
            Some(code) => {
                let url = s.url.replacen(s.host(), &c.host, 1);
                super::code::replay_request(
                    code,
                    &super::code::Input {
                        url: &url,
                        host: &c.host,
                        secret,
                        paired,
                        named: &c.named,
                        now,
                    },
                )
            }
            None => super::build(s, &c.host, secret, paired, &c.named, now),
        };
        let req = match built {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!(
                    "{}: verify: the request cannot be built: {e}",
                    s.rule
                ));
                continue;
            }
        };
        for (name, rec, want) in [
            ("live", &s.answers.live, Status::Live),
            ("invalid", &s.answers.invalid, Status::Invalid),
        ] {
            *next.lock().unwrap() = Some(rec.clone());
            let reading = match client.send(&req, secret) {
                Ok(a) => read(s, &c.host, &a),
                Err(e) => {
                    failures.push(format!(
                        "{}: verify: replaying the {name} answer: {e}",
                        s.rule
                    ));
                    continue;
                }
            };
            if reading.status != want {
                failures.push(format!(
                    "{}: verify: the recorded {name} answer reads as {} ({})",
                    s.rule,
                    reading.status.as_str(),
                    reading.reason.unwrap_or_default()
                ));
            } else if want == Status::Live && !reported(s, c, &reading.identity, rec) {
                failures.push(format!(
                    "{}: verify: the live answer names {:?}, the recording expects {:?}",
                    s.rule, reading.identity, rec.identity
                ));
            }
        }
    }
    Ok(failures)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> serde_json::Result<spec::VerifySpec> {
        let mut s: spec::VerifySpec = serde_json::from_value(json)?;
        s.rule = "t".into();
        Ok(s)
    }

    #[test]
    fn a_verifier_needs_recorded_answers() {
        let missing = spec(serde_json::json!({
            "url": "https://api.example.test/me",
            "live": {"status": [200]}, "invalid": {"status": [401]}
        }));
        assert!(missing.unwrap_err().to_string().contains("answers"));
    }

    #[test]
    fn a_wrong_recording_fails_the_replay() {
        let s = spec(serde_json::json!({
            "url": "https://api.example.test/me",
            "headers": {"Authorization": "Bearer {secret}"},
            "live": {"status": [200]}, "invalid": {"status": [401]},
            "identity": {"name": "name"},
            "answers": {
                "live": {"status": 401, "body": "{}"},
                "invalid": {"status": 200, "body": "{\"name\":\"x\"}"}
            }
        }))
        .unwrap();
        let failures = replay_all(&[s]).unwrap();
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert!(
            failures[0].contains("recorded live answer reads as invalid"),
            "{failures:?}"
        );
        let good = spec(serde_json::json!({
            "url": "https://api.example.test/me",
            "live": {"status": [200]}, "invalid": {"status": [401]},
            "identity": {"name": "name"},
            "answers": {
                "live": {"status": 200, "body": "{\"name\":\"x\"}", "identity": {"name": "x"}},
                "invalid": {"status": 401}
            }
        }))
        .unwrap();
        assert_eq!(replay_all(&[good]).unwrap(), Vec::<String>::new());
    }
}
