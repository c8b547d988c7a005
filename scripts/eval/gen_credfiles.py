#!/usr/bin/env python3
"""Writes a labelled corpus of credential files and config idioms (issue #13):
the files people commit with secrets inside (.pgpass, .my.cnf, .s3cfg,
FileZilla, JetBrains, DBeaver, SFTP configs, .htpasswd, shadow, PHP and Rails
and Django and Spring and .NET configs, shell profiles, .netrc,
.git-credentials, kaggle.json, Kubernetes Secrets with base64 data, Docker
auth, basic-auth headers; ProFTPD and Ventrilo configs, SQL dumps with
password hashes, Salesforce/JS SDK configs, DBeaver credentials-config.json,
Spring YAML, shell profiles, percent-encoded and escaped secrets), each
beside hard negatives (placeholders, template
references, environment lookups, password hashes outside credential files,
base64 of placeholder credentials).

Same layout and label format as ../../shared/eval (score.py scores it):

    python3 scripts/eval/gen_credfiles.py --seed 1 --out /tmp/cred
    (cd /tmp/cred/tree && leakscan scan . --format json --show-secrets -o /tmp/cred.json)
    python3 ../shared/eval/score.py --corpus /tmp/cred --tool leakscan --findings /tmp/cred.json

Standard library only; every value comes from one seeded generator.
"""

import argparse
import base64
import json
import os
import random
import string

ALNUM = string.ascii_letters + string.digits


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.files = {}  # path -> list of lines (None: see raw)
        self.raw = {}  # path -> exact content (no trailing newline)
        self.labels = []
        self.negatives = []

    def s(self, n, alphabet=ALNUM):
        while True:
            v = "".join(self.r.choice(alphabet) for _ in range(n))
            # Random strings with a digit, a letter and no run of 3.
            if (any(c.isdigit() for c in v) and any(c.isalpha() for c in v)
                    and not any(v[i] == v[i + 1] == v[i + 2] for i in range(len(v) - 2))):
                return v

    def plain(self, n, alphabet):
        """Random string over one alphabet (letters only, digits only …), no run of 3."""
        while True:
            v = "".join(self.r.choice(alphabet) for _ in range(n))
            if not any(v[i] == v[i + 1] == v[i + 2] for i in range(len(v) - 2)):
                return v

    def pw(self):
        return self.s(self.r.randint(14, 22))

    def hexs(self, n):
        return self.s(n, "0123456789abcdef")

    def b64(self, text):
        return base64.b64encode(text.encode()).decode()

    def add(self, path, lines, secrets=(), negatives=()):
        """`secrets`: (line index, secret, kind); `negatives`: (line index, text, category)."""
        self.files[path] = lines
        for i, sec, kind in secrets:
            assert sec in lines[i], (path, sec)
            self.labels.append({"path": path, "line": i + 1, "secret": sec, "kind": kind})
        for i, text, cat in negatives:
            self.negatives.append({"path": path, "line": i + 1, "text": text, "category": cat})


