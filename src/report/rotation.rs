//! What to do about a leaked secret, by provider: the help text of each rule
//! in SARIF (and the HTML report). The rules file says *what* a rule finds
//! (its description); this table says how that provider's credentials are
//! revoked or rotated, keyed by rule-id prefix (the longest prefix wins), with
//! a generic fallback for every rule it does not know.

use crate::rules::Rule;

/// One provider family.
pub struct Family {
    /// Rule-id prefix, matched at a `-` boundary (`aws` matches `aws-…`).
    pub prefix: &'static str,
    pub provider: &'static str,
    /// The provider's page on revoking or rotating this kind of credential.
    pub url: &'static str,
    /// Where and how to revoke it, one sentence.
    pub revoke: &'static str,
    /// GitHub code scanning's `security-severity` (0.0–10.0; 9.0 and up is critical).
    pub severity: f32,
}

const fn fam(
    prefix: &'static str,
    provider: &'static str,
    url: &'static str,
    revoke: &'static str,
    severity: f32,
) -> Family {
    Family {
        prefix,
        provider,
        url,
        revoke,
        severity,
    }
}

/// Secret-handling guidance for anything the table does not name.
pub const GENERIC_URL: &str =
    "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html";
const KEY_URL: &str =
    "https://cheatsheetseries.owasp.org/cheatsheets/Key_Management_Cheat_Sheet.html";

