//! Verifiers that need code, behind the same interface as the templates: they
//! turn a secret (and its paired value) into a `client::Request`.
//! `aws-sts`: `sts:GetCallerIdentity`, signed with Signature Version 4 as
//! AWS documents it ("Create a signed AWS API request"); the call needs no
//! permission, changes nothing, and names the account, user id and ARN.
//! `gcp-service-account`: Google's "OAuth 2.0 for server to server
//! applications" flow: a JWT assertion (RS256, signed with the key's RSA
//! private key by *ring*) exchanged for an access token at
//! `https://oauth2.googleapis.com/token`, and only there: a key whose
//! `token_uri` names another endpoint is not sent. The token is never kept
//! or reported; the key's `client_email` and `project_id` are.
//! `azure-shared-key`: Azure Storage "List Containers" (one result), signed
//! with the account key as "Authorize with Shared Key" documents it.
//! `azure-sas`: the same call made with a shared access signature, only for
//! an *account* SAS that grants it (`ss` with `b`, `srt` with `s`, `sp` with
//! `l`): a service SAS signs one container or blob, so an account-level call
//! would read as invalid when it is not; those are left unchecked.

use std::collections::BTreeMap;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::client::Request;

const STS_BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
/// Google's documented token endpoint: the JWT's audience, and the only
/// `token_uri` a key may name to be sent.
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// The narrowest scope that every service account may request.
const GOOGLE_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform.read-only";
const AZURE_VERSION: &str = "2021-08-06";

/// What a code verifier builds its request from.
pub struct Input<'a> {
    /// The spec's URL with its host filled in.
    pub url: &'a str,
    pub host: &'a str,
    pub secret: &'a str,
    pub paired: Option<&'a str>,
    /// The spec's values (read from the secret or next to it).
    pub named: &'a BTreeMap<String, String>,
    /// Seconds since the epoch.
    pub now: u64,
}

/// The header names a code verifier sends (for the dry run).
pub fn header_names(code: &str) -> &'static [&'static str] {
    match code {
        "aws-sts" => &["Authorization", "Content-Type", "X-Amz-Date"],
        "gcp-service-account" => &["Content-Type"],
        "azure-shared-key" => &["Authorization", "x-ms-date", "x-ms-version"],
        "azure-sas" => &["x-ms-version"],
        _ => &[],
    }
}

/// The request for code verifier `code`.
pub fn request(code: &str, i: &Input<'_>) -> Result<Request, String> {
    match code {
        "gcp-service-account" => {
            let assertion = gcp_assertion(i)?;
            Ok(gcp_request(i.url, &assertion))
        }
        "azure-shared-key" => azure_request(i),
        "azure-sas" => azure_sas_request(i),
        "aws-sts" => {
            let (url, host, secret, now) = (i.url, i.host, i.secret, i.now);
            let key_id = i.paired.ok_or("no AWS access key id was found nearby")?;
            let amz_date = amz_date(now);
            let auth = sigv4(&SigV4 {
                method: "POST",
                host,
                path: "/",
                query: "",
                content_type: FORM,
                amz_date: &amz_date,
                region: "us-east-1",
                service: "sts",
                body: STS_BODY,
                key_id,
                secret,
            });
            Ok(Request {
                method: "POST".into(),
                url: url.into(),
                headers: vec![
                    ("Content-Type".into(), FORM.into()),
                    ("X-Amz-Date".into(), amz_date),
                    ("Authorization".into(), auth),
                ],
                body: Some(STS_BODY.into()),
            })
        }
        other => Err(format!("unknown code verifier {other:?}")),
    }
}

/// The request `rules check` replays for `code`: the real one, except that a
/// verifier signing with a key the replay cannot make (RSA: *ring* does not
/// generate RSA keys) sends an unsigned assertion of the same shape; the
/// signature itself is checked by the integration tests with a key made by
/// `openssl genpkey`.
pub fn replay_request(code: &str, i: &Input<'_>) -> Result<Request, String> {
    match code {
        "gcp-service-account" => Ok(gcp_request(i.url, "replay.unsigned.assertion")),
        _ => request(code, i),
    }
}