def build(g, n):
    user = lambda: g.r.choice(["app", "deploy", "ci", "web", "etl", "ops"])
    host = lambda: g.r.choice(["db", "pg", "mysql", "ftp", "files"]) + f"{g.r.randint(1, 9)}.acme-{g.s(4).lower()}.io"
    for k in range(n):
        d = f"proj{k}"
        # .pgpass
        p = g.pw()
        g.add(f"{d}/home/{user()}/.pgpass", ["# hostname:port:database:username:password",
              f"{host()}:5432:app:{user()}:{p}", "localhost:5432:app:app:$PGPASSWORD"],
              [(1, p, "pgpass")], [(2, "$PGPASSWORD", "env-lookup")])
        # .my.cnf
        p = g.pw()
        g.add(f"{d}/home/{user()}/.my.cnf", ["[client]", f"user = {user()}", f"password = {p}",
              "[mysqldump]", "password = ${MYSQL_PASSWORD}"],
              [(2, p, "mysql-option-file")], [(4, "${MYSQL_PASSWORD}", "template-reference")])
        # .s3cfg
        sk = g.s(40, ALNUM + "+/")
        ak = "AKIA" + g.s(16, string.ascii_uppercase + string.digits)
        g.add(f"{d}/home/{user()}/.s3cfg", ["[default]", f"access_key = {ak}", f"secret_key = {sk}",
              "host_base = s3.amazonaws.com"], [(1, ak, "aws-access-key-id"), (2, sk, "s3cfg")])
        # FileZilla
        p = g.pw()
        enc = g.b64(p)
        g.add(f"{d}/FileZilla/sitemanager.xml", ['<?xml version="1.0" encoding="UTF-8"?>', "<FileZilla3>", "<Servers><Server>",
              f"<Host>{host()}</Host><Port>21</Port><User>{user()}</User>", f'<Pass encoding="base64">{enc}</Pass>',
              "</Server></Servers>", "</FileZilla3>"], [(4, enc, "filezilla")])
        p = g.pw()
        g.add(f"{d}/FileZilla/recentservers.xml", ["<FileZilla3><RecentServers><Server>", f"<Host>{host()}</Host>",
              f"<Pass>{p}</Pass>", "</Server></RecentServers></FileZilla3>"], [(2, p, "filezilla")])
        # JetBrains WebServers.xml
        p = g.hexs(40)
        g.add(f"{d}/.idea/WebServers.xml", ['<?xml version="1.0" encoding="UTF-8"?>', '<project version="4">',
              '  <component name="WebServers"><option name="servers"><webServer id="1" name="prod">',
              f'    <fileTransfer host="{host()}" port="21" accessType="FTP" login="{user()}" password="{p}" />',
              "  </webServer></option></component>", "</project>"], [(3, p, "jetbrains")])
        # DBeaver
        p = g.pw()
        g.add(f"{d}/.dbeaver/data-sources.json", ["{", '  "connections": {', '    "postgres-1": {',
              f'      "configuration": {{"host": "{host()}", "user": "{user()}", "password": "{p}"}}',
              "    }", "  }", "}"], [(3, p, "dbeaver")])
        # Sublime sftp-config.json and .remote-sync.json
        p = g.pw()
        g.add(f"{d}/sftp-config.json", ["{", '    "type": "sftp",', f'    "host": "{host()}",', f'    "user": "{user()}",',
              f'    "password": "{p}",', '    "remote_path": "/var/www/"', "}"], [(4, p, "sftp-config")])
        p = g.pw()
        g.add(f"{d}/.remote-sync.json", ["{", '  "transport": "scp",', f'  "hostname": "{host()}",',
              f'  "password": "{p}",', '  "target": "/srv/app"', "}"], [(3, p, "remote-sync")])
        # .htpasswd (a hash is the secret here) and a bcrypt hash elsewhere (negative)
        h = g.s(8, ALNUM) + "$" + g.s(22, ALNUM + "./")
        g.add(f"{d}/public/.htpasswd", [f"admin:$apr1${h}"], [(0, h, "htpasswd")])
        bh = "$2b$12$" + g.s(53, ALNUM + "./")
        g.add(f"{d}/db/seeds.sql", ["INSERT INTO users (email, password_hash) VALUES",
              f"  ('ada@acme.io', '{bh}');"], [], [(1, bh, "password-hash")])
        # shadow
        h = g.s(16, ALNUM + "./") + "$" + g.s(86, ALNUM + "./")
        g.add(f"{d}/backup/etc/shadow", [f"root:$6${h}:19700:0:99999:7:::", "daemon:*:19700:0:99999:7:::"],
              [(0, h, "shadow")])
        # PHP
        p = g.pw()
        g.add(f"{d}/wp-config.php", ["<?php", "define( 'DB_NAME', 'wordpress' );", "define( 'DB_USER', 'wp' );",
              f"define( 'DB_PASSWORD', '{p}' );", "define( 'DB_HOST', 'localhost' );"], [(3, p, "wp-config")])
        p = g.pw()
        g.add(f"{d}/includes/config.php", ["<?php", '$db_host = "localhost";', f'$db_pass = "{p}";',
              "$db_password = getenv('DB_PASSWORD');"], [(2, p, "php-config")], [(3, "getenv('DB_PASSWORD')", "env-lookup")])
        # Rails
        mk = g.hexs(32)
        g.add(f"{d}/config/master.key", [mk], [(0, mk, "rails-master-key")])
        p = g.pw()
        g.add(f"{d}/config/database.yml", ["production:", "  adapter: postgresql", f"  username: {user()}",
              f"  password: {p}", "staging:", "  password: <%= ENV['DATABASE_PASSWORD'] %>"],
              [(3, p, "database-yml")], [(5, "<%= ENV['DATABASE_PASSWORD'] %>", "template-reference")])
        # Django
        dk = "django-insecure-" + g.s(50, ALNUM + "!@#%^&*(-_=+)")
        g.add(f"{d}/mysite/settings.py", ["import os", f"SECRET_KEY = '{dk}'", "DEBUG = False",
              "OTHER_SECRET = os.environ['OTHER_SECRET']"], [(1, dk, "django-secret-key")],
              [(3, "os.environ['OTHER_SECRET']", "env-lookup")])
        # Spring
        p = g.pw()
        g.add(f"{d}/src/main/resources/application.properties", ["spring.datasource.url=jdbc:postgresql://db:5432/app",
              f"spring.datasource.username={user()}", f"spring.datasource.password={p}",
              "spring.mail.password=${MAIL_PASSWORD}"], [(2, p, "spring-datasource")],
              [(3, "${MAIL_PASSWORD}", "template-reference")])
        # .NET
        p = g.pw()
        g.add(f"{d}/appsettings.json", ["{", '  "ConnectionStrings": {',
              f'    "Default": "Server={host()};Database=app;User Id={user()};Password={p};"', "  }", "}"],
              [(2, p, "dotnet-connection-string")])
        # Shell profile
        gh = "ghp_" + g.s(36)
        g.add(f"{d}/home/{user()}/.bash_profile", ["export PATH=$HOME/bin:$PATH", f"export GITHUB_TOKEN={gh}",
              'export NPM_TOKEN="${NPM_TOKEN:-}"'], [(1, gh, "github-pat")], [(2, "${NPM_TOKEN:-}", "template-reference")])
        # .netrc and .git-credentials
        p = g.pw()
        g.add(f"{d}/home/{user()}/.netrc", [f"machine {host()} login {user()} password {p}"], [(0, p, "netrc")])
        p = g.pw()
        g.add(f"{d}/home/{user()}/.git-credentials", [f"https://{user()}:{p}@git.acme-{g.s(4).lower()}.io"],
              [(0, p, "git-credentials")])
        # kaggle.json
        kk = g.hexs(32)
        g.add(f"{d}/.kaggle/kaggle.json", [json.dumps({"username": user(), "key": kk})], [(0, kk, "kaggle")])
        # Kubernetes Secret with base64 data
        gh = "ghp_" + g.s(36)
        egh, epw = g.b64(gh), g.b64(g.pw())
        g.add(f"{d}/deploy/secret.yaml", ["apiVersion: v1", "kind: Secret", "metadata:", "  name: app", "type: Opaque",
              "data:", f"  GITHUB_TOKEN: {egh}", f"  DB_PASSWORD: {epw}", f"  username: {g.b64('admin')}"],
              [(6, egh, "k8s-secret-base64"), (7, epw, "k8s-secret-base64")], [(8, g.b64("admin"), "low-entropy")])
        # Docker auth and basic-auth headers
        gh = "ghp_" + g.s(36)
        ea = g.b64(f"{user()}:{gh}")
        g.add(f"{d}/.docker/config.json", ['{"auths": {"ghcr.io": {"auth": "' + ea + '"}}}'], [(0, ea, "docker-auth")])
        ea = g.b64(f"{user()}:{g.pw()}")
        en = g.b64("alice:secret-passwd")
        g.add(f"{d}/scripts/fetch.sh", ["#!/bin/sh", f'curl -H "Authorization: Basic {ea}" https://api.acme.io/',
              f'curl -H "Authorization: Basic {en}" https://example.com/'], [(1, ea, "basic-auth-header")],
              [(2, en, "placeholder")])