/// Provider families. Keep prefixes lower-case; more specific prefixes may
/// follow general ones (the longest match is used, not the first).
pub const FAMILIES: &[Family] = &[
    fam("aws", "AWS", "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
        "In the IAM console, create a new access key for the user or role, move every consumer to it, then deactivate and delete the leaked key; check CloudTrail for calls made with it.", 9.5),
    fam("gcp", "Google Cloud", "https://cloud.google.com/docs/authentication/api-keys",
        "In the Google Cloud console (APIs & Services, Credentials), regenerate or delete the key and add restrictions to its replacement.", 9.0),
    fam("gcp-service-account-key", "Google Cloud", "https://cloud.google.com/iam/docs/keys-create-delete",
        "Delete the service account key in IAM (Service accounts, Keys), create a new one only if workload identity cannot replace it, and review the audit logs.", 9.5),
    fam("google", "Google", "https://cloud.google.com/docs/authentication/api-keys",
        "Revoke the token or regenerate the key in the Google Cloud console or the account's security settings.", 8.0),
    fam("firebase", "Firebase", "https://cloud.google.com/docs/authentication/api-keys",
        "Regenerate the key in the Firebase or Google Cloud console and restrict its replacement.", 8.0),
    fam("azure", "Microsoft Azure", "https://learn.microsoft.com/en-us/azure/storage/common/storage-account-keys-manage",
        "Rotate the key or secret in the Azure portal (regenerate the key, or delete the client secret and add a new one), then update every consumer.", 9.0),
    fam("azure-devops", "Azure DevOps", "https://learn.microsoft.com/en-us/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate",
        "Revoke the personal access token under User settings, Personal access tokens, and create a new one with the narrowest scope.", 8.5),
    fam("azure-ad", "Microsoft Entra ID", "https://learn.microsoft.com/en-us/entra/identity-platform/howto-create-service-principal-portal",
        "Delete the client secret under the app registration's Certificates & secrets and add a new one (or switch to a certificate or managed identity).", 9.0),
    fam("digitalocean", "DigitalOcean", "https://docs.digitalocean.com/reference/api/create-personal-access-token/",
        "Delete the token in the control panel (API, Tokens) and generate a new one.", 9.0),
    fam("cloudflare", "Cloudflare", "https://developers.cloudflare.com/fundamentals/api/get-started/create-token/",
        "Roll or delete the token in the dashboard (My Profile, API Tokens); the Global API Key can be rolled there too.", 8.5),
    fam("heroku", "Heroku", "https://devcenter.heroku.com/articles/authentication",
        "Regenerate the API key (Account settings) or revoke the authorization with `heroku authorizations:revoke`.", 8.5),
    fam("github", "GitHub", "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/token-expiration-and-revocation",
        "Delete the token in Settings, Developer settings (or the app's settings), create a new one with the least scope, and check the security log.", 9.0),
    fam("gitlab", "GitLab", "https://docs.gitlab.com/ee/security/token_overview.html",
        "Revoke the token where it was created (user, project, group or runner settings) and create a new one.", 9.0),
    fam("bitbucket", "Bitbucket", "https://support.atlassian.com/bitbucket-cloud/docs/app-passwords/",
        "Revoke the app password in Personal settings and create a new one.", 8.5),
    fam("atlassian", "Atlassian", "https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/",
        "Revoke the API token in your Atlassian account's security settings and create a new one.", 8.0),
    fam("npm", "npm", "https://docs.npmjs.com/revoking-access-tokens",
        "Revoke the token (`npm token revoke`, or Access Tokens on the website) and create a new granular token.", 9.0),
    fam("npmrc", "npm", "https://docs.npmjs.com/revoking-access-tokens",
        "Revoke the token (`npm token revoke`) and keep its replacement out of committed .npmrc files (use an environment variable).", 9.0),
    fam("pypi", "PyPI", "https://pypi.org/help/#apitoken",
        "Remove the token in Account settings, API tokens, and prefer trusted publishing for CI.", 9.0),
    fam("rubygems", "RubyGems", "https://guides.rubygems.org/api-key-scopes/",
        "Delete the API key on rubygems.org (Settings, API keys) and create a scoped one.", 9.0),
    fam("nuget", "NuGet", "https://learn.microsoft.com/en-us/nuget/nuget-org/scoped-api-keys",
        "Delete or regenerate the key on nuget.org (API Keys).", 9.0),
    fam("crates-io", "crates.io", "https://doc.rust-lang.org/cargo/reference/publishing.html",
        "Revoke the token on crates.io (Account settings, API Tokens) and create a scoped one.", 9.0),
    fam("docker", "Docker Hub", "https://docs.docker.com/security/for-developers/access-tokens/",
        "Delete the access token in Docker Hub (Account settings, Personal access tokens) and log in again with a new one.", 8.5),
    fam("dockerhub", "Docker Hub", "https://docs.docker.com/security/for-developers/access-tokens/",
        "Delete the access token in Docker Hub (Account settings, Personal access tokens) and create a new one.", 8.5),
    fam("terraform", "HCP Terraform", "https://developer.hashicorp.com/terraform/cloud-docs/users-teams-organizations/api-tokens",
        "Delete the API token in the user, team or organization settings and create a new one.", 9.0),
    fam("vault", "HashiCorp Vault", "https://developer.hashicorp.com/vault/docs/concepts/tokens",
        "Revoke the token (`vault token revoke`, or its accessor) and issue a new one with a short TTL.", 9.5),
    fam("slack", "Slack", "https://api.slack.com/authentication/token-types",
        "Revoke the token (the app's OAuth & Permissions page, or `auth.revoke`) and reinstall the app for a new one.", 7.5),
    fam("slack-webhook-url", "Slack", "https://api.slack.com/messaging/webhooks",
        "Remove the webhook from the app's Incoming Webhooks page and create a new one.", 5.5),
    fam("slack-workflow-webhook-url", "Slack", "https://api.slack.com/messaging/webhooks",
        "Remove the workflow's webhook trigger and create a new one.", 5.5),
    fam("discord", "Discord", "https://discord.com/developers/docs/reference#authentication",
        "Reset the bot token in the Developer Portal (the application's Bot page).", 7.5),
    fam("discord-webhook-url", "Discord", "https://support.discord.com/hc/en-us/articles/228383668-Intro-to-Webhooks",
        "Delete the webhook in the channel's Integrations settings and create a new one.", 5.5),
    fam("telegram", "Telegram", "https://core.telegram.org/bots/features#botfather",
        "Send /revoke to @BotFather for the bot to get a new token.", 7.0),
    fam("twilio", "Twilio", "https://www.twilio.com/docs/iam/api-keys",
        "Delete the API key (or rotate the auth token with a secondary token) in the Twilio console.", 8.5),
    fam("sendgrid", "SendGrid", "https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys",
        "Delete the API key in Settings, API Keys, and create a new one with restricted access.", 8.0),
    fam("stripe", "Stripe", "https://docs.stripe.com/keys",
        "Roll the key in the Dashboard (Developers, API keys); for webhook secrets, roll the endpoint's signing secret.", 9.5),
    fam("openai", "OpenAI", "https://platform.openai.com/api-keys",
        "Delete the key on the API keys page of the OpenAI platform and create a new one for the project.", 8.5),
    fam("anthropic", "Anthropic", "https://console.anthropic.com/settings/keys",
        "Disable or delete the key in the Anthropic Console (Settings, API keys) and create a new one.", 8.5),
    fam("huggingface", "Hugging Face", "https://huggingface.co/docs/hub/security-tokens",
        "Invalidate or delete the token in Settings, Access Tokens, and create a fine-grained one.", 8.0),
    fam("datadog", "Datadog", "https://docs.datadoghq.com/account_management/api-app-keys/",
        "Revoke the key in Organization settings (API keys or Application keys) and create a new one.", 8.0),
    fam("new-relic", "New Relic", "https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/",
        "Delete or rotate the key in the API keys UI and update the agents or clients that use it.", 7.5),
    fam("sentry", "Sentry", "https://docs.sentry.io/account/auth-tokens/",
        "Revoke the auth token in Sentry's settings (User or Organization auth tokens); for a DSN, rotate the project's client key.", 7.0),
    fam("grafana", "Grafana", "https://grafana.com/docs/grafana/latest/administration/service-accounts/",
        "Delete the service account token or API key in Grafana (Administration, Service accounts) and create a new one.", 8.0),
    fam("okta", "Okta", "https://developer.okta.com/docs/guides/create-an-api-token/main/",
        "Revoke the API token in the Admin Console (Security, API, Tokens).", 9.0),
    fam("pagerduty", "PagerDuty", "https://support.pagerduty.com/main/docs/api-access-keys",
        "Delete the API key (Integrations, API Access Keys) and create a new one.", 7.5),
    fam("shopify", "Shopify", "https://shopify.dev/docs/apps/build/authentication-authorization",
        "Rotate the app's access token or API secret in the Partner Dashboard or the store's app settings.", 8.5),
    fam("alibaba", "Alibaba Cloud", "https://www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair",
        "In the RAM console, create a new AccessKey pair for the user, switch consumers to it, then disable and delete the leaked one.", 9.0),
    fam("ibm-cloud", "IBM Cloud", "https://cloud.ibm.com/docs/account?topic=account-userapikey",
        "Delete the API key under Manage, Access (IAM), API keys, and create a new one.", 9.0),
    fam("scaleway", "Scaleway", "https://www.scaleway.com/en/docs/iam/how-to/create-api-keys/",
        "Delete the API key in the IAM section of the console and create a new one.", 9.0),
    fam("circleci", "CircleCI", "https://circleci.com/docs/managing-api-tokens/",
        "Delete the personal or project API token in CircleCI's settings and create a new one.", 8.5),
    fam("buildkite", "Buildkite", "https://buildkite.com/docs/apis/managing-api-tokens",
        "Revoke the API access token in Personal settings and create a new one with the scopes it needs.", 8.5),
    fam("netlify", "Netlify", "https://docs.netlify.com/api/get-started/#authentication",
        "Delete the personal access token under User settings, Applications, and create a new one.", 8.0),
    fam("vercel", "Vercel", "https://vercel.com/docs/rest-api#creating-an-access-token",
        "Delete the token in Account settings, Tokens, and create a new one with an expiry.", 8.0),
    fam("flyio", "Fly.io", "https://fly.io/docs/security/tokens/",
        "Revoke the token (`fly tokens revoke`) and issue a narrower one.", 8.0),
    fam("supabase", "Supabase", "https://supabase.com/docs/guides/api/api-keys",
        "Revoke the access token in the dashboard (Account, Access tokens), or roll the project's keys.", 8.5),
    fam("pulumi", "Pulumi", "https://www.pulumi.com/docs/pulumi-cloud/access-management/access-tokens/",
        "Delete the access token in Pulumi Cloud (Personal access tokens) and create a new one.", 8.0),
    fam("tailscale", "Tailscale", "https://tailscale.com/kb/1085/auth-keys",
        "Revoke the auth or API key in the admin console (Settings, Keys) and generate a new one.", 8.5),
    fam("microsoft-teams", "Microsoft Teams", "https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook",
        "Remove the incoming webhook from the channel and create a new one.", 5.5),
    fam("mailchimp", "Mailchimp", "https://mailchimp.com/help/about-api-keys/",
        "Disable the API key in Account, Extras, API keys, and create a new one.", 7.5),
    fam("square", "Square", "https://developer.squareup.com/docs/build-basics/access-tokens",
        "Replace the access token (or revoke the OAuth token) in the Developer Dashboard.", 9.0),
    fam("hubspot", "HubSpot", "https://developers.hubspot.com/docs/api/private-apps",
        "Rotate the private app's access token in the app's settings.", 8.0),
    fam("asana", "Asana", "https://developers.asana.com/docs/personal-access-token",
        "Deauthorize the personal access token in the developer console and create a new one.", 7.5),
    fam("dropbox", "Dropbox", "https://developers.dropbox.com/oauth-guide",
        "Revoke the token (`/2/auth/token/revoke`, or the app console) and reauthorize.", 8.0),
    fam("airtable", "Airtable", "https://airtable.com/developers/web/guides/personal-access-tokens",
        "Delete or regenerate the token in the developer hub and create a new one with the scopes it needs.", 7.5),
    fam("auth0", "Auth0", "https://auth0.com/docs/get-started/applications/rotate-client-secret",
        "Rotate the application's client secret in the Auth0 dashboard or Management API.", 9.0),
    fam("mapbox", "Mapbox", "https://docs.mapbox.com/accounts/guides/tokens/",
        "Delete or rotate the secret token on the account's Access tokens page.", 6.5),
    fam("algolia", "Algolia", "https://www.algolia.com/doc/guides/security/api-keys/",
        "Regenerate the Admin API key (or delete the key) in the dashboard's API Keys settings.", 8.5),
    fam("databricks", "Databricks", "https://docs.databricks.com/en/dev-tools/auth/pat.html",
        "Revoke the personal access token in User settings, Developer, Access tokens, and create a new one.", 9.0),
    fam("notion", "Notion", "https://developers.notion.com/docs/authorization",
        "Refresh the integration's secret in the integration settings.", 7.5),
    fam("private-key", "Private key", KEY_URL,
        "Treat the key pair as compromised: issue a new key pair, replace the public key or certificate wherever it is trusted (revoke the certificate, remove the key from authorized_keys), and retire the old one.", 9.0),
    fam("wireguard-private-key", "WireGuard", KEY_URL,
        "Generate a new key pair (`wg genkey`) and replace the peer's public key on every other peer.", 8.5),
    fam("age-secret-key", "age", KEY_URL,
        "Generate a new identity (`age-keygen`), re-encrypt what the old recipient could open, and drop the old recipient.", 8.5),
    fam("kubernetes", "Kubernetes", KEY_URL,
        "Revoke the client certificate (or remove the user's bindings) and issue new credentials for the kubeconfig.", 9.0),
    fam("jwt", "JSON Web Token", GENERIC_URL,
        "A JWT is valid until it expires: revoke the session or rotate the signing key if it is long-lived.", 6.0),
    fam("generic", "Unknown provider", GENERIC_URL,
        "Find out which service issued this credential and revoke or change it there.", 6.0),
];