fn gcp_request(url: &str, assertion: &str) -> Request {
    Request {
        method: "POST".into(),
        url: url.into(),
        headers: vec![(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body: Some(format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
        )),
    }
}

/// The signed JWT: header `{"alg":"RS256","typ":"JWT"}`, claims `iss` (the
/// key's client email), `scope`, `aud` (the token endpoint), `iat`, `exp`
/// (an hour later, the most Google allows).
fn gcp_assertion(i: &Input<'_>) -> Result<String, String> {
    let email = i
        .named
        .get("client_email")
        .ok_or("no client_email in the key")?;
    match i.named.get("token_uri") {
        Some(t) if t == GOOGLE_TOKEN_URI => {}
        Some(_) => {
            return Err(format!(
                "the key's token_uri is not Google's documented endpoint ({GOOGLE_TOKEN_URI}): not sent"
            ))
        }
        None => return Err("no token_uri in the key".into()),
    }
    let key = rsa_key(i.secret)?;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    let claims = serde_json::json!({
        "iss": email,
        "scope": GOOGLE_SCOPE,
        "aud": GOOGLE_TOKEN_URI,
        "iat": i.now,
        "exp": i.now + 3600,
    });
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut sig,
    )
    .map_err(|_| "the key could not sign".to_string())?;
    Ok(format!("{signing_input}.{}", b64(&sig)))
}

/// The RSA key in a service-account JSON's `private_key` (PEM with JSON
/// `\n` escapes): PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA
/// PRIVATE KEY`). Errors never quote the key.
fn rsa_key(pem: &str) -> Result<ring::signature::RsaKeyPair, String> {
    let text = pem.replace("\\n", "\n").replace("\\r", "");
    let pkcs1 = text.contains("BEGIN RSA PRIVATE KEY");
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|_| "the private key is not valid base64".to_string())?;
    let key = if pkcs1 {
        ring::signature::RsaKeyPair::from_der(&der)
    } else {
        ring::signature::RsaKeyPair::from_pkcs8(&der)
    };
    key.map_err(|e| format!("the private key is not a usable RSA key ({e})"))
}

/// List Containers (`comp=list&maxresults=1`) with a Shared Key signature:
/// the string to sign is the verb, eleven empty standard headers (a GET has
/// no body), the `x-ms-` headers and the canonical resource.
fn azure_request(i: &Input<'_>) -> Result<Request, String> {
    let account = i
        .named
        .get("account")
        .ok_or("no storage account name next to it")?;
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let key = lenient
        .decode(i.secret.as_bytes())
        .map_err(|_| "the account key is not valid base64".to_string())?;
    let date = http_date(i.now);
    let query = i.url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let mut params: Vec<(String, &str)> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    params.sort();
    let mut resource = format!("/{account}/");
    for (k, v) in params {
        resource.push_str(&format!("\n{k}:{v}"));
    }
    let to_sign = format!(
        "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{AZURE_VERSION}\n{resource}"
    );
    let sig = base64::engine::general_purpose::STANDARD.encode(hmac(&key, &to_sign));
    Ok(Request {
        method: "GET".into(),
        url: i.url.into(),
        headers: vec![
            ("x-ms-date".into(), date),
            ("x-ms-version".into(), AZURE_VERSION.into()),
            ("Authorization".into(), format!("SharedKey {account}:{sig}")),
        ],
        body: None,
    })
}

/// List Containers with an account SAS appended to the query: the SAS's
/// own text (read next to the secret, its `sig` the secret), checked to
/// grant this call and to hold nothing but query characters.
fn azure_sas_request(i: &Input<'_>) -> Result<Request, String> {
    let sas = i.named.get("sas").ok_or("no SAS query next to it")?;
    let param = |name: &str| {
        sas.split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or("")
    };
    if param("sig") != i.secret {
        return Err("the signature is not part of the SAS next to it".into());
    }
    let grants =
        param("ss").contains('b') && param("srt").contains('s') && param("sp").contains('l');
    if !grants || !param("sr").is_empty() {
        return Err(
            "not an account SAS that allows List Containers (ss=b, srt=s, sp=l): not checked, \
             since any other call could read as invalid when it is not"
                .into(),
        );
    }
    let plain = sas
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"%&=:._~-/".contains(&b));
    if !plain {
        return Err("the SAS holds characters that cannot go into a URL unescaped".into());
    }
    Ok(Request {
        method: "GET".into(),
        url: format!("{}&{sas}", i.url),
        headers: vec![("x-ms-version".into(), AZURE_VERSION.into())],
        body: None,
    })
}

