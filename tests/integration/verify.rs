//! `--verify` (#22) against a real HTTPS server on 127.0.0.1: a test CA and
//! leaf made at run time (rcgen), reached through `LEAKSCAN_VERIFY_CA_FILE`
//! and `LEAKSCAN_VERIFY_RESOLVE`, answering as each provider documents.
//! Every run also checks that no secret reaches standard error.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use leakscan::verify::replay::{Handler, Reply, Seen, Server};
use serde_json::Value;

use crate::util::{fake, leakscan, run, Run, Tree};

const HOSTS: [&str; 14] = [
    "api.github.com",
    "slack.com",
    "api.stripe.com",
    "api.openai.com",
    "sts.amazonaws.com",
    "oauth2.googleapis.com",
    "acme-store.myshopify.com",
    "us6.api.mailchimp.com",
    "acme.atlassian.net",
    "api.twilio.com",
    "hub.docker.com",
    "acmestore.blob.core.windows.net",
    "api.datadoghq.com",
    "other-store.myshopify.com",
];

/// A provider stand-in: the server, and its CA written into the tree.
struct Provider {
    server: Server,
    ca: std::path::PathBuf,
}

impl Provider {
    fn start(tree: &Tree, handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Provider {
        let hosts: Vec<String> = HOSTS.iter().map(|h| h.to_string()).collect();
        let handler: Handler = Arc::new(handler);
        let server = Server::start(&hosts, handler).unwrap();
        let ca = tree.path().join("..").join(format!(
            "{}-ca.pem",
            tree.path().file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&ca, &server.ca_pem).unwrap();
        Provider { server, ca }
    }

    /// `leakscan` with the CA and every provider host mapped here.
    fn cmd(&self, tree: &Tree) -> Command {
        let mut c = leakscan();
        let hosts: Vec<String> = HOSTS.iter().map(|h| h.to_string()).collect();
        c.current_dir(tree.path())
            .env("LEAKSCAN_VERIFY_CA_FILE", &self.ca)
            .env("LEAKSCAN_VERIFY_RESOLVE", self.server.resolve_value(&hosts));
        c
    }

    fn scan(&self, tree: &Tree, extra: &[&str]) -> Run {
        run(self
            .cmd(tree)
            .args(["scan", ".", "--format", "json"])
            .args(extra))
    }

    fn requests(&self) -> Vec<Seen> {
        self.server.seen.lock().unwrap().clone()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca);
    }
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        body: body.into(),
        ..Reply::default()
    }
}

fn auth(s: &Seen) -> String {
    s.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// The secret appears in no output (the report is redacted without
/// `--show-secrets`; errors and the summary never show it).
fn assert_hidden(r: &Run, secret: &str) {
    assert!(
        !r.stderr.contains(secret),
        "secret on stderr:\n{}",
        r.stderr
    );
    assert!(
        !r.stdout.contains(secret),
        "secret on stdout:\n{}",
        r.stdout
    );
}

fn verification(f: &Value) -> &Value {
    &f["verification"]
}

fn by_rule<'a>(findings: &'a [Value], rule: &str) -> &'a Value {
    findings
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} finding in {findings:#?}"))
}

/// GitHub's documented answers: 200 with the user for the right token,
/// 401 "Bad credentials" for any other.
fn github(live: &str) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    let want = format!("Bearer {live}");
    move |s: &Seen| {
        if s.path == "/user" && auth(s) == want {
            reply(200, r#"{"login":"octocat","id":583231,"type":"User"}"#)
        } else {
            reply(401, r#"{"message":"Bad credentials","status":"401"}"#)
        }
    }
}

#[test]
fn live_and_invalid_tokens_each_checked_once() {
    let tree = Tree::new();
    let (live, dead) = (fake::github_pat(1), fake::github_pat(2));
    tree.write("a.env", format!("GITHUB_TOKEN={live}\n"));
    tree.write("b.env", format!("GITHUB_TOKEN={live}\nOTHER={dead}\n"));
    let p = Provider::start(&tree, github(&live));
    let r = p.scan(&tree, &["--verify"]).expect(1);
    assert_hidden(&r, &live);
    assert_hidden(&r, &dead);
    let findings = r.findings();
    assert_eq!(findings.len(), 3);
    for f in &findings {
        let v = verification(f);
        if f["line"] == 2 {
            assert_eq!(v["status"], "invalid", "{f:#}");
            assert!(v["identity"].as_object().unwrap().is_empty());
        } else {
            assert_eq!(v["status"], "live", "{f:#}");
            assert_eq!(v["identity"]["login"], "octocat");
            assert_eq!(v["identity"]["id"], "583231");
            assert!(v["checked_at"].as_str().unwrap().ends_with('Z'));
        }
    }
    // Two distinct secrets, two requests: the live one is not sent twice.
    assert_eq!(p.requests().len(), 2);
    assert!(
        r.stderr
            .contains("1 of 2 secrets are live — rotate these now: github-pat at a.env:1"),
        "{}",
        r.stderr
    );
    // --fail-on live: exit 1 because one is live; --only-live drops the dead one.
    let r = p.scan(&tree, &["--verify", "--only-live"]).expect(1);
    assert_eq!(r.findings().len(), 2);
    assert!(r
        .findings()
        .iter()
        .all(|f| verification(f)["status"] == "live"));
}

#[test]
fn fail_on_live_passes_when_nothing_is_live() {
    let tree = Tree::new();
    let dead = fake::github_pat(3);
    tree.write("a.env", format!("GITHUB_TOKEN={dead}\n"));
    let p = Provider::start(&tree, github("not-this-one"));
    p.scan(&tree, &["--verify"]).expect(1);
    let r = p.scan(&tree, &["--verify", "--fail-on", "live"]).expect(0);
    assert_eq!(verification(&r.findings()[0])["status"], "invalid");
    assert_hidden(&r, &dead);
    // Without --verify, --fail-on live is refused rather than passing silently.
    run(p.cmd(&tree).args(["scan", ".", "--fail-on", "live"])).expect(2);
}

#[test]
fn unknown_answers_500_bad_json_and_timeout() {
    let tree = Tree::new();
    let (gh, slack) = (fake::github_pat(4), fake::slack_bot(4));
    tree.write("a.env", format!("GITHUB_TOKEN={gh}\nSLACK_TOKEN={slack}\n"));
    let p = Provider::start(&tree, |s: &Seen| match s.host.as_str() {
        "api.github.com" => reply(500, "oops"),
        _ => reply(200, "<html>not json</html>"),
    });
    let r = p.scan(&tree, &["--verify"]).expect(1);
    assert_hidden(&r, &gh);
    assert_hidden(&r, &slack);
    let f = r.findings();
    let g = verification(by_rule(&f, "github-pat"));
    assert_eq!(g["status"], "unknown");
    assert!(g["reason"].as_str().unwrap().contains("HTTP 500"), "{g}");
    let s = verification(by_rule(&f, "slack-bot-token"));
    assert_eq!(s["status"], "unknown");
    assert!(s["reason"].as_str().unwrap().contains("not JSON"), "{s}");

    let slow = Provider::start(&tree, |_: &Seen| Reply {
        status: 200,
        body: r#"{"ok":true}"#.into(),
        delay: Duration::from_secs(4),
        ..Reply::default()
    });
    let r = slow
        .scan(&tree, &["--verify", "--verify-timeout", "1"])
        .expect(1);
    assert_hidden(&r, &gh);
    let g = verification(by_rule(&r.findings(), "github-pat")).clone();
    assert_eq!(g["status"], "unknown");
    assert!(g["reason"].as_str().unwrap().contains("timed out"), "{g}");
}

#[test]
fn rate_limited_request_waits_for_retry_after() {
    let tree = Tree::new();
    let live = fake::github_pat(5);
    tree.write("a.env", format!("GITHUB_TOKEN={live}\n"));
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c2 = calls.clone();
    let ok = github(&live);
    let p = Provider::start(&tree, move |s: &Seen| {
        if c2.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Reply {
                status: 429,
                headers: vec![("Retry-After".into(), "1".into())],
                body: r#"{"message":"API rate limit exceeded"}"#.into(),
                ..Reply::default()
            }
        } else {
            ok(s)
        }
    });
    let r = p.scan(&tree, &["--verify"]).expect(1);
    assert_eq!(verification(&r.findings()[0])["status"], "live");
    assert_eq!(p.requests().len(), 2, "one 429, one retry");
    assert_hidden(&r, &live);
}