/// The family whose prefix is the longest match of `rule_id` at a `-`
/// boundary; `None` for rules the table does not know.
pub fn family(rule_id: &str) -> Option<&'static Family> {
    FAMILIES
        .iter()
        .filter(|f| {
            rule_id
                .strip_prefix(f.prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
        })
        .max_by_key(|f| f.prefix.len())
}

/// Connection strings, `user:password@host` URLs and database passwords:
/// rotated at the database, whatever its vendor.
fn is_database(rule_id: &str) -> bool {
    rule_id.contains("connection-string")
        || rule_id.ends_with("-password")
        || rule_id == "basic-auth-url"
}

/// A rule's help: plain text, Markdown, the page to link, and its severity.
pub struct Help {
    pub text: String,
    pub markdown: String,
    pub url: &'static str,
    pub severity: f32,
}

pub fn help(rule: &Rule) -> Help {
    let fam = family(&rule.id);
    let (provider, url, revoke, severity): (&str, &'static str, &str, f32) = match fam {
        Some(f) => (f.provider, f.url, f.revoke, f.severity),
        None if is_database(&rule.id) => (
            "Database",
            GENERIC_URL,
            "Change the password of that account on the server (and any other place it is reused), then update the connection settings from a secret store.",
            8.0,
        ),
        None => (
            "Issuing service",
            GENERIC_URL,
            "Revoke or regenerate the credential in the issuing service's console or API, and create a new one with the least privilege it needs.",
            if rule.generic { 6.0 } else { 8.0 },
        ),
    };
    let severity = if rule.generic && !matches!(fam, Some(f) if f.prefix == "generic") {
        severity.min(7.0)
    } else {
        severity
    };
    const AFTER: &str = "Deleting the line, or rewriting git history, does not make the secret safe: \
        it has already been copied (clones, forks, CI logs, caches). Revoke it first, then remove it \
        from the code and load the replacement from a secret store or the environment; check the \
        provider's logs for use since the leak.";
    // A provider's own page, or (no such page known) general guidance.
    let general = url == GENERIC_URL || url == KEY_URL;
    let guide = if url == KEY_URL {
        "OWASP Key Management Cheat Sheet"
    } else {
        "OWASP Secrets Management Cheat Sheet"
    };
    let text = if general {
        format!(
            "{desc}.\n\nHow to fix: {revoke} {AFTER}\n\nGeneral guidance: {guide}, {url}",
            desc = rule.description.trim_end_matches('.'),
        )
    } else {
        format!(
            "{desc}.\n\nHow to fix: {revoke} {AFTER}\n\n{provider}: how to revoke or rotate, {url}",
            desc = rule.description.trim_end_matches('.'),
        )
    };
    let link = if general {
        format!("General guidance: [{guide}]({url})")
    } else {
        format!("{provider}: [how to revoke or rotate]({url})")
    };
    let markdown = format!(
        "**{desc}** (leakscan rule `{id}`).\n\n\
         ### How to fix\n\n\
         1. **Revoke or rotate it now.** {revoke}\n\
         2. **Replace it where it is used**, loading the new value from a secret store or the environment, never from the repository.\n\
         3. **Check for misuse** in the provider's access or audit logs since the secret was committed.\n\
         4. **Then remove it** from the code. Rewriting history is optional: once revoked, the old value is useless.\n\n\
         {link}.\n\n\
         If this is a test value or a false positive, mark the line with `leakscan:allow` \
         (or `leakscan:allow={id}`), or record it with `leakscan baseline update`.",
        desc = rule.description.trim_end_matches('.'),
        id = rule.id,
    );
    Help {
        text,
        markdown,
        url,
        severity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_at_a_dash_wins() {
        assert_eq!(family("aws-access-key-id").unwrap().provider, "AWS");
        assert_eq!(
            family("gcp-service-account-key").unwrap().url,
            "https://cloud.google.com/iam/docs/keys-create-delete"
        );
        assert_eq!(family("gcp-api-key").unwrap().prefix, "gcp");
        assert_eq!(family("slack-webhook-url").unwrap().severity, 5.5);
        assert_eq!(family("slack-bot-token").unwrap().prefix, "slack");
        // `npm` must not claim `npmrc-…`, nor `git` `github-…`.
        assert_eq!(family("npmrc-auth-token").unwrap().prefix, "npmrc");
        assert!(family("awsome-thing").is_none());
        assert!(family("jwt").is_some());
    }

    #[test]
    fn every_family_is_well_formed() {
        for f in FAMILIES {
            assert!(f.url.starts_with("https://"), "{}", f.prefix);
            assert!((0.0..=10.0).contains(&f.severity), "{}", f.prefix);
            assert_eq!(f.prefix, f.prefix.to_ascii_lowercase());
            assert!(f.revoke.ends_with('.'), "{}", f.prefix);
        }
        let mut prefixes: Vec<_> = FAMILIES.iter().map(|f| f.prefix).collect();
        prefixes.sort_unstable();
        let n = prefixes.len();
        prefixes.dedup();
        assert_eq!(n, prefixes.len(), "duplicate prefix");
    }
}