/// `Mon, 07 Dec 2026 18:33:02 GMT` (RFC 1123, as HTTP dates are written).
fn http_date(now: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // `YYYY-MM-DDTHH:MM:SSZ`
    let t = super::offline::rfc3339(now);
    let month: usize = t[5..7].parse().unwrap_or(1);
    format!(
        "{}, {} {} {} {} GMT",
        DAYS[((now / 86_400) % 7) as usize],
        &t[8..10],
        MONTHS[month.clamp(1, 12) - 1],
        &t[0..4],
        &t[11..19]
    )
}

/// `YYYYMMDDTHHMMSSZ`.
fn amz_date(now: u64) -> String {
    super::offline::rfc3339(now).replace(['-', ':'], "")
}

struct SigV4<'a> {
    method: &'a str,
    host: &'a str,
    path: &'a str,
    query: &'a str,
    content_type: &'a str,
    amz_date: &'a str,
    region: &'a str,
    service: &'a str,
    body: &'a str,
    key_id: &'a str,
    secret: &'a str,
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// The `Authorization` header value.
fn sigv4(s: &SigV4<'_>) -> String {
    let date = &s.amz_date[..8];
    let signed = "content-type;host;x-amz-date";
    let canonical = format!(
        "{}\n{}\n{}\ncontent-type:{}\nhost:{}\nx-amz-date:{}\n\n{signed}\n{}",
        s.method,
        s.path,
        s.query,
        s.content_type,
        s.host,
        s.amz_date,
        hex::encode(Sha256::digest(s.body.as_bytes()))
    );
    let scope = format!("{date}/{}/{}/aws4_request", s.region, s.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        s.amz_date,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{}", s.secret).as_bytes(), date);
    let k_region = hmac(&k_date, s.region);
    let k_service = hmac(&k_region, s.service);
    let k_signing = hmac(&k_service, "aws4_request");
    let signature = hex::encode(hmac(&k_signing, &to_sign));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
        s.key_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published Signature Version 4 example (IAM ListUsers, GET,
    /// 2015-08-30T12:36:00Z, the documentation's example key).
    #[test]
    fn signs_the_documented_example() {
        let auth = sigv4(&SigV4 {
            method: "GET",
            host: "iam.amazonaws.com",
            path: "/",
            query: "Action=ListUsers&Version=2010-05-08",
            content_type: FORM,
            amz_date: "20150830T123600Z",
            region: "us-east-1",
            service: "iam",
            body: "",
            key_id: "AKIDEXAMPLE",
            secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        });
        assert!(
            auth.ends_with(
                "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
            ),
            "{auth}"
        );
    }

    #[test]
    fn sts_needs_the_key_id() {
        let named = BTreeMap::new();
        let input = |paired| Input {
            url: "https://sts.amazonaws.com/",
            host: "sts.amazonaws.com",
            secret: "s",
            paired,
            named: &named,
            now: 0,
        };
        assert!(request("aws-sts", &input(None)).is_err());
        let r = request("aws-sts", &input(Some("AKIA"))).unwrap();
        assert_eq!(r.method, "POST");
        assert!(r.headers.iter().any(|(k, v)| k == "Authorization"
            && v.contains("Credential=AKIA/19700101/us-east-1/sts/aws4_request")));
    }

    #[test]
    fn http_dates() {
        // 2026-12-07T18:33:02Z was a Monday.
        assert_eq!(http_date(1_796_668_382), "Mon, 07 Dec 2026 18:33:02 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn gcp_refuses_other_token_endpoints_and_bad_keys() {
        let pem = "-----BEGIN PRIVATE KEY-----\\nMIIEnotakey\\n-----END PRIVATE KEY-----";
        let try_with = |token_uri: &str| {
            let mut named = BTreeMap::new();
            named.insert(
                "client_email".to_string(),
                "ci@p.iam.gserviceaccount.com".to_string(),
            );
            named.insert("token_uri".to_string(), token_uri.to_string());
            let input = Input {
                url: GOOGLE_TOKEN_URI,
                host: "oauth2.googleapis.com",
                secret: pem,
                paired: None,
                named: &named,
                now: 0,
            };
            match request("gcp-service-account", &input) {
                Ok(_) => panic!("a request was built"),
                Err(e) => e,
            }
        };
        let e = try_with("https://evil.example/token");
        assert!(e.contains("not Google's documented endpoint"), "{e}");
        let e = try_with(GOOGLE_TOKEN_URI);
        assert!(
            e.contains("not a usable RSA key") || e.contains("base64"),
            "{e}"
        );
        assert!(!e.contains("MIIE"));
    }
}
