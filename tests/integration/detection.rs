//! Detection breadth through the binary: path-scoped credential-file rules
//! report the secrets inside files such as `.pgpass` or `.htpasswd`, and the
//! same content elsewhere is not reported; user rules can be path-scoped too.

use crate::util::*;

/// `(rule, secret)` of every finding in `path`.
fn found_in(r: &Run, path: &str) -> Vec<(String, String)> {
    r.findings()
        .iter()
        .filter(|f| f["path"].as_str().unwrap().trim_start_matches("./") == path)
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn credential_files_are_recognised_by_path() {
    let t = Tree::new();
    let pg = fake::password(1);
    let hash = fake::token("{alnum:8}${alnum:22}", 2);
    let master = fake::token("{hex:32}", 3);
    let fz = fake::token("{b64:24}", 4);
    let shadow = fake::token("{alnum:16}${alnum:86}", 5);
    t.write(
        "home/ada/.pgpass",
        format!("# comment\ndb.acme.io:5432:app:app_user:{pg}\n"),
    );
    t.write("site/.htpasswd", format!("admin:$apr1${hash}\n"));
    t.write("app/config/master.key", format!("{master}\n"));
    t.write(
        "ftp/sitemanager.xml",
        format!("<Server><Host>ftp.acme.io</Host><Pass encoding=\"base64\">{fz}</Pass></Server>\n"),
    );
    t.write(
        "backup/etc/shadow",
        format!("root:$6${shadow}:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"),
    );
    // The same lines in files of other names are not credential files.
    t.write(
        "notes/pgpass.txt",
        format!("db.acme.io:5432:app:app_user:{pg}\n"),
    );
    t.write("notes/users.txt", format!("admin:$apr1${hash}\n"));
    t.write("notes/key.txt", format!("{master}\n"));
    let r = t.scan_json(&[]).expect(1);
    assert_eq!(
        found_in(&r, "home/ada/.pgpass"),
        vec![("pgpass-password".to_string(), pg.clone())]
    );
    assert_eq!(
        found_in(&r, "site/.htpasswd"),
        vec![("htpasswd-hash".to_string(), hash.clone())]
    );
    assert_eq!(
        found_in(&r, "app/config/master.key"),
        vec![("rails-master-key".to_string(), master.clone())]
    );
    assert_eq!(
        found_in(&r, "ftp/sitemanager.xml"),
        vec![("filezilla-password".to_string(), fz)]
    );
    assert_eq!(
        found_in(&r, "backup/etc/shadow"),
        vec![("shadow-password-hash".to_string(), shadow)]
    );
    for other in ["notes/pgpass.txt", "notes/users.txt", "notes/key.txt"] {
        assert_eq!(found_in(&r, other), vec![], "{other}");
    }
}

#[test]
fn user_rules_can_be_path_scoped() {
    let t = Tree::new();
    let v = fake::token("{alnum:20}", 7);
    t.write(
        ".leakscan.toml",
        r#"
[[rules]]
id = "acme-secrets-file"
description = "every line of an .acme-secrets file"
paths = ["**/.acme-secrets"]
keywords = []
regex = '''(?m)^(?P<secret>[A-Za-z0-9]{20})$'''
examples = ["{alnum:20}"]
"#,
    );
    t.write("deploy/.acme-secrets", format!("{v}\n"));
    t.write("deploy/readme.txt", format!("{v}\n"));
    let r = t.scan_json(&[]).expect(1);
    assert_eq!(
        found_in(&r, "deploy/.acme-secrets"),
        vec![("acme-secrets-file".to_string(), v)]
    );
    assert_eq!(found_in(&r, "deploy/readme.txt"), vec![]);
    // `rules check` proves a path-scoped rule in a file its glob names, and
    // fails it when it also fires elsewhere.
    let r = run(leakscan()
        .args(["rules", "check", "--no-default-rules", "--config"])
        .arg(t.join(".leakscan.toml")))
    .expect(0);
    assert!(r.stderr.contains("0 problems"), "{}", r.stderr);
}

#[test]
fn a_rule_without_keywords_needs_paths() {
    let t = Tree::new();
    t.write(
        "bad.toml",
        r#"
[[rules]]
id = "no-keywords"
description = "demo"
keywords = []
regex = '''x{20}'''
examples = ["{alnum:20}"]
"#,
    );
    let r = run(leakscan()
        .args(["rules", "check", "--no-default-rules", "--config"])
        .arg(t.join("bad.toml")));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("only a rule with `paths`"),
        "{}",
        r.stderr
    );
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn base64_encoded_secrets_are_decoded_and_judged() {
    let t = Tree::new();
    let gh = fake::github_pat(11);
    let pw = fake::password(12);
    let enc_gh = b64(&gh);
    let enc_pw = b64(&pw);
    t.write(
        "k8s/secret.yaml",
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n  GITHUB_TOKEN: {enc_gh}\n  DB_PASSWORD: {enc_pw}\n  username: {}\n",
            b64("admin")
        ),
    );
    let enc_auth = b64(&format!("deploy:{pw}"));
    let placeholder_auth = b64("alice:secret-passwd");
    t.write(
        "scripts/fetch.sh",
        format!(
            "curl -H \"Authorization: Basic {placeholder_auth}\" https://git.acme.io/\ncurl -H \"Authorization: Basic {enc_auth}\" https://git.acme.io/\n"
        ),
    );
    let enc_docker = b64(&format!("ada:{gh}"));
    t.write(
        "docker/config.json",
        format!("{{\"auths\": {{\"ghcr.io\": {{\"auth\": \"{enc_docker}\"}}}}}}\n"),
    );
    let r = t.scan_json(&[]).expect(1);
    let got = encoded_rows(&r);
    let s = |x: &str| x.to_string();
    assert_eq!(
        got,
        vec![
            (
                s("docker/config.json"),
                1,
                s("github-pat"),
                enc_docker,
                s("base64")
            ),
            (
                s("k8s/secret.yaml"),
                7,
                s("github-pat"),
                enc_gh.clone(),
                s("base64")
            ),
            (
                s("k8s/secret.yaml"),
                8,
                s("generic-password-unquoted"),
                enc_pw,
                s("base64")
            ),
            (
                s("scripts/fetch.sh"),
                2,
                s("generic-basic-auth-header"),
                enc_auth,
                s("base64")
            ),
        ]
    );
    // Without --show-secrets the encoded text is redacted like any secret.
    let r = run(leakscan()
        .current_dir(t.path())
        .args(["scan", ".", "--format", "json"]))
    .expect(1);
    assert!(!r.stdout.contains(&enc_gh), "{}", r.stdout);
}

