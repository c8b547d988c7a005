#!/usr/bin/env python3
"""Writes a labelled corpus of values that must NOT be reported (issue #25):
secrets encrypted at rest (Mozilla SOPS `ENC[AES256_GCM,…]`, Jasypt `ENC(…)`,
Ansible Vault files and `!vault |` values, age armor, EJSON `EJ[1:…]`,
Bitnami SealedSecret `encryptedData`, a git-crypt file) and public-by-design
keys (Sentry DSN, Stripe publishable, reCAPTCHA/hCaptcha/Turnstile site keys,
Algolia search-only, Mapbox `pk.`), in YAML, JSON, .env, INI, properties,
Helm values, CI files, TOML, Python/Go/JS source, XML and HTML; plus
base64 values that decode to placeholders (`credential=<b64 of
alice:secret-passwd>`). Beside them, the secret counterparts that MUST be
reported: a clear-text password next to SOPS values, Stripe `sk_live_`,
Mapbox `sk.`, reCAPTCHA/hCaptcha/Turnstile secret keys, Algolia admin keys,
a Sentry legacy DSN secret, and base64 of a random password.

Same layout and label format as ../../shared/eval (score.py scores it):

    python3 scripts/eval/gen_encrypted.py --seed 1 --out /tmp/enc
    (cd /tmp/enc/tree && leakscan scan . --format json --show-secrets -o /tmp/enc.json)
    python3 ../shared/eval/score.py --corpus /tmp/enc --tool leakscan --findings /tmp/enc.json

Standard library only; every value comes from one seeded generator.
"""

import argparse
import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_credfiles import Gen, ALNUM  # noqa: E402

B64 = ALNUM + "+/"
HEX = "0123456789abcdef"


def sops(g, kind="str"):
    """A SOPS value: AES256-GCM ciphertext, 12-byte IV, 16-byte tag."""
    data = g.b64(g.s(g.r.randint(12, 40)))
    iv = base64.b64encode(bytes(g.r.randrange(256) for _ in range(12))).decode()
    tag = base64.b64encode(bytes(g.r.randrange(256) for _ in range(16))).decode()
    return f"ENC[AES256_GCM,data:{data},iv:{iv},tag:{tag},type:{kind}]"


def vault_lines(g, indent):
    out = [indent + "$ANSIBLE_VAULT;1.1;AES256"]
    for _ in range(5):
        out.append(indent + g.plain(80, HEX))
    return out


def age_armor(g, indent=""):
    out = [indent + "-----BEGIN AGE ENCRYPTED FILE-----"]
    for _ in range(4):
        out.append(indent + g.plain(64, B64))
    out.append(indent + g.plain(20, B64) + "==")
    out.append(indent + "-----END AGE ENCRYPTED FILE-----")
    return out


def ejson(g):
    def b(n):
        return base64.b64encode(bytes(g.r.randrange(256) for _ in range(n))).decode()
    return f"EJ[1:{b(32)}:{b(24)}:{b(20)}]"


