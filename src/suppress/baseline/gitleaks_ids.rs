//! gitleaks' default rule ids (gitleaks 8.x `config/gitleaks.toml`, the ids
//! Betterleaks kept) mapped onto ours, so a `.gitleaksignore` fingerprint —
//! which holds a rule id and a place but no secret — can be tied to the
//! finding of ours at that place. Only the ids are taken from gitleaks (they
//! are names, written into every fingerprint); the rules themselves are ours.
//!
//! A value is one of our ids or a glob over them (`{a,b}`, `*`): where one
//! gitleaks rule covers what two of ours tell apart (Stripe `sk_` and `rk_`
//! keys), or where the generic rules of the two scanners draw different lines
//! (gitleaks' `generic-api-key` is our `generic-password`, `aws-secret-access-key`
//! and more), the glob is wider. Ids not listed here are matched by the place
//! alone (`import` says so).

/// `(gitleaks id, our id or glob)`, sorted by gitleaks id (a unit test checks
/// the order, and that every id or glob on the right names a rule of ours).
pub const MAP: &[(&str, &str)] = &[
    ("1password-secret-key", "onepassword-secret-key"),
    (
        "1password-service-account-token",
        "onepassword-service-account-token",
    ),
    ("adafruit-api-key", "adafruit-io-key"),
    ("adobe-client-secret", "adobe-client-secret"),
    ("age-secret-key", "age-secret-key"),
    ("airtable-api-key", "airtable-api-key"),
    ("airtable-personnal-access-token", "airtable-pat"),
    ("alibaba-access-key-id", "alibaba-access-key-id"),
    ("alibaba-secret-key", "alibaba-access-key-secret"),
    ("anthropic-admin-api-key", "anthropic-admin-key"),
    ("anthropic-api-key", "anthropic-api-key"),
    ("artifactory-api-key", "jfrog-api-key"),
    ("artifactory-reference-token", "jfrog-reference-token"),
    ("atlassian-api-token", "atlassian-*"),
    ("aws-access-token", "aws-access-key-id"),
    (
        "aws-amazon-bedrock-api-key-long-lived",
        "aws-bedrock-api-key",
    ),
    (
        "aws-amazon-bedrock-api-key-short-lived",
        "aws-bedrock-api-key",
    ),
    ("aws-secret-access-key", "aws-secret-access-key"),
    ("azure-ad-client-secret", "azure-ad-client-secret"),
    ("bitbucket-client-secret", "bitbucket-client-secret"),
    ("buildkite-user-access-token", "buildkite-api-token"),
    ("circleci-personal-token", "circleci-*"),
    ("circleci-project-token", "circleci-*"),
    ("clickup-personal-api-token", "clickup-personal-token"),
    ("clojars-api-token", "clojars-api-token"),
    ("cloudflare-api-key", "cloudflare-api-token"),
    ("cloudflare-global-api-key", "cloudflare-global-api-key"),
    ("cloudflare-origin-ca-key", "cloudflare-origin-ca-key"),
    ("codecov-access-token", "codecov-*"),
    ("cohere-api-token", "cohere-api-key"),
    ("coinbase-access-token", "coinbase-api-secret"),
    ("confluent-secret-key", "confluent-api-secret"),
    ("contentful-delivery-api-token", "contentful-token"),
    ("crates-io-api-key", "crates-io-api-token"),
    (
        "curl-auth-header",
        "{generic-bearer-token,generic-basic-auth-header}",
    ),
    ("curl-auth-user", "generic-curl-user-password"),
    ("databricks-api-token", "databricks-token"),
    ("datadog-access-token", "datadog-*"),
    ("deepseek-api-key", "deepseek-api-key"),
    ("digitalocean-access-token", "digitalocean-oauth-token"),
    ("digitalocean-pat", "digitalocean-pat"),
    ("digitalocean-refresh-token", "digitalocean-refresh-token"),
    ("discord-api-token", "discord-bot-token"),
    ("discord-client-secret", "discord-client-secret"),
    ("docker-swarm-join-token", "docker-swarm-join-token"),
    ("docker-swarm-unlock-key", "docker-swarm-unlock-key"),
    ("dockerhub-personal-access-token", "dockerhub-pat"),
    ("doppler-api-token", "doppler-token"),
    ("droneci-access-token", "drone-token"),
    ("dropbox-api-token", "dropbox-access-token"),
    ("dropbox-long-lived-api-token", "dropbox-long-lived-token"),
    ("dropbox-short-lived-api-token", "dropbox-access-token"),
    ("duffel-api-token", "duffel-api-token"),
    ("dynatrace-api-token", "dynatrace-api-token"),
    ("easypost-api-token", "easypost-api-key"),
    ("easypost-test-api-token", "easypost-api-key"),
    ("etsy-access-token", "etsy-api-keystring"),
    ("facebook-access-token", "facebook-access-token"),
    ("facebook-page-access-token", "facebook-access-token"),
    ("facebook-secret", "facebook-app-secret"),
    ("fastly-api-token", "fastly-api-token"),
    ("figma-personal-access-token", "figma-pat"),
    ("finnhub-access-token", "finnhub-api-key"),
    ("flutterwave-secret-key", "flutterwave-secret-key"),
    ("flyio-access-token", "flyio-access-token"),
    ("frameio-api-token", "frameio-api-token"),
    ("gcp-api-key", "gcp-api-key"),
    ("gcp-service-account", "gcp-service-account-key"),
    ("generic-api-key", "*"),
    ("gitea-access-token", "gitea-token"),
    ("github-app-token", "github-*-to-server-token"),
    ("github-fine-grained-pat", "github-fine-grained-pat"),
    ("github-oauth", "github-oauth-token"),
    ("github-pat", "github-pat"),
    ("github-refresh-token", "github-refresh-token"),
    ("gitlab-cicd-job-token", "gitlab-cicd-job-token"),
    ("gitlab-deploy-token", "gitlab-deploy-token"),
    (
        "gitlab-feature-flag-client-token",
        "gitlab-feature-flag-client-token",
    ),
    ("gitlab-feed-token", "gitlab-feed-token"),
    ("gitlab-incoming-mail-token", "gitlab-incoming-mail-token"),
    (
        "gitlab-kubernetes-agent-token",
        "gitlab-{agent,k8s-agent}-token",
    ),
    ("gitlab-oauth-app-secret", "gitlab-oauth-app-secret"),
    ("gitlab-pat", "gitlab-pat"),
    ("gitlab-pat-routable", "gitlab-pat"),
    ("gitlab-ptt", "gitlab-pipeline-trigger-token"),
    ("gitlab-rrt", "gitlab-runner-registration-token"),
    ("gitlab-runner-authentication-token", "gitlab-runner-token"),
    (
        "gitlab-runner-authentication-token-routable",
        "gitlab-runner-auth-token-routable",
    ),
    ("gitlab-scim-token", "gitlab-scim-token"),
    ("gitlab-session-cookie", "gitlab-session-cookie"),
    ("gocardless-api-token", "gocardless-access-token"),
    ("grafana-api-key", "grafana-api-key"),
    ("grafana-cloud-api-token", "grafana-cloud-api-token"),
    (
        "grafana-service-account-token",
        "grafana-service-account-token",
    ),
    ("groq-api-key", "groq-api-key"),
    ("harness-api-key", "harness-pat"),
    ("hashicorp-tf-api-token", "terraform-cloud-token"),
    ("heroku-api-key", "heroku-api-key"),
    ("heroku-api-key-v2", "heroku-api-key-v2"),
    ("hubspot-api-key", "hubspot-*"),
    ("huggingface-access-token", "huggingface-token"),
    (
        "huggingface-organization-api-token",
        "huggingface-org-token",
    ),
    ("intercom-api-key", "intercom-access-token"),
    ("jfrog-api-key", "jfrog-api-key"),
    ("jfrog-identity-token", "jfrog-reference-token"),
    ("jwt", "jwt"),
    ("jwt-base64", "jwt"),
    ("kraken-access-token", "kraken-private-key"),
    ("kucoin-secret-key", "kucoin-api-secret"),
    ("launchdarkly-access-token", "launchdarkly-key"),
    ("linear-api-key", "linear-api-key"),
    ("linkedin-client-secret", "linkedin-client-secret"),
    ("lob-api-key", "lob-api-key"),
    ("mailchimp-api-key", "mailchimp-api-key"),
    ("mailgun-private-api-token", "mailgun-private-api-key"),
    ("mailgun-signing-key", "mailgun-webhook-signing-key"),
    ("mapbox-api-token", "mapbox-*"),
    ("messagebird-api-token", "messagebird-api-key"),
    ("microsoft-teams-webhook", "microsoft-teams-webhook-url"),
    ("netlify-access-token", "netlify-*"),
    ("new-relic-browser-api-token", "new-relic-browser-key"),
    ("new-relic-insert-key", "new-relic-insert-key"),
    ("new-relic-user-api-key", "new-relic-user-api-key"),
    ("npm-access-token", "npm-access-token"),
    ("octopus-deploy-api-key", "octopus-*"),
    ("okta-access-token", "okta-api-token"),
    ("openai-api-key", "openai-*"),
    ("perplexity-api-key", "perplexity-api-key"),
    ("pinterest-access-token", "pinterest-access-token"),
    ("plaid-api-token", "plaid-access-token"),
    ("plaid-secret-key", "plaid-secret"),
    ("planetscale-api-token", "planetscale-token"),
    ("planetscale-oauth-token", "planetscale-token"),
    ("planetscale-password", "planetscale-token"),
    ("postman-api-token", "postman-api-key"),
    ("prefect-api-token", "prefect-api-key"),
    ("private-key", "private-key-*"),
    ("pulumi-api-token", "pulumi-access-token"),
    ("pypi-upload-token", "pypi-upload-token"),
    ("rapidapi-access-token", "rapidapi-key"),
    ("readme-api-token", "readme-api-key"),
    ("rubygems-api-token", "rubygems-api-key"),
    ("scalingo-api-token", "scalingo-api-token"),
    ("sendbird-access-token", "sendbird-api-token"),
    ("sendgrid-api-token", "sendgrid-api-key"),
    ("sendinblue-api-token", "brevo-api-key"),
    ("sentry-access-token", "sentry-legacy-auth-token"),
    ("sentry-org-token", "sentry-org-token"),
    ("sentry-user-token", "sentry-user-token"),
    ("shippo-api-token", "shippo-api-token"),
    ("shopify-access-token", "shopify-access-token"),
    ("shopify-custom-access-token", "shopify-custom-app-token"),
    (
        "shopify-private-app-access-token",
        "shopify-private-app-token",
    ),
    ("shopify-shared-secret", "shopify-shared-secret"),
    ("slack-app-token", "slack-app-token"),
    ("slack-bot-token", "slack-bot-token"),
    ("slack-config-access-token", "slack-config-token"),
    ("slack-config-refresh-token", "slack-config-token"),
    ("slack-legacy-bot-token", "slack-legacy-token"),
    ("slack-legacy-token", "slack-legacy-token"),
    ("slack-legacy-workspace-token", "slack-legacy-token"),
    ("slack-user-token", "slack-user-token"),
    (
        "slack-webhook-url",
        "slack-{webhook-url,workflow-webhook-url}",
    ),
    ("snyk-api-token", "snyk-api-token"),
    (
        "sonar-api-token",
        "{sonarqube-token,sonarcloud-legacy-token}",
    ),
    ("sourcegraph-access-token", "sourcegraph-access-token"),
    ("square-access-token", "square-access-token"),
    ("stripe-access-token", "stripe-{secret,restricted}-key"),
    ("sumologic-access-token", "sumologic-access-key"),
    ("telegram-bot-api-token", "telegram-bot-token*"),
    ("travisci-access-token", "travis-ci-token"),
    ("twilio-api-key", "twilio-api-key"),
    ("twitter-access-secret", "twitter-*"),
    ("twitter-access-token", "twitter-*"),
    ("twitter-api-key", "twitter-*"),
    ("twitter-api-secret", "twitter-api-secret"),
    ("twitter-bearer-token", "twitter-bearer-token"),
    ("typeform-api-token", "typeform-api-token"),
    ("vault-batch-token", "vault-batch-token"),
    ("vault-service-token", "vault-service-token"),
    ("yandex-access-token", "yandex-oauth-token"),
    ("yandex-api-key", "yandex-cloud-api-key"),
    ("zendesk-secret-key", "zendesk-api-token"),
];

/// Our id or glob for a gitleaks rule id, if the table knows it. Every
/// `generic-*` id of gitleaks maps to `*`: its generic rules and ours draw
/// different lines, so only the place and the secret can tie them.
pub fn ours(gitleaks_id: &str) -> Option<&'static str> {
    if gitleaks_id.starts_with("generic-") {
        return Some("*");
    }
    MAP.binary_search_by(|(g, _)| g.cmp(&gitleaks_id))
        .ok()
        .map(|i| MAP[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_names_only_our_rules() {
        assert!(MAP.windows(2).all(|w| w[0].0 < w[1].0), "MAP not sorted");
        let rules = crate::rules::parse_builtin().unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| &*r.id).collect();
        for (g, o) in MAP {
            let glob = globset::GlobBuilder::new(o)
                .literal_separator(false)
                .build()
                .unwrap()
                .compile_matcher();
            assert!(
                ids.iter().any(|id| glob.is_match(id)),
                "{g} → {o}: names no rule of ours"
            );
        }
        assert_eq!(ours("generic-api-key"), Some("*"));
        assert_eq!(ours("aws-access-token"), Some("aws-access-key-id"));
        assert_eq!(ours("no-such-gitleaks-rule"), None);
    }
}