#[test]
fn redirect_to_another_host_is_not_followed() {
    let tree = Tree::new();
    let tok = fake::github_pat(6);
    tree.write("a.env", format!("GITHUB_TOKEN={tok}\n"));
    let p = Provider::start(&tree, |_: &Seen| Reply {
        status: 302,
        headers: vec![("Location".into(), "https://slack.com/api/auth.test".into())],
        ..Reply::default()
    });
    let r = p.scan(&tree, &["--verify"]).expect(1);
    let v = verification(&r.findings()[0]).clone();
    assert_eq!(v["status"], "unknown");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("another host refused"),
        "{v}"
    );
    // Only the first request: nothing was sent to the redirect's host.
    let seen = p.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].host, "api.github.com");
    assert_hidden(&r, &tok);
}

#[test]
fn host_allowlist_skips_the_rest_and_says_so() {
    let tree = Tree::new();
    let (gh, slack) = (fake::github_pat(7), fake::slack_bot(7));
    tree.write("a.env", format!("GITHUB_TOKEN={gh}\nSLACK_TOKEN={slack}\n"));
    let p = Provider::start(&tree, |_: &Seen| {
        reply(
            200,
            r#"{"ok":true,"team":"Acme","user":"bot","team_id":"T1","user_id":"U1"}"#,
        )
    });
    tree.write("hosts.txt", "# approved\nslack.com\n");
    for hosts in ["slack.com", "hosts.txt"] {
        let r = p
            .scan(&tree, &["--verify", "--verify-hosts", hosts])
            .expect(1);
        let f = r.findings();
        let g = verification(by_rule(&f, "github-pat"));
        assert_eq!(g["status"], "skipped");
        assert!(g["reason"]
            .as_str()
            .unwrap()
            .contains("api.github.com is not in --verify-hosts"));
        let s = verification(by_rule(&f, "slack-bot-token"));
        assert_eq!(s["status"], "live");
        assert_eq!(s["identity"]["team"], "Acme");
        assert!(r.stderr.contains("1 skipped"), "{}", r.stderr);
    }
    let hosts: Vec<String> = p.requests().iter().map(|s| s.host.clone()).collect();
    assert!(hosts.iter().all(|h| h == "slack.com"), "{hosts:?}");
    assert_eq!(p.requests().len(), 2);
}