def build(g, d):
    pw = g.pw
    # SOPS in YAML, with a clear-text password beside it (reported).
    clear = pw()
    lines = ["db:", f"    password: {sops(g)}", f"    api_key: {sops(g)}", f"    other_password: {clear}",
             "sops:", "    age:", "        - recipient: age1" + g.plain(58, "023456789acdefghjklmnpqrstuvwxyz"),
             "          enc: |"] + age_armor(g, "            ") + [
             "    lastmodified: \"2026-11-30T10:00:00Z\"", f"    mac: {sops(g)}", "    version: 3.9.0"]
    g.add(f"{d}/secrets.enc.yaml", lines, [(3, clear, "password")],
          [(1, "ENC[", "sops"), (2, "ENC[", "sops"), (16, "ENC[", "sops")])
    # SOPS JSON, dotenv, INI, TOML, properties, Helm values, CI file.
    g.add(f"{d}/secrets.enc.json", ["{", f"  \"db_password\": \"{sops(g)}\",",
                                    f"  \"client_secret\": \"{sops(g)}\"", "}"], [],
          [(1, "ENC[", "sops"), (2, "ENC[", "sops")])
    g.add(f"{d}/.env.enc", [f"DB_PASSWORD={sops(g)}", f"API_TOKEN={sops(g)}", f"sops_mac={sops(g)}"], [],
          [(0, "ENC[", "sops"), (1, "ENC[", "sops")])
    g.add(f"{d}/app.enc.ini", ["[database]", f"password = {sops(g)}", f"secret_key = {sops(g)}"], [],
          [(1, "ENC[", "sops"), (2, "ENC[", "sops")])
    g.add(f"{d}/config.enc.toml", ["[db]", f"password = \"{sops(g)}\"", f"api_key = \"{sops(g)}\""], [],
          [(1, "ENC[", "sops"), (2, "ENC[", "sops")])
    jas = "ENC(" + g.plain(32, B64) + ")"
    g.add(f"{d}/src/main/resources/application.properties",
          [f"spring.datasource.password={sops(g)}", f"mail.smtp.password={jas}"], [],
          [(0, "ENC[", "sops"), (1, "ENC(", "jasypt")])
    g.add(f"{d}/charts/app/secrets.yaml", ["postgresql:", "  auth:", f"    password: {sops(g)}",
                                           f"    postgresPassword: {sops(g)}"], [],
          [(2, "ENC[", "sops"), (3, "ENC[", "sops")])
    g.add(f"{d}/.gitlab-ci.yml", ["variables:", f"  DEPLOY_TOKEN: \"{sops(g)}\"", "deploy:",
                                  "  script: [./deploy.sh]"], [], [(1, "ENC[", "sops")])
    g.add(f"{d}/settings.py", [f"DB_PASSWORD = \"{sops(g)}\"", f"SECRET_KEY = '{sops(g)}'"], [],
          [(0, "ENC[", "sops"), (1, "ENC[", "sops")])
    g.add(f"{d}/Web.config", ["<appSettings>", f"  <add key=\"DbPassword\" value=\"{sops(g)}\" />",
                              "</appSettings>"], [], [(1, "ENC[", "sops")])
    # Ansible Vault: inline values and a whole vaulted file.
    lines = ["db_user: app", "db_password: !vault |"] + vault_lines(g, "          ") + [
        "api_token: !vault |"] + vault_lines(g, "          ")
    g.add(f"{d}/group_vars/all.yml", lines, [], [(1, "!vault", "ansible-vault"), (2, "$ANSIBLE_VAULT", "ansible-vault")])
    g.add(f"{d}/group_vars/vault.yml", vault_lines(g, ""), [], [(0, "$ANSIBLE_VAULT", "ansible-vault")])
    # age armor, EJSON, SealedSecret.
    g.add(f"{d}/keys/prod.env.age", age_armor(g), [], [(1, "", "age")])
    g.add(f"{d}/config/secrets.ejson", ["{", "  \"_public_key\": \"" + g.hexs(64) + "\",",
                                        f"  \"database_password\": \"{ejson(g)}\",",
                                        f"  \"stripe_secret_key\": \"{ejson(g)}\"", "}"], [],
          [(2, "EJ[", "ejson"), (3, "EJ[", "ejson")])
    sealed = ["apiVersion: bitnami.com/v1alpha1", "kind: SealedSecret", "metadata:", "  name: db",
              "spec:", "  encryptedData:"]
    for key in ("password", "api_token", "client_secret"):
        sealed.append(f"    {key}: Ag" + g.plain(600, B64) + "=")
    g.add(f"{d}/k8s/sealed-db.yaml", sealed, [], [(6, "Ag", "sealed-secret"), (7, "Ag", "sealed-secret")])

    # Public by design, with their secret counterparts.
    hx = g.hexs
    dsn = f"https://{hx(32)}@o{g.plain(6, '123456789')}.ingest.sentry.io/{g.plain(7, '123456789')}"
    legacy = hx(32)
    legacy_dsn = f"https://{hx(32)}:{legacy}@sentry.acme.internal/4"
    pk = "pk_live_" + g.s(24)
    pk_test = "pk_test_51" + g.s(97)
    sk = "sk_live_" + g.s(24)
    mapbox_pk = "pk.eyJ1" + g.s(60, ALNUM + "_-") + "." + g.s(22, ALNUM + "_-")
    mapbox_sk = "sk.eyJ1" + g.s(60, ALNUM + "_-") + "." + g.s(22, ALNUM + "_-")
    site = "6L" + g.s(38)
    secret = "6L" + g.s(38)
    hsite = f"{hx(8)}-{hx(4)}-{hx(4)}-{hx(4)}-{hx(12)}"
    hsecret = "0x" + hx(40)
    tsite = "0x4AAAAAAA" + g.s(14)
    tsecret_tail = g.s(25)
    tsecret = "0x4AAAAAAA" + tsecret_tail
    search = hx(32)
    admin = hx(32)
    g.add(f"{d}/web/src/sentry.js", ["Sentry.init({", f"  dsn: \"{dsn}\",", "});"], [], [(1, dsn, "sentry-dsn")])
    g.add(f"{d}/web/.env.production", [f"NEXT_PUBLIC_SENTRY_DSN={dsn}", f"NEXT_PUBLIC_STRIPE_KEY={pk}",
                                       f"NEXT_PUBLIC_ALGOLIA_SEARCH_API_KEY={search}",
                                       f"NEXT_PUBLIC_MAPBOX_TOKEN={mapbox_pk}",
                                       f"NEXT_PUBLIC_RECAPTCHA_SITE_KEY={site}"], [],
          [(0, dsn, "sentry-dsn"), (1, pk, "stripe-pk"), (2, search, "algolia-search"),
           (3, mapbox_pk, "mapbox-pk"), (4, site, "recaptcha-site")])
    g.add(f"{d}/web/checkout.html", [f"<script>const stripe = Stripe(\"{pk_test}\");</script>",
                                     f"<div class=\"g-recaptcha\" data-sitekey=\"{site}\"></div>",
                                     f"<div class=\"h-captcha\" data-hcaptcha-sitekey=\"{hsite}\"></div>",
                                     f"<div class=\"cf-turnstile\" data-sitekey=\"{tsite}\"></div>"], [],
          [(0, pk_test, "stripe-pk"), (1, site, "recaptcha-site"), (3, tsite, "turnstile-site")])
    g.add(f"{d}/server/.env", [f"STRIPE_SECRET_KEY={sk}", f"MAPBOX_DOWNLOADS_TOKEN={mapbox_sk}",
                               f"RECAPTCHA_SECRET_KEY={secret}", f"HCAPTCHA_SECRET={hsecret}",
                               f"TURNSTILE_SECRET_KEY={tsecret}", f"ALGOLIA_ADMIN_API_KEY={admin}",
                               f"SENTRY_DSN={legacy_dsn}", f"HCAPTCHA_SITE_KEY={hsite}"],
          [(0, sk, "stripe"), (1, mapbox_sk, "mapbox"), (2, secret, "recaptcha"), (3, hsecret, "hcaptcha"),
           (4, tsecret_tail, "turnstile"), (5, admin, "algolia"), (6, legacy, "sentry")],
          [(7, hsite, "hcaptcha-site")])

    # Base64 that decodes to a placeholder (git's t5563), and of a real password.
    real = pw()
    g.add(f"{d}/t/t5563-auth.sh", [
        "cat >get-expected.cred <<-EOF",
        "\tprotocol=http",
        "\tcredential=" + g.b64("alice:secret-passwd"),
        "\tcredential=" + g.b64("a-git-token"),
        "EOF",
        "CREDENTIAL=" + g.b64(real),
    ], [(5, g.b64(real), "base64-password")],
        [(2, g.b64("alice:secret-passwd"), "base64-placeholder"), (3, g.b64("a-git-token"), "base64-placeholder")])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    g = Gen(a.seed)
    for i in range(a.copies):
        build(g, f"p{i}")
    root = os.path.join(a.out, "tree")
    for path, lines in g.files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
    # A git-crypt file: the header, then ciphertext.
    for i in range(a.copies):
        full = os.path.join(root, f"p{i}", "secrets", "prod.key")
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(b"\0GITCRYPT\0" + bytes(g.r.randrange(256) for _ in range(4096)))
    with open(os.path.join(a.out, "labels.jsonl"), "w") as f:
        for l in g.labels:
            f.write(json.dumps(l, sort_keys=True) + "\n")
    with open(os.path.join(a.out, "negatives.jsonl"), "w") as f:
        for n in g.negatives:
            f.write(json.dumps(n, sort_keys=True) + "\n")
    meta = {"format": "leakscan-eval-corpus/1", "type": "files", "root": "tree", "split": "encrypted",
            "seed": a.seed, "files": len(g.files), "secrets": len(g.labels), "negatives": len(g.negatives),
            "kinds": sorted({l["kind"] for l in g.labels}),
            "negative_categories": sorted({n["category"] for n in g.negatives})}
    with open(os.path.join(a.out, "corpus.json"), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"{len(g.files)} files, {len(g.labels)} secrets, {len(g.negatives)} negatives in {a.out}")


if __name__ == "__main__":
    main()
