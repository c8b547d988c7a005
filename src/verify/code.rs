//! Verifiers that need code, behind the same interface as the templates: they
//! turn a secret (and its paired value) into a `client::Request`.
//! `aws-sts`: `sts:GetCallerIdentity`, signed with Signature Version 4 as
//! AWS documents it ("Create a signed AWS API request"); the call needs no
//! permission, changes nothing, and names the account, user id and ARN.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::client::Request;

const STS_BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// The request for code verifier `code`; `now` is seconds since the epoch.
pub fn request(
    code: &str,
    url: &str,
    host: &str,
    secret: &str,
    paired: Option<&str>,
    now: u64,
) -> Result<Request, String> {
    match code {
        "aws-sts" => {
            let key_id = paired.ok_or("no AWS access key id was found nearby")?;
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
        assert!(request(
            "aws-sts",
            "https://sts.amazonaws.com/",
            "sts.amazonaws.com",
            "s",
            None,
            0
        )
        .is_err());
        let r = request(
            "aws-sts",
            "https://sts.amazonaws.com/",
            "sts.amazonaws.com",
            "s",
            Some("AKIA"),
            0,
        )
        .unwrap();
        assert_eq!(r.method, "POST");
        assert!(r.headers.iter().any(|(k, v)| k == "Authorization"
            && v.contains("Credential=AKIA/19700101/us-east-1/sts/aws4_request")));
    }
}