def build_more(g, n):
    """The file types added with the second round of issue #13: ProFTPD and
    voice-server configs, SQL dumps with password hashes, Salesforce / JS SDK
    config objects, DBeaver credentials-config.json, Spring YAML, shell
    profiles with word-only tokens, and percent-encoded or escaped secrets."""
    LETTERS = string.ascii_letters
    host = lambda: f"db{g.r.randint(1, 9)}.acme-{g.s(4).lower()}.io"
    for k in range(n):
        d = f"proj{k}"
        # ProFTPD mod_sql
        p = g.pw()
        g.add(f"{d}/etc/proftpd/sql.conf", ["<IfModule mod_sql.c>", "  SQLBackend mysql",
              f"  SQLConnectInfo proftpd@{host()}:3306 proftpd {p}",
              "  # SQLConnectInfo proftpd@localhost proftpd %{env:PROFTPD_DB_PASSWORD}", "</IfModule>"],
              [(2, p, "proftpd")], [(3, "%{env:PROFTPD_DB_PASSWORD}", "env-lookup")])
        # Ventrilo server
        p, a = g.pw(), g.pw()
        g.add(f"{d}/ventrilo/ventrilo_srv.ini", ["[Server]", "Name=Acme Guild", "Auth=1",
              f"AdminPassword={a}", f"Password={p}", "SendBuffer=0"],
              [(3, a, "ventrilo"), (4, p, "ventrilo")])
        # SQL dump: bcrypt, sha512-crypt and phpass hashes, a token in a row;
        # the same kind of row in a seed file is a negative (existing one).
        bc = "$2y$10$" + g.s(53, ALNUM + "./")
        sc = "$6$" + g.s(16, ALNUM + "./") + "$" + g.s(86, ALNUM + "./")
        ph = "$P$B" + g.s(30, ALNUM + "./")
        gh = "ghp_" + g.s(36)
        g.add(f"{d}/backup/prod-dump.sql", ["-- MySQL dump 10.13  Distrib 8.0.36", "LOCK TABLES `users` WRITE;",
              f"INSERT INTO `users` VALUES (1,'ada@acme.io','{bc}',NULL),(2,'bob@acme.io','{sc}','{gh}');",
              f"INSERT INTO `wp_users` VALUES (1,'admin','{ph}','admin@acme.io');",
              "-- the password column holds $2y$ bcrypt hashes", "UNLOCK TABLES;"],
              [(2, bc, "sql-dump-hash"), (2, sc, "sql-dump-hash"), (2, gh, "github-pat"), (3, ph, "sql-dump-hash")],
              [(4, "$2y$ bcrypt hashes", "documentation")])
        # Salesforce / JS SDK config objects
        cs = g.plain(19, string.digits)
        g.add(f"{d}/src/salesforce.js", ["const jsforce = require('jsforce');", "const conn = new jsforce.Connection({",
              "  oauth2: {", f"    clientId: '3MVG9{g.s(80)}',", f"    clientSecret: '{cs}',",
              "    redirectUri: 'https://acme.io/oauth/callback'", "  }", "});",
              "const other = { clientSecret: process.env.SF_CLIENT_SECRET };"],
              [(4, cs, "salesforce-consumer-secret")], [(8, "process.env.SF_CLIENT_SECRET", "env-lookup")])
        hx = g.s(64, "0123456789ABCDEF")
        g.add(f"{d}/config/sfdx.properties", ["sf.loginUrl=https://login.salesforce.com", f"sf.consumer.secret={hx}",
              "sf.consumer.key=${SF_CONSUMER_KEY}"], [(1, hx, "salesforce-consumer-secret")],
              [(2, "${SF_CONSUMER_KEY}", "template-reference")])
        # DBeaver credentials-config.json (AES blob: written here as 96
        # printable bytes, one line, no newline, as the rule sees it)
        blob = g.s(96, ALNUM + "+/")
        g.files[f"{d}/.dbeaver/credentials-config.json"] = None
        g.raw[f"{d}/.dbeaver/credentials-config.json"] = blob
        g.labels.append({"path": f"{d}/.dbeaver/credentials-config.json", "line": 1, "secret": blob,
                         "kind": "dbeaver-credentials"})
        # Spring application.yml (nested) with a word-only password
        p = g.plain(16, LETTERS)
        g.add(f"{d}/src/main/resources/application.yml", ["spring:", "  datasource:",
              f"    url: jdbc:postgresql://{host()}:5432/app", "    username: app", f"    password: {p}",
              "  mail:", "    password: ${MAIL_PASSWORD}"], [(4, p, "spring-yaml")],
              [(6, "${MAIL_PASSWORD}", "template-reference")])
        # Shell profile: a word-only token (no digit, no known prefix)
        t = g.plain(22, LETTERS)
        g.add(f"{d}/home/ci/.bashrc", ["alias ll='ls -l'", f"export DEPLOY_TOKEN={t}",
              "export TOKEN_FILE=/run/secrets/token", "export GITHUB_TOKEN=$(gh auth token)"],
              [(1, t, "shell-profile")], [(2, "/run/secrets/token", "file-path"), (3, "$(gh auth token)", "template-reference")])
        # Percent-encoded and escaped secrets
        gh = "ghp_" + g.s(36)
        pw = g.pw()
        epw = pw[:7] + "%40" + pw[7:]
        g.add(f"{d}/docs/links.txt", [f"login: https://acme.io/login?next=https%3A%2F%2Fapi.acme.io%2F%3Ftoken%3D{gh}",
              f"DATABASE_URL=postgres://app:{epw}@{host()}/app", "DB_TEST=postgres://app:changeme%21@localhost/app",
              'printf("%3d %2f", a, b);'],
              [(0, gh, "percent-encoded"), (1, epw, "percent-encoded")],
              [(2, "changeme%21", "placeholder"), (3, "%3d %2f", "printf")])
        hook = "https:\\/\\/hooks.slack.com\\/services\\/T" + g.plain(9, string.ascii_uppercase) + "\\/B" + \
            g.plain(9, string.ascii_uppercase) + "\\/" + g.s(24)
        pw = g.s(10) + "-" + g.s(6)  # a camelCase-looking random word would be a generic allowlist miss
        g.add(f"{d}/var/cache/settings.json", ['{"notify":"' + hook + '",',
              ' "env":"{\\"db_password\\": \\"' + pw + '\\"}",',
              ' "docs":"https:\\/\\/acme.io\\/help"}'],
              [(0, hook, "escaped"), (1, pw, "escaped")], [(2, "https:\\/\\/acme.io\\/help", "url")])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--copies", type=int, default=3, help="projects per corpus (each has every file type)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    g = Gen(a.seed)
    build(g, a.copies)
    build_more(g, a.copies)
    root = os.path.join(a.out, "tree")
    for path, lines in g.files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", newline="\n") as f:
            f.write(g.raw[path] if lines is None else "\n".join(lines) + "\n")
    with open(os.path.join(a.out, "labels.jsonl"), "w") as f:
        for l in g.labels:
            f.write(json.dumps(l, sort_keys=True) + "\n")
    with open(os.path.join(a.out, "negatives.jsonl"), "w") as f:
        for n in g.negatives:
            f.write(json.dumps(n, sort_keys=True) + "\n")
    meta = {"format": "leakscan-eval-corpus/1", "type": "files", "root": "tree", "split": "credfiles",
            "seed": a.seed, "files": len(g.files), "secrets": len(g.labels), "negatives": len(g.negatives),
            "kinds": sorted({l["kind"] for l in g.labels}),
            "negative_categories": sorted({n["category"] for n in g.negatives})}
    with open(os.path.join(a.out, "corpus.json"), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"{len(g.files)} files, {len(g.labels)} secrets, {len(g.negatives)} negatives in {a.out}")


if __name__ == "__main__":
    main()