#[test]
fn dry_run_prints_requests_and_sends_nothing() {
    let tree = Tree::new();
    let (gh, key_id, secret) = (
        fake::github_pat(8),
        fake::aws_key_id(8),
        fake::aws_secret(8),
    );
    tree.write(
        "a.env",
        format!("GITHUB_TOKEN={gh}\nAWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\n"),
    );
    let p = Provider::start(&tree, github(&gh));
    let r = p.scan(&tree, &["--verify=dry-run"]).expect(1);
    for s in [&gh, &key_id, &secret] {
        assert_hidden(&r, s);
    }
    assert!(
        r.stderr.contains("verify (dry run): GET https://api.github.com/user [headers: Accept, Authorization, X-GitHub-Api-Version] for github-pat at ./a.env:1")
            || r.stderr.contains("verify (dry run): GET https://api.github.com/user [headers: Accept, Authorization, X-GitHub-Api-Version] for github-pat at a.env:1"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("POST https://sts.amazonaws.com/"),
        "{}",
        r.stderr
    );
    assert_eq!(
        p.server
            .connections
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    let f = r.findings();
    assert_eq!(verification(by_rule(&f, "github-pat"))["status"], "skipped");
}

#[test]
fn paired_aws_key_id_and_secret_are_signed_together() {
    let tree = Tree::new();
    let (key_id, secret) = (fake::aws_key_id(9), fake::aws_secret(9));
    tree.write(
        "creds.env",
        format!("AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\n"),
    );
    // A secret key with no key id near it cannot be checked: skipped.
    let lone = fake::aws_secret(10);
    tree.write("lone.env", format!("AWS_SECRET_ACCESS_KEY={lone}\n"));
    let want = format!("AWS4-HMAC-SHA256 Credential={key_id}/");
    let p = Provider::start(&tree, move |s: &Seen| {
        let signed = auth(s).starts_with(&want)
            && s.body == b"Action=GetCallerIdentity&Version=2011-06-15"
            && s.method == "POST";
        if signed {
            reply(200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::210987654321:user/ci</Arn><UserId>AIDATESTUSER</UserId><Account>210987654321</Account></GetCallerIdentityResult></GetCallerIdentityResponse>")
        } else {
            reply(
                403,
                "<ErrorResponse><Error><Code>InvalidClientTokenId</Code></Error></ErrorResponse>",
            )
        }
    });
    let r = p.scan(&tree, &["--verify"]).expect(1);
    for s in [&key_id, &secret, &lone] {
        assert_hidden(&r, s);
    }
    let f = r.findings();
    let paired = f
        .iter()
        .find(|f| {
            f["rule"] == "aws-secret-access-key" && f["path"].as_str().unwrap().contains("creds")
        })
        .unwrap();
    let v = verification(paired);
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(v["identity"]["account"], "210987654321");
    assert_eq!(v["identity"]["arn"], "arn:aws:iam::210987654321:user/ci");
    let alone = f
        .iter()
        .find(|f| {
            f["rule"] == "aws-secret-access-key" && f["path"].as_str().unwrap().contains("lone")
        })
        .unwrap();
    assert_eq!(verification(alone)["status"], "skipped");
    // The key id itself carries offline evidence: its account number.
    let id = by_rule(&f, "aws-access-key-id");
    assert!(id["evidence"]["aws_account"].as_str().unwrap().len() == 12);
    assert_eq!(p.requests().len(), 1);
}

#[test]
fn suppressed_findings_are_never_sent() {
    let tree = Tree::new();
    let tok = fake::github_pat(11);
    tree.write("a.env", format!("GITHUB_TOKEN={tok} # leakscan:allow\n"));
    let p = Provider::start(&tree, github(&tok));
    p.scan(&tree, &["--verify"]).expect(0);
    assert_eq!(
        p.server
            .connections
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

/// Counts `socket()` calls of a run under strace (None: no strace here).
fn sockets_opened(cmd: &mut Command, dir: &Path) -> Option<usize> {
    let log = dir.join("strace.log");
    let prog = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let envs: Vec<_> = cmd
        .get_envs()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned())))
        .collect();
    let status = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=socket", "-o"])
        .arg(&log)
        .arg(prog)
        .args(args)
        .envs(envs)
        .current_dir(cmd.get_current_dir().unwrap_or(dir))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    status.code()?;
    let text = std::fs::read_to_string(&log).ok()?;
    let _ = std::fs::remove_file(&log);
    Some(text.lines().filter(|l| l.contains("socket(")).count())
}

#[test]
fn no_socket_is_opened_without_verify() {
    let tree = Tree::new();
    let tok = fake::github_pat(12);
    tree.write("a.env", format!("GITHUB_TOKEN={tok}\n"));
    let p = Provider::start(&tree, github(&tok));
    // The provider is reachable, yet without --verify nothing connects to it.
    let r = p.scan(&tree, &[]).expect(1);
    assert!(r.findings()[0].get("verification").is_none());
    assert_eq!(
        p.server
            .connections
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    // And no socket of any kind, counted by strace where it runs.
    let scratch = tempfile::tempdir().unwrap();
    let mut off = p.cmd(&tree);
    off.args(["scan", "."]);
    let mut on = p.cmd(&tree);
    on.args(["scan", ".", "--verify"]);
    match (
        sockets_opened(&mut off, scratch.path()),
        sockets_opened(&mut on, scratch.path()),
    ) {
        (Some(off), Some(on)) => {
            assert_eq!(off, 0, "sockets opened without --verify");
            assert!(on > 0, "strace saw no socket even with --verify");
        }
        _ => eprintln!("strace unavailable: socket count not checked (server count was)"),
    }
}

#[test]
fn verify_hosts_lists_the_egress_manifest() {
    let r = run(leakscan().args(["verify", "hosts"])).expect(0);
    let github = r
        .stdout
        .lines()
        .find(|l| l.starts_with("api.github.com\t"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(github
        .split('\t')
        .nth(1)
        .unwrap()
        .split(',')
        .any(|id| id == "github-pat"));
    // At least 40 hosts, one line each, sorted.
    let hosts: Vec<&str> = r
        .stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert!(hosts.len() >= 40, "{} hosts", hosts.len());
    assert!(hosts.windows(2).all(|w| w[0] < w[1]));
    assert!(r
        .stdout
        .contains("sts.amazonaws.com\taws-secret-access-key"));
    for line in r.stdout.lines() {
        let host = line.split('\t').next().unwrap();
        assert!(
            !host.is_empty() && !host.contains('/') && !host.contains('{'),
            "{line}"
        );
    }
}

#[test]
fn expired_jwt_is_invalid_offline_without_verify() {
    use base64::Engine;
    let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let tree = Tree::new();
    let jwt = format!(
        "{}.{}.{}",
        enc(r#"{"alg":"HS256","typ":"JWT"}"#),
        enc(r#"{"iss":"https://login.example.test","sub":"svc-deploy","exp":1500000000}"#),
        fake::token("{alnum:43}", 13)
    );
    tree.write("a.env", format!("TOKEN={jwt}\n"));
    let r = tree.scan_json(&[]);
    let f = by_rule(&r.findings(), "jwt").clone();
    assert_eq!(f["evidence"]["jwt_issuer"], "https://login.example.test");
    assert_eq!(f["evidence"]["jwt_subject"], "svc-deploy");
    assert_eq!(f["evidence"]["jwt_expires"], "2017-07-14T02:40:00Z");
    assert_eq!(f["verification"]["status"], "invalid");
    assert!(f["verification"].get("checked_at").is_none());
}

#[test]
fn verified_report_validates_against_the_schema() {
    let tree = Tree::new();
    let (live, dead) = (fake::github_pat(14), fake::github_pat(15));
    tree.write(
        "a.env",
        format!("A={live}\nB={dead}\nC={}\n", fake::slack_bot(14)),
    );
    let p = Provider::start(&tree, github(&live));
    let r = p
        .scan(&tree, &["--verify", "--verify-hosts", "api.github.com"])
        .expect(1);
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let v = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let doc = r.json();
    let errs: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errs.is_empty(), "{errs:?}\n{doc:#}");
    let statuses: Vec<String> = r
        .findings()
        .iter()
        .map(|f| f["verification"]["status"].as_str().unwrap().to_string())
        .collect();
    for want in ["live", "invalid", "skipped"] {
        assert!(statuses.iter().any(|s| s == want), "{statuses:?}");
    }
    // SARIF: live stays an error, the dead one is a note.
    let r = run(p
        .cmd(&tree)
        .args(["scan", ".", "--format", "sarif", "--verify"]))
    .expect(1);
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap();
    let levels: Vec<(String, String)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["properties"]["verification"]["status"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                x["level"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        levels.contains(&("live".into(), "error".into())),
        "{levels:?}"
    );
    assert!(
        levels.contains(&("invalid".into(), "note".into())),
        "{levels:?}"
    );
}

#[test]
fn html_and_text_show_the_verdict() {
    let tree = Tree::new();
    let (live, dead) = (fake::github_pat(16), fake::github_pat(17));
    tree.write("a.env", format!("A={live}\nB={dead}\n"));
    let p = Provider::start(&tree, github(&live));
    let r = run(p.cmd(&tree).args(["scan", ".", "--verify"])).expect(1);
    let marked: Vec<&str> = r.stdout.lines().collect();
    assert!(
        marked
            .iter()
            .any(|l| l.contains("a.env:1:") && l.ends_with("[LIVE]")),
        "{}",
        r.stdout
    );
    assert!(
        marked
            .iter()
            .any(|l| l.contains("a.env:2:") && l.ends_with("[INVALID]")),
        "{}",
        r.stdout
    );
    assert_hidden(&r, &live);
    let html = run(p
        .cmd(&tree)
        .args(["scan", ".", "--verify", "--format", "html"]))
    .expect(1);
    assert!(html.stdout.contains("<select id=\"verified\">"));
    assert!(html.stdout.contains("data-verified=\"live\""));
    assert!(html.stdout.contains("data-verified=\"invalid\""));
    assert!(html.stdout.contains("login=octocat"), "identity shown");
    assert_hidden(&html, &live);
    // Without --verify the page has no verification column at all.
    let plain = run(p.cmd(&tree).args(["scan", ".", "--format", "html"])).expect(1);
    assert!(!plain.stdout.contains("id=\"verified\"") && !plain.stdout.contains("data-verified"));
}

/// A repository `name` under `root` with one commit holding `files`.
fn repo_with(root: &Path, name: &str, files: &[(&str, String)]) {
    use crate::fixture::{dated, git_command};
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    // A fixed date: the root commit (a sweep's shard key) is the same on every
    // run, so which shard a repository lands in never depends on the clock.
    let git = |args: &[&str]| {
        let out = dated(&mut git_command(&dir), 0)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q", "-b", "main"]);
    for (path, text) in files {
        std::fs::write(dir.join(path), text).unwrap();
    }
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "config"]);
}

#[test]
fn sweep_verifies_each_secret_once_and_caches_it_in_the_state() {
    let tree = Tree::new();
    let root = tree.join("repos");
    let (live, dead) = (fake::github_pat(20), fake::github_pat(21));
    // The live token is in three repositories, the dead one in one.
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        let mut text = format!("GITHUB_TOKEN={live}\n");
        if i == 0 {
            text += &format!("OLD_TOKEN={dead}\n");
        }
        repo_with(&root, name, &[("ci.env", text)]);
    }
    let p = Provider::start(&tree, github(&live));
    let state = tree.join("state");
    let sweep = |extra: &[&str]| {
        run(p
            .cmd(&tree)
            .args(["sweep", "repos", "--format", "json", "--verify", "--state"])
            .arg(&state)
            .args(extra))
    };
    let r = sweep(&[]).expect(1);
    assert_hidden(&r, &live);
    assert_hidden(&r, &dead);
    assert_eq!(p.requests().len(), 2, "one request per distinct secret");
    let doc = r.json();
    let rows = doc["secrets"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let by_repos = |n: usize| {
        rows.iter()
            .find(|r| r["repos"].as_array().unwrap().len() == n)
            .unwrap()
    };
    assert_eq!(by_repos(3)["verification"]["status"], "live");
    assert_eq!(by_repos(3)["verification"]["identity"]["login"], "octocat");
    assert_eq!(by_repos(1)["verification"]["status"], "invalid");
    let checked = by_repos(3)["verification"]["checked_at"].clone();
    assert!(
        r.stderr
            .contains("1 of 2 secrets are live — rotate these now: github-pat key"),
        "{}",
        r.stderr
    );
    // The state keeps verdicts by HMAC key, never the secret.
    let cache = std::fs::read_to_string(state.join("verified.json")).unwrap();
    assert!(!cache.contains(&live) && !cache.contains(&dead));
    assert!(cache.contains(by_repos(3)["key"].as_str().unwrap()));

    // A rerun (and a new repository holding the same live token) asks nothing.
    repo_with(&root, "d", &[("x.env", format!("TOKEN={live}\n"))]);
    let r = sweep(&[]).expect(1);
    assert_eq!(p.requests().len(), 2, "served from the state's cache");
    assert!(
        r.stderr.contains("0 requests sent in ")
            && r.stderr.contains(" s, 2 verdicts from the state's cache"),
        "{}",
        r.stderr
    );
    let doc = r.json();
    let live_row = doc["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["verification"]["status"] == "live")
        .unwrap()
        .clone();
    assert_eq!(live_row["repos"].as_array().unwrap().len(), 4);
    assert_eq!(
        live_row["verification"]["checked_at"], checked,
        "when it was checked"
    );

    // --only-live keeps the live row; --fail-on live exits 1 because of it.
    let r = sweep(&["--only-live"]).expect(1);
    assert_eq!(r.json()["secrets"].as_array().unwrap().len(), 1);
}

/// An RSA key made by `openssl genpkey` (PKCS#8 PEM) and its public key,
/// in `dir`; None where openssl is missing.
fn openssl_rsa_key(dir: &Path, name: &str) -> Option<(String, std::path::PathBuf)> {
    let key = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    let ok = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&key)
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?
        .success()
        && Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(&public)
            .status()
            .ok()?
            .success();
    ok.then(|| (std::fs::read_to_string(&key).unwrap(), public))
}

/// A service-account JSON key file as Google writes it (pretty-printed,
/// the PEM's newlines escaped).
fn service_account_json(project: &str, email: &str, pem: &str, token_uri: &str) -> String {
    let escaped = pem.trim_end().replace('\n', "\\n") + "\\n";
    format!(
        "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"{project}\",\n  \"private_key_id\": \"{}\",\n  \"private_key\": \"{escaped}\",\n  \"client_email\": \"{email}\",\n  \"client_id\": \"{}\",\n  \"auth_uri\": \"https://accounts.google.com/o/oauth2/auth\",\n  \"token_uri\": \"{token_uri}\"\n}}\n",
        fake::token("{hex:40}", 30),
        fake::token("{digit:21}", 30),
    )
}

/// Checks an RS256 JWT's signature with `openssl dgst -verify` (an
/// implementation other than the one that signed it) and returns its claims.
fn openssl_verified_claims(jwt: &str, public: &Path, scratch: &Path) -> Option<Value> {
    use base64::Engine;
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = jwt.split('.');
    let (h, c, sig) = (parts.next()?, parts.next()?, parts.next()?);
    let header: Value = serde_json::from_slice(&b64.decode(h).ok()?).ok()?;
    if header["alg"] != "RS256" {
        return None;
    }
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let (data, sigf) = (
        scratch.join(format!("jwt{n}.data")),
        scratch.join(format!("jwt{n}.sig")),
    );
    std::fs::write(&data, format!("{h}.{c}")).ok()?;
    std::fs::write(&sigf, b64.decode(sig).ok()?).ok()?;
    let ok = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(public)
        .arg("-signature")
        .arg(&sigf)
        .arg(&data)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?
        .success();
    if !ok {
        return None;
    }
    serde_json::from_slice(&b64.decode(c).ok()?).ok()
}

/// The form field `name` of a request body.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    std::str::from_utf8(body)
        .ok()?
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(str::to_string))
}

#[test]
fn gcp_service_account_key_is_exchanged_for_a_token_at_google_only() {
    let keys = tempfile::tempdir().unwrap();
    let Some((live_pem, live_pub)) = openssl_rsa_key(keys.path(), "live") else {
        eprintln!("openssl missing: GCP signing not tested");
        return;
    };
    let (dead_pem, _) = openssl_rsa_key(keys.path(), "dead").unwrap();
    let (elsewhere_pem, _) = openssl_rsa_key(keys.path(), "elsewhere").unwrap();
    let google = "https://oauth2.googleapis.com/token";
    let tree = Tree::new();
    let live_email = "deploy@acme-prod.iam.gserviceaccount.com";
    tree.write(
        "live.json",
        service_account_json("acme-prod", live_email, &live_pem, google),
    );
    tree.write(
        "dead.json",
        service_account_json(
            "acme-old",
            "old@acme-old.iam.gserviceaccount.com",
            &dead_pem,
            google,
        ),
    );
    // A key naming another token endpoint is never sent anywhere.
    tree.write(
        "elsewhere.json",
        service_account_json(
            "acme-x",
            "x@acme-x.iam.gserviceaccount.com",
            &elsewhere_pem,
            "https://tokens.example.test/token",
        ),
    );
    let scratch = keys.path().to_path_buf();
    let p = Provider::start(&tree, move |s: &Seen| {
        // Google answers a JWT signed by the live account's key with a token.
        let claims = form_field(&s.body, "assertion")
            .and_then(|jwt| openssl_verified_claims(&jwt, &live_pub, &scratch));
        let grant = form_field(&s.body, "grant_type").unwrap_or_default();
        match claims {
            Some(c)
                if s.path == "/token"
                    && grant == "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
                    && c["iss"] == live_email
                    && c["aud"] == google
                    && c["exp"].as_u64().unwrap() > c["iat"].as_u64().unwrap() =>
            {
                reply(
                    200,
                    r#"{"access_token":"ya29.SECRET-ACCESS-TOKEN","expires_in":3599,"token_type":"Bearer"}"#,
                )
            }
            _ => reply(
                400,
                r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
            ),
        }
    });
    let r = p.scan(&tree, &["--verify"]).expect(1);
    assert!(!r.stdout.contains("SECRET-ACCESS-TOKEN") && !r.stderr.contains("SECRET-ACCESS-TOKEN"));
    for pem in [&live_pem, &dead_pem, &elsewhere_pem] {
        let body = pem.lines().nth(1).unwrap();
        assert_hidden(&r, body);
    }
    let f = r.findings();
    let in_file = |name: &str| {
        f.iter()
            .find(|f| {
                f["rule"] == "gcp-service-account-key"
                    && f["path"].as_str().unwrap().ends_with(name)
            })
            .unwrap_or_else(|| panic!("no key finding in {name}: {f:#?}"))
    };
    let live = verification(in_file("live.json"));
    assert_eq!(live["status"], "live", "{live}");
    assert_eq!(live["identity"]["client_email"], live_email);
    assert_eq!(live["identity"]["project_id"], "acme-prod");
    let dead = verification(in_file("dead.json"));
    assert_eq!(dead["status"], "invalid", "{dead}");
    let elsewhere = verification(in_file("elsewhere.json"));
    assert_eq!(elsewhere["status"], "unknown", "{elsewhere}");
    assert!(elsewhere["reason"].as_str().unwrap().contains("token_uri"));
    // Two requests, both to Google's host: none for the third key.
    let seen = p.requests();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(|s| s.host == "oauth2.googleapis.com"));
}

fn header(s: &Seen, name: &str) -> String {
    s.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// The Shared Key signature of a List Containers request, computed here from
/// Azure's "Authorize with Shared Key" page.
fn azure_signature(s: &Seen, account: &str, key_b64: &str) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut query: Vec<(String, String)> = s
        .path
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_lowercase(), v.to_string()))
        .collect();
    query.sort();
    let resource: String = std::iter::once(format!("/{account}/"))
        .chain(query.iter().map(|(k, v)| format!("\n{k}:{v}")))
        .collect();
    let to_sign = format!(
        "{}\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{}\nx-ms-version:{}\n{resource}",
        s.method,
        header(s, "x-ms-date"),
        header(s, "x-ms-version")
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&b64.decode(key_b64).unwrap()).unwrap();
    mac.update(to_sign.as_bytes());
    format!(
        "SharedKey {account}:{}",
        b64.encode(mac.finalize().into_bytes())
    )
}

/// The bearer token Docker Hub's stand-in answers: never to be shown.
const DOCKER_BEARER: &str = "docker-bearer-not-shown";

#[test]
fn hosts_named_next_to_the_secret_stay_under_the_providers_suffix() {
    use base64::Engine;
    let tree = Tree::new();
    let shop_tok = fake::token("shpat_{hex:32}", 40);
    let lone_shop_tok = fake::token("shpat_{hex:32}", 41);
    let chimp = fake::token("{hex:32}-us6", 40);
    let atl = fake::token("ATATT3xFfGF0{b64url:171}={HEX:8}", 40);
    let twilio_sid = fake::token("AC{hex:32}", 42);
    let twilio_tok = fake::token("{hex:32}", 40);
    let docker = fake::token("dckr_pat_{b64url:27}", 40);
    let azure_key = base64::engine::general_purpose::STANDARD.encode(fake::token("{alnum:64}", 40));
    assert_eq!(azure_key.len(), 88);
    tree.write(
        "shop.env",
        format!("SHOPIFY_SHOP=acme-store.myshopify.com\nSHOPIFY_ACCESS_TOKEN={shop_tok}\n"),
    );
    // No shop next to it: nothing to ask, and no host guessed.
    tree.write("lone.env", format!("TOKEN={lone_shop_tok}\n"));
    tree.write("chimp.env", format!("MAILCHIMP_API_KEY={chimp}\n"));
    tree.write(
        "jira.env",
        format!("JIRA_URL=https://acme.atlassian.net\nJIRA_EMAIL=ci@acme.example\nJIRA_API_TOKEN={atl}\n"),
    );
    tree.write(
        "twilio.env",
        format!("TWILIO_ACCOUNT_SID={twilio_sid}\nTWILIO_AUTH_TOKEN={twilio_tok}\n"),
    );
    tree.write(
        "docker.env",
        format!("DOCKERHUB_USERNAME=acmeci\nDOCKERHUB_TOKEN={docker}\n"),
    );
    tree.write(
        "azure.env",
        format!("AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=acmestore;AccountKey={azure_key};EndpointSuffix=core.windows.net\n"),
    );
    let (s1, c1, a1, t1, d1, k1) = (
        shop_tok.clone(),
        chimp.clone(),
        atl.clone(),
        (twilio_sid.clone(), twilio_tok.clone()),
        docker.clone(),
        azure_key.clone(),
    );
    let p = Provider::start(&tree, move |s: &Seen| match s.host.as_str() {
        "acme-store.myshopify.com"
            if s.path == "/admin/api/2025-01/shop.json"
                && header(s, "X-Shopify-Access-Token") == s1 =>
        {
            reply(
                200,
                r#"{"shop":{"name":"Acme","myshopify_domain":"acme-store.myshopify.com","plan_name":"basic"}}"#,
            )
        }
        "us6.api.mailchimp.com" if s.path == "/3.0/" && auth(s) == basic("leakscan", &c1) => {
            reply(200, r#"{"account_id":"abc123","account_name":"Acme Mail"}"#)
        }
        "acme.atlassian.net"
            if s.path == "/rest/api/3/myself" && auth(s) == basic("ci@acme.example", &a1) =>
        {
            reply(
                200,
                r#"{"accountId":"5b10ac8d82e05b22cc7d4ef5","emailAddress":"ci@acme.example","displayName":"CI"}"#,
            )
        }
        "api.twilio.com"
            if s.path == format!("/2010-04-01/Accounts/{}.json", t1.0)
                && auth(s) == basic(&t1.0, &t1.1) =>
        {
            reply(
                200,
                &format!(
                    r#"{{"sid":"{}","friendly_name":"Acme SMS","status":"active"}}"#,
                    t1.0
                ),
            )
        }
        "hub.docker.com"
            if s.method == "POST"
                && s.path == "/v2/auth/token"
                && serde_json::from_slice::<Value>(&s.body).ok()
                    == Some(serde_json::json!({"identifier": "acmeci", "secret": d1})) =>
        {
            reply(200, &format!(r#"{{"access_token":"{DOCKER_BEARER}"}}"#))
        }
        "acmestore.blob.core.windows.net"
            if s.path == "/?comp=list&maxresults=1"
                && auth(s) == azure_signature(s, "acmestore", &k1) =>
        {
            reply(
                200,
                r#"<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="https://acmestore.blob.core.windows.net/"><Containers /></EnumerationResults>"#,
            )
        }
        _ => reply(401, r#"{"errors":"unexpected request"}"#),
    });
    let r = p.scan(&tree, &["--verify"]).expect(1);
    for s in [
        &shop_tok,
        &lone_shop_tok,
        &chimp,
        &atl,
        &twilio_tok,
        &docker,
        &azure_key,
    ] {
        assert_hidden(&r, s);
    }
    assert!(!r.stdout.contains(DOCKER_BEARER));
    let f = r.findings();
    let v = |rule: &str, file: &str| {
        verification(
            f.iter()
                .find(|f| f["rule"] == rule && f["path"].as_str().unwrap().ends_with(file))
                .unwrap_or_else(|| panic!("no {rule} in {file}: {f:#?}")),
        )
        .clone()
    };
    let shop = v("shopify-access-token", "shop.env");
    assert_eq!(shop["status"], "live", "{shop}");
    assert_eq!(shop["identity"]["shop"], "acme-store.myshopify.com");
    let lone = v("shopify-access-token", "lone.env");
    assert_eq!(lone["status"], "skipped", "{lone}");
    assert!(lone["reason"].as_str().unwrap().contains("no shop found"));
    let m = v("mailchimp-api-key", "chimp.env");
    assert_eq!(m["status"], "live", "{m}");
    assert_eq!(m["identity"]["account"], "Acme Mail");
    let a = v("atlassian-api-token", "jira.env");
    assert_eq!(a["status"], "live", "{a}");
    assert_eq!(a["identity"]["site"], "acme");
    assert_eq!(a["identity"]["email"], "ci@acme.example");
    let t = v("twilio-auth-token", "twilio.env");
    assert_eq!(t["status"], "live", "{t}");
    assert_eq!(t["identity"]["name"], "Acme SMS");
    let d = v("dockerhub-pat", "docker.env");
    assert_eq!(d["status"], "live", "{d}");
    assert_eq!(d["identity"]["username"], "acmeci");
    let z = v("azure-storage-connection-string", "azure.env");
    assert_eq!(z["status"], "live", "{z}");
    assert_eq!(z["identity"]["account"], "acmestore");
    let hosts: std::collections::BTreeSet<String> =
        p.requests().iter().map(|s| s.host.clone()).collect();
    assert_eq!(p.requests().len(), 6, "{hosts:?}");

    // The allowlist takes the manifest's pattern or the one host.
    let before = p.requests().len();
    let r = p
        .scan(
            &tree,
            &[
                "--verify",
                "--verify-hosts",
                "*.myshopify.com,us6.api.mailchimp.com",
            ],
        )
        .expect(1);
    let f = r.findings();
    let status = |rule: &str| {
        f.iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| f["verification"]["status"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert!(status("shopify-access-token").contains(&"live".to_string()));
    assert_eq!(status("mailchimp-api-key"), ["live"]);
    assert_eq!(status("dockerhub-pat"), ["skipped"]);
    assert_eq!(p.requests().len() - before, 2);
}

#[test]
fn a_secret_two_verifying_rules_match_is_sent_to_neither() {
    let tree = Tree::new();
    let value = fake::token("{hex:32}", 50);
    // The same 32 hex digits under a Twilio name and a Datadog name: whose
    // it is cannot be told, so neither vendor is asked.
    tree.write(
        "a.env",
        format!(
            "TWILIO_ACCOUNT_SID={}\nTWILIO_AUTH_TOKEN={value}\nDD_API_KEY={value}\n",
            fake::token("AC{hex:32}", 52)
        ),
    );
    let p = Provider::start(&tree, |_: &Seen| {
        reply(200, r#"{"valid":true,"status":"active"}"#)
    });
    let r = p.scan(&tree, &["--verify"]).expect(1);
    assert_hidden(&r, &value);
    let f = r.findings();
    for rule in ["twilio-auth-token", "datadog-api-key"] {
        let v = verification(by_rule(&f, rule));
        assert_eq!(v["status"], "skipped", "{rule}: {v}");
        let why = v["reason"].as_str().unwrap();
        assert!(
            why.contains("ambiguous")
                && why.contains("twilio-auth-token")
                && why.contains("datadog-api-key"),
            "{why}"
        );
    }
    assert_eq!(
        p.server
            .connections
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[test]
fn azure_sas_is_checked_only_when_it_is_an_account_sas_allowing_a_listing() {
    let tree = Tree::new();
    let (sig, service_sig) = (
        fake::token("{alnum:43}%3D", 60),
        fake::token("{alnum:43}%3D", 61),
    );
    let sas =
        format!("sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&spr=https&sig={sig}");
    tree.write(
        "account.env",
        format!("BACKUP_URL=https://acmestore.blob.core.windows.net/?{sas}\n"),
    );
    // A service SAS for one container: listing the account is not what it
    // signs, so it is not asked about at all.
    tree.write(
        "service.env",
        format!("LOGS_URL=https://acmestore.blob.core.windows.net/logs?sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00:00:00Z&sig={service_sig}\n"),
    );
    let want = format!("/?comp=list&maxresults=1&{sas}");
    let p = Provider::start(&tree, move |s: &Seen| {
        if s.path == want && header(s, "x-ms-version") == "2021-08-06" {
            reply(
                200,
                r#"<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Containers /></EnumerationResults>"#,
            )
        } else {
            reply(
                403,
                r#"<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code></Error>"#,
            )
        }
    });
    let r = p.scan(&tree, &["--verify"]).expect(1);
    assert_hidden(&r, &sig);
    assert_hidden(&r, &service_sig);
    let f = r.findings();
    let v = |file: &str| {
        verification(
            f.iter()
                .find(|f| {
                    f["rule"] == "azure-sas-token" && f["path"].as_str().unwrap().ends_with(file)
                })
                .unwrap_or_else(|| panic!("{file}: {f:#?}")),
        )
        .clone()
    };
    let account = v("account.env");
    assert_eq!(account["status"], "live", "{account}");
    assert_eq!(account["identity"]["account"], "acmestore");
    let service = v("service.env");
    assert_eq!(service["status"], "unknown", "{service}");
    assert!(service["reason"]
        .as_str()
        .unwrap()
        .contains("not an account SAS"));
    assert_eq!(p.requests().len(), 1);
}

/// `git` with no user or system configuration.
fn git_at(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ada Tester")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada Tester")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE");
    c
}

fn git_ok(dir: &Path, args: &[&str]) {
    let out = git_at(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A bare repository whose pre-receive hook is `leakscan pre-receive ARGS`,
/// and a clone-to-be that pushes to it over file://.
struct PushPair {
    _dir: tempfile::TempDir,
    bare: std::path::PathBuf,
    work: std::path::PathBuf,
}

impl PushPair {
    fn new(hook_args: &str) -> PushPair {
        let dir = tempfile::tempdir().unwrap();
        let (bare, work) = (dir.path().join("srv.git"), dir.path().join("work"));
        std::fs::create_dir_all(&bare).unwrap();
        std::fs::create_dir_all(&work).unwrap();
        git_ok(&bare, &["init", "-q", "--bare", "-b", "main"]);
        let hook = bare.join("hooks").join("pre-receive");
        std::fs::write(
            &hook,
            format!(
                "#!/bin/sh\nexec '{}' pre-receive {hook_args}\n",
                env!("CARGO_BIN_EXE_leakscan")
            ),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        git_ok(&work, &["init", "-q", "-b", "main"]);
        let url = format!("file://{}", bare.display());
        git_ok(&work, &["remote", "add", "origin", &url]);
        std::fs::write(work.join("README"), "hello\n").unwrap();
        git_ok(&work, &["add", "."]);
        git_ok(&work, &["commit", "-q", "-m", "init"]);
        PushPair {
            _dir: dir,
            bare,
            work,
        }
    }

    fn commit(&self, file: &str, text: &str) {
        std::fs::write(self.work.join(file), text).unwrap();
        git_ok(&self.work, &["add", "."]);
        git_ok(&self.work, &["commit", "-q", "-m", &format!("add {file}")]);
    }

    /// `git push origin main` with the provider's CA and addresses in the
    /// environment the hook inherits: (exit code, stderr).
    fn push(&self, p: &Provider) -> (i32, String) {
        let hosts: Vec<String> = HOSTS.iter().map(|h| h.to_string()).collect();
        let out = git_at(&self.work)
            .args(["push", "-q", "origin", "main"])
            .env("LEAKSCAN_VERIFY_CA_FILE", &p.ca)
            .env("LEAKSCAN_VERIFY_RESOLVE", p.server.resolve_value(&hosts))
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn server_head(&self) -> Option<String> {
        let out = git_at(&self.bare)
            .args(["rev-parse", "-q", "--verify", "main"])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

#[test]
fn pre_receive_verify_annotates_and_fail_on_live_lets_revoked_secrets_through() {
    let tree = Tree::new();
    let (live, dead) = (fake::github_pat(70), fake::github_pat(71));
    let p = Provider::start(&tree, github(&live));
    let pair = PushPair::new("--verify --fail-on live --verify-deadline 20");
    // A revoked token: the provider says so, and --fail-on live lets it in.
    pair.commit("old.env", &format!("GITHUB_TOKEN={dead}\n"));
    let (code, err) = pair.push(&p);
    assert_eq!(code, 0, "{err}");
    assert!(pair.server_head().is_some());
    assert!(err.contains("[INVALID]"), "{err}");
    assert!(
        err.contains("1 secret let through (--fail-on live)"),
        "{err}"
    );
    assert!(!err.contains(&dead), "{err}");
    assert_eq!(p.requests().len(), 1);
    // A live one refuses the push and says whose it is.
    pair.commit("new.env", &format!("GITHUB_TOKEN={live}\n"));
    let before = pair.server_head();
    let (code, err) = pair.push(&p);
    assert_eq!(code, 1, "{err}");
    assert_eq!(pair.server_head(), before, "refused");
    assert!(err.contains("[LIVE id=583231 login=octocat]"), "{err}");
    assert!(!err.contains(&live), "{err}");
    assert_eq!(p.requests().len(), 2);
}

#[test]
fn pre_receive_verify_never_waits_past_its_deadline_and_fails_closed() {
    let tree = Tree::new();
    let dead = fake::github_pat(72);
    // The provider would say "invalid", but only after 30 s.
    let p = Provider::start(&tree, |_: &Seen| Reply {
        status: 401,
        body: r#"{"message":"Bad credentials"}"#.into(),
        delay: Duration::from_secs(30),
        ..Reply::default()
    });
    let pair = PushPair::new("--verify --fail-on live --verify-deadline 1");
    pair.commit("a.env", &format!("GITHUB_TOKEN={dead}\n"));
    let (code, err) = pair.push(&p);
    // Unanswered is not revoked: refused, and said why.
    assert_eq!(code, 1, "{err}");
    assert!(pair.server_head().is_none());
    assert!(err.contains("[UNKNOWN"), "{err}");
    assert!(err.contains("deadline"), "{err}");
    assert!(!err.contains(&dead), "{err}");
}

#[test]
fn pre_receive_sends_nothing_for_accepted_findings_or_without_verify() {
    let tree = Tree::new();
    let tok = fake::github_pat(73);
    let p = Provider::start(&tree, github(&tok));
    // Accepted by an inline marker: nothing to ask about.
    let pair = PushPair::new("--verify");
    pair.commit("a.env", &format!("GITHUB_TOKEN={tok} # leakscan:allow\n"));
    let (code, err) = pair.push(&p);
    assert_eq!(code, 0, "{err}");
    // Off by default: a refused push asks nothing either.
    let off = PushPair::new("");
    off.commit("a.env", &format!("GITHUB_TOKEN={tok}\n"));
    let (code, err) = off.push(&p);
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("[LIVE"), "{err}");
    assert_eq!(
        p.server
            .connections
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[test]
fn pre_push_verify_marks_the_secrets_it_refuses() {
    let tree = Tree::new();
    let live = fake::github_pat(74);
    let p = Provider::start(&tree, github(&live));
    let pair = PushPair::new("");
    let hook = pair.work.join(".git").join("hooks").join("pre-push");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nexec '{}' pre-push --verify \"$@\"\n",
            env!("CARGO_BIN_EXE_leakscan")
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    pair.commit("a.env", &format!("GITHUB_TOKEN={live}\n"));
    let (code, err) = pair.push(&p);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("[LIVE id=583231 login=octocat]"), "{err}");
    assert!(!err.contains(&live), "{err}");
    assert_eq!(p.requests().len(), 1);
    assert!(pair.server_head().is_none());
}

#[test]
fn sweep_csv_and_merge_carry_verdicts_and_merge_keeps_the_newest() {
    let tree = Tree::new();
    let root = tree.join("repos");
    let (live, dead) = (fake::github_pat(80), fake::github_pat(81));
    let names = ["a", "b", "c", "d", "e", "f"];
    for name in names {
        let mut text = format!("GITHUB_TOKEN={live}\n");
        if name == "a" {
            text += &format!("OLD_TOKEN={dead}\n");
        }
        // Distinct first commits: not forks of one another (which a shard keeps together).
        repo_with(&root, name, &[("ci.env", text), ("NAME", name.to_string())]);
    }
    let key = tree.write("sweep.key", "0123456789abcdef0123456789abcdef");
    let p = Provider::start(&tree, github(&live));
    let sweep = |extra: &[&str]| {
        run(p
            .cmd(&tree)
            .args(["sweep", "repos", "--verify", "--key-file"])
            .arg(&key)
            .args(extra))
    };
    // CSV: the verdict columns, never the secret.
    let r = sweep(&["--format", "csv"]).expect(1);
    assert_hidden(&r, &live);
    assert_hidden(&r, &dead);
    let mut lines = r.stdout.lines();
    let header = lines.next().unwrap();
    assert!(
        header.ends_with(",status,verification,checked_at,identity"),
        "{header}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 7, "{}", r.stdout);
    assert_eq!(rows.iter().filter(|l| l.contains(",live,")).count(), 6);
    assert!(rows
        .iter()
        .all(|l| !l.contains(",live,") || l.ends_with(",id=583231;login=octocat")));
    assert_eq!(rows.iter().filter(|l| l.contains(",invalid,")).count(), 1);
    // Without --verify the CSV is as before: no verdict columns.
    let plain = run(p
        .cmd(&tree)
        .args(["sweep", "repos", "--format", "csv", "--key-file"])
        .arg(&key))
    .expect(1);
    assert!(plain
        .stdout
        .lines()
        .next()
        .unwrap()
        .ends_with(",repos,status"));

    // Two shards, each verified on its own; the merge carries the verdicts.
    let shard = |i: usize| {
        let out = tree.join(&format!("s{i}.json"));
        sweep(&[
            "--format",
            "json",
            "--shard",
            &format!("{i}/2"),
            "-o",
            out.to_str().unwrap(),
        ]);
        out
    };
    let (s0, s1) = (shard(0), shard(1));
    let doc = |p: &Path| -> Value { serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap() };
    let live_key = doc(&s0)["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .chain(doc(&s1)["secrets"].as_array().unwrap())
        .find(|r| r["verification"]["status"] == "live")
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let in_both = [&s0, &s1].iter().all(|s| {
        doc(s)["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["key"] == live_key.as_str())
    });
    assert!(
        in_both,
        "the live token should be in both shards' repositories"
    );
    let merged = |format: &str| {
        run(leakscan()
            .args(["sweep", "merge", "-q", "--format", format])
            .arg(&s0)
            .arg(&s1))
        .expect(1)
    };
    let verdict_of = |m: &Run| -> Value {
        m.json()["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == live_key.as_str())
            .unwrap()["verification"]
            .clone()
    };
    let m = merged("json");
    assert_eq!(verdict_of(&m)["status"], "live");
    assert_eq!(verdict_of(&m)["identity"]["login"], "octocat");
    assert!(merged("csv")
        .stdout
        .lines()
        .next()
        .unwrap()
        .ends_with(",verification,checked_at,identity"));
    // An older verdict in one input does not override a newer one; a newer one does.
    let rewrite = |when: &str| {
        let mut d = doc(&s0);
        for r in d["secrets"].as_array_mut().unwrap() {
            if r["key"] == live_key.as_str() {
                r["verification"] =
                    serde_json::json!({"status": "invalid", "identity": {}, "checked_at": when});
            }
        }
        std::fs::write(&s0, serde_json::to_vec(&d).unwrap()).unwrap();
    };
    rewrite("2001-01-01T00:00:00Z");
    assert_eq!(verdict_of(&merged("json"))["status"], "live");
    rewrite("2999-01-01T00:00:00Z");
    let v = verdict_of(&merged("json"));
    assert_eq!(v["status"], "invalid");
    assert_eq!(v["checked_at"], "2999-01-01T00:00:00Z");
}

#[test]
fn sweep_reads_values_next_to_the_secret_too() {
    let tree = Tree::new();
    let root = tree.join("repos");
    let tok = fake::token("shpat_{hex:32}", 90);
    repo_with(
        &root,
        "shop",
        &[(
            "shop.env",
            format!("SHOPIFY_SHOP=acme-store.myshopify.com\nSHOPIFY_ACCESS_TOKEN={tok}\n"),
        )],
    );
    let p = Provider::start(&tree, |s: &Seen| {
        if s.host == "acme-store.myshopify.com" {
            reply(
                401,
                r#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#,
            )
        } else {
            reply(500, "")
        }
    });
    let r = run(p
        .cmd(&tree)
        .args(["sweep", "repos", "--format", "json", "--verify"]))
    .expect(1);
    assert_hidden(&r, &tok);
    let row = &r.json()["secrets"][0];
    assert_eq!(row["verification"]["status"], "invalid", "{row}");
    assert_eq!(p.requests()[0].host, "acme-store.myshopify.com");
}