/// (path, line, rule, secret, encoding) of every finding, sorted.
fn encoded_rows(r: &Run) -> Vec<(String, u64, String, String, String)> {
    let mut rows: Vec<_> = r
        .findings()
        .iter()
        .map(|f| {
            (
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("./")
                    .to_string(),
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
                f["encoding"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn percent_encoded_and_escaped_secrets_name_their_encoding() {
    let t = Tree::new();
    let gh = fake::github_pat(21);
    let pw = fake::password(22);
    let hook_tail = format!(
        "T{}/B{}/{}",
        fake::token("{upper:9}", 23),
        fake::token("{upper:9}", 24),
        fake::token("{alnum:24}", 25)
    );
    // A token inside a percent-encoded redirect URL, a password with `%40`.
    let redirect = format!("https%3A%2F%2Fapi.acme.io%2F%3Ftoken%3D{gh}");
    let enc_pw = format!("{}%40{}", &pw[..8], &pw[8..]);
    t.write(
        "web/links.txt",
        format!(
            "login: https://acme.io/login?next={redirect}\nDATABASE_URL=postgres://app:{}@db.acme.io/app\nDB2=postgres://app:changeme%21@db.acme.io/app\n",
            enc_pw
        ),
    );
    // PHP's json_encode escapes `/`.
    let hook = format!(
        "https:\\/\\/hooks.slack.com\\/services\\/{}",
        hook_tail.replace('/', "\\/")
    );
    t.write("var/settings.json", format!("{{\"notify\":\"{hook}\"}}\n"));
    let r = t.scan_json(&[]).expect(1);
    let got = encoded_rows(&r);
    let s = |x: &str| x.to_string();
    assert_eq!(
        got,
        vec![
            (
                s("var/settings.json"),
                1,
                s("slack-webhook-url"),
                hook,
                s("escaped")
            ),
            (
                s("web/links.txt"),
                1,
                s("github-pat"),
                gh.clone(),
                s("percent")
            ),
            (
                s("web/links.txt"),
                2,
                s("postgres-connection-string"),
                enc_pw,
                s("percent")
            ),
        ]
    );
    // Redacted without --show-secrets, like any secret.
    let r = run(leakscan()
        .current_dir(t.path())
        .args(["scan", ".", "--format", "json"]))
    .expect(1);
    assert!(!r.stdout.contains(&gh), "{}", r.stdout);
}

#[test]
fn more_credential_files_are_found() {
    let t = Tree::new();
    let pw = fake::password(31);
    t.write(
        "etc/proftpd/sql.conf",
        format!(
            "<IfModule mod_sql.c>\n  SQLConnectInfo proftpd@db.acme.io proftpd {pw}\n</IfModule>\n"
        ),
    );
    let bcrypt = fake::token("{alnum:53}", 32);
    let phpass = fake::token("{alnum:31}", 33);
    let sql = format!(
        "-- MySQL dump 10.13\nINSERT INTO `users` VALUES (1,'ada@acme.io','$2y$10${bcrypt}'),(2,'bob@acme.io','$P${phpass}');\n"
    );
    t.write("backup/prod-dump.sql", &sql);
    // The same hash in a seed file is not reported (hashes stay negatives
    // outside credential files and dumps).
    t.write("db/seeds.sql", &sql);
    let word_token = fake::token("{lower:10}{upper:10}", 34);
    t.write("home/ci/.bashrc", format!("export PATH=$HOME/bin:$PATH\nexport DEPLOY_TOKEN={word_token}\nexport NPM_TOKEN=\"${{NPM_TOKEN:-}}\"\n"));
    let sf = fake::token("{digit:19}", 35);
    t.write(
        "src/sf.js",
        format!("const conn = new jsforce.Connection({{ oauth2: {{ clientId: 'x', clientSecret: '{sf}' }} }});\n"),
    );
    let blob: Vec<u8> = fake::token("{b64:64}", 36).into_bytes();
    t.write(".dbeaver/credentials-config.json", &blob);
    let r = t.scan_json(&[]).expect(1);
    let mut got: Vec<(String, String, String)> = r
        .findings()
        .iter()
        .map(|f| {
            (
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("./")
                    .to_string(),
                f["rule"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let s = |x: &str| x.to_string();
    let mut want = vec![
        (
            s(".dbeaver/credentials-config.json"),
            s("dbeaver-credentials-config"),
            String::from_utf8(blob).unwrap(),
        ),
        (
            s("backup/prod-dump.sql"),
            s("sql-dump-password-hash"),
            bcrypt,
        ),
        (
            s("backup/prod-dump.sql"),
            s("sql-dump-password-hash"),
            phpass,
        ),
        (s("etc/proftpd/sql.conf"), s("proftpd-sql-password"), pw),
        (
            s("home/ci/.bashrc"),
            s("shell-profile-exported-secret"),
            word_token,
        ),
        (s("src/sf.js"), s("salesforce-consumer-secret"), sf),
    ];
    want.sort();
    assert_eq!(got, want);
}

/// A SOPS value (`ENC[AES256_GCM,data:…,iv:…,tag:…,type:str]`) from a seed.
fn sops(seed: u64) -> String {
    fake::token(
        "ENC[AES256_GCM,data:{b64:24}=,iv:{b64:16},tag:{b64:22}==,type:str]",
        seed,
    )
}

#[test]
fn encrypted_values_are_not_reported_in_any_file_type() {
    let t = Tree::new();
    let clear = fake::password(40);
    let vault = |indent: &str| {
        let mut v = format!("{indent}$ANSIBLE_VAULT;1.1;AES256\n");
        for i in 0..4 {
            v.push_str(&format!("{indent}{}\n", fake::token("{hex:80}", 50 + i)));
        }
        v
    };
    let files: Vec<(&str, String)> = vec![
        (
            "secrets.enc.yaml",
            format!(
                "db:\n    password: {}\n    api_key: {}\n    other_password: {clear}\nsops:\n    mac: {}\n",
                sops(1),
                sops(2),
                sops(3)
            ),
        ),
        (
            "secrets.enc.json",
            format!(
                "{{\n  \"db_password\": \"{}\",\n  \"client_secret\": \"{}\"\n}}\n",
                sops(4),
                sops(5)
            ),
        ),
        ("deploy/.env", format!("DB_PASSWORD={}\nAPI_TOKEN={}\n", sops(6), sops(7))),
        ("app.ini", format!("[db]\npassword = {}\n", sops(8))),
        ("config.toml", format!("[db]\npassword = \"{}\"\n", sops(9))),
        (
            "src/main/resources/application.properties",
            format!(
                "spring.datasource.password={}\nmail.smtp.password=ENC({})\n",
                sops(10),
                fake::token("{b64:32}", 11)
            ),
        ),
        (
            "charts/app/secrets.yaml",
            format!("postgresql:\n  auth:\n    postgresPassword: {}\n", sops(12)),
        ),
        (".gitlab-ci.yml", format!("variables:\n  DEPLOY_TOKEN: \"{}\"\n", sops(13))),
        ("settings.py", format!("SECRET_KEY = '{}'\n", sops(14))),
        (
            "Web.config",
            format!("<add key=\"DbPassword\" value=\"{}\" />\n", sops(15)),
        ),
        (
            "group_vars/all.yml",
            format!("db_password: !vault |\n{}", vault("          ")),
        ),
        (
            "config/secrets.ejson",
            format!(
                "{{\"database_password\": \"EJ[1:{}=:{}:{}]\"}}\n",
                fake::token("{b64:43}", 16),
                fake::token("{b64:32}", 17),
                fake::token("{b64:28}", 18)
            ),
        ),
        (
            "k8s/sealed.yaml",
            format!(
                "kind: SealedSecret\nspec:\n  encryptedData:\n    password: Ag{}=\n",
                fake::token("{b64:600}", 19)
            ),
        ),
    ];
    for (path, text) in &files {
        t.write(path, text);
    }
    // A git-crypt file: the header, then ciphertext holding a token shape.
    let mut gc = b"\0GITCRYPT\0".to_vec();
    gc.extend_from_slice(format!("\x01\x02{}\x03", fake::github_pat(20)).as_bytes());
    t.write("secrets/prod.key", gc);
    let r = t.scan_json(&[]).expect(1);
    assert_eq!(
        found_in(&r, "secrets.enc.yaml"),
        vec![("generic-password-unquoted".to_string(), clear)]
    );
    assert_eq!(r.findings().len(), 1, "{}", r.stdout);
    assert!(r.json()["stats"]["encrypted"].as_u64().unwrap() >= 10);
}

#[test]
fn public_by_design_keys_are_counted_not_reported() {
    let t = Tree::new();
    let hex = |n: u64, seed: u64| fake::token(&format!("{{hex:{n}}}"), seed);
    let public = format!(
        "SENTRY_DSN=https://{}@o4817263.ingest.sentry.io/4504\n\
         STRIPE_PUBLISHABLE_KEY={}\n\
         MAPBOX_TOKEN={}\n\
         RECAPTCHA_SITE_KEY={}\n\
         NEXT_PUBLIC_ALGOLIA_SEARCH_API_KEY={}\n\
         <div class=\"cf-turnstile\" data-sitekey=\"0x4AAAAAAA{}\"></div>\n",
        hex(32, 1),
        fake::token("pk_live_{alnum:24}", 2),
        fake::token("pk.eyJ1{b64url:60}.{b64url:22}", 3),
        fake::token("6L{alnum:38}", 4),
        hex(32, 5),
        fake::token("{alnum:14}", 6),
    );
    t.write("web/.env.production", &public);
    let secret = format!(
        "STRIPE_SECRET_KEY={}\n\
         MAPBOX_DOWNLOADS_TOKEN={}\n\
         RECAPTCHA_SECRET_KEY={}\n\
         ALGOLIA_ADMIN_API_KEY={}\n\
         TURNSTILE_SECRET_KEY=0x4AAAAAAA{}\n",
        fake::stripe_live(7),
        fake::token("sk.eyJ1{b64url:60}.{b64url:22}", 8),
        fake::token("6L{alnum:38}", 9),
        hex(32, 10),
        fake::token("{alnum:25}", 11),
    );
    t.write("server/.env", &secret);
    let r = t.scan_json(&[]).expect(1);
    assert!(
        found_in(&r, "web/.env.production").is_empty(),
        "{}",
        r.stdout
    );
    let mut rules: Vec<String> = found_in(&r, "server/.env")
        .into_iter()
        .map(|(rule, _)| rule)
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            "algolia-admin-api-key",
            "mapbox-secret-token",
            "recaptcha-secret-key",
            "stripe-secret-key",
            "turnstile-secret-key"
        ]
    );
    // Shown, with the reason, under --show-suppressed.
    let shown = t.scan_json(&["--show-suppressed"]).expect(1);
    assert_eq!(
        r.json()["stats"]["suppressed"]["public_by_design"],
        6,
        "{}",
        shown.stdout
    );
    let r = shown;
    let public: Vec<_> = r
        .findings()
        .into_iter()
        .filter(|f| f["suppressed"]["reason"] == "public_by_design")
        .collect();
    assert_eq!(public.len(), 6, "{}", r.stdout);
}

#[test]
fn generic_base64_values_are_judged_after_decoding() {
    let t = Tree::new();
    let real = b64(&fake::token("{alnum:10}#{alnum:8}", 30));
    t.write(
        "t/t5563-simple-http-auth.sh",
        format!(
            "cat >get-expected.cred <<-EOF\n\tprotocol=http\n\tcredential={}\n\tcredential={}\nEOF\nCREDENTIAL={real}\n",
            b64("alice:secret-passwd"),
            b64("a-git-token"),
        ),
    );
    let r = t.scan_json(&[]).expect(1);
    let got = found_in(&r, "t/t5563-simple-http-auth.sh");
    assert_eq!(got.len(), 1, "{}", r.stdout);
    assert_eq!(got[0].1, real);
}

#[test]
fn confidence_follows_the_format_and_the_checksum() {
    use leakscan::rules::confidence::{base62_6, crc32};
    let t = Tree::new();
    let random = fake::token("{alnum:30}", 60);
    let sum = base62_6(crc32(random.as_bytes()));
    let good = format!("ghp_{random}{}", std::str::from_utf8(&sum).unwrap());
    // The same shape with a wrong checksum: reported, but not high.
    let mut wrong = sum;
    wrong[5] = if wrong[5] == b'A' { b'B' } else { b'A' };
    let bad = format!("ghp_{random}{}", std::str::from_utf8(&wrong).unwrap());
    let pw = fake::password(61);
    t.write(
        "ci.env",
        format!(
            "GITHUB_TOKEN={good}\nOTHER_TOKEN={bad}\nDB_PASSWORD={pw}\nZENDESK_API_TOKEN={}\n",
            fake::token("{alnum:40}", 62)
        ),
    );
    let r = t.scan_json(&[]).expect(1);
    let conf: Vec<(String, String)> = r
        .findings()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["confidence"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        conf,
        vec![
            s("github-pat", "high"),
            s("github-pat", "medium"),
            s("generic-password-unquoted", "low"),
            s("zendesk-api-token", "medium"),
        ]
    );
    let r = t.scan_json(&["--min-confidence", "high"]).expect(1);
    assert_eq!(r.findings().len(), 1);
    assert_eq!(r.json()["stats"]["suppressed"]["below_min_confidence"], 3);
    let r = t.scan_json(&["--min-confidence", "medium"]).expect(1);
    assert_eq!(r.findings().len(), 3);
    // Text marks medium and low; SARIF maps confidence to level and rank.
    let text = run(leakscan().current_dir(t.path()).args(["scan", "."])).expect(1);
    assert!(
        text.stdout.contains("  generic-password-unquoted [low]  "),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("  github-pat  "), "{}", text.stdout);
    assert!(
        text.stdout.contains("  github-pat [medium]  "),
        "{}",
        text.stdout
    );
    let sarif = run(leakscan()
        .current_dir(t.path())
        .args(["scan", ".", "--format", "sarif"]))
    .expect(1);
    let doc: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    let levels: Vec<(&str, f64)> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["level"].as_str().unwrap(), r["rank"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        levels,
        [
            ("error", 90.0),
            ("warning", 60.0),
            ("note", 30.0),
            ("warning", 60.0)
        ]
    );
}

#[test]
fn crypto_test_vectors_are_counted_not_reported_and_config_keys_still_are() {
    let t = Tree::new();
    let hex = |seed| fake::token("{hex:64}", seed);
    // OpenSSL evp_test style: the key's stanza holds the expected ciphertext.
    let mut evp = String::from("Title = AES-128-CBC test vectors\n\n");
    for i in 0..3 {
        evp += &format!(
            "Cipher = AES-128-CBC-HMAC-SHA256\nMACKey = {}\nIV = {}\nPlaintext = {}\nCiphertext = {}\n\n",
            hex(40 + i),
            hex(50 + i),
            hex(60 + i),
            hex(70 + i)
        );
    }
    // Key agreement vectors: the shared secret under a repeated `Derive`
    // header, and the names of the key blocks that precede them.
    let mut kas = String::new();
    for i in 0..3 {
        kas += &format!(
            "PrivateKey=KAS-ECC-CDH_P-192_C{i}\n-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n\nDerive=KAS-ECC-CDH_P-192_C{i}\nPeerKey=KAS-ECC-CDH_P-192_C{i}-Peer-PUBLIC\nSharedSecret={}\n\n",
            hex(80 + i)
        );
    }
    t.write("test/evpciph_aes.txt", evp);
    t.write("test/evppkey_kas.txt", kas);
    // A configuration file with a key, its IV and a cipher name is not a test
    // vector: no expected output, no repeated test header.
    let real = hex(90);
    t.write(
        "deploy/app.conf",
        format!(
            "cipher = aes-256-cbc\nencryption_key = {real}\niv = {}\n",
            hex(91)
        ),
    );
    let r = t.scan_json(&[]).expect(1);
    let rows: Vec<(String, String)> = r
        .findings()
        .iter()
        .map(|f| {
            (
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("./")
                    .to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![("deploy/app.conf".to_string(), real)],
        "{}",
        r.stdout
    );
    // 3 MAC keys and 3 shared secrets as test vectors, 3 key-block names.
    assert_eq!(r.json()["stats"]["test_vectors"], 9, "{}", r.stdout);
}
