//! Credentials in URLs are redacted from every output, whatever the host is written in.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;
use support::rule;

use microvet_core::Policy;

/// A URL with a password whose host is Unicode (`bücher`), or one the IDN mapping refuses
/// (a zero-width space): the password is a secret all the same, and is never quoted, not
/// even inside a canonical form (A-label host, lowercased scheme) another rule suggests.
#[test]
fn passwords_in_urls_with_unicode_hosts_are_redacted() {
    let manifest = "\
name: idn-creds
owner: ops@example.com
purpose: post notices
data_access: []
retention_days: 7
oauth_scopes: [openid]
external_sinks:
  - https://user:hunter2@b\u{fc}cher.example/notify
  - \"https://user:hunter2@exa\\u200Bmple.com/notify\"
expiry_days: 30
instrumentation: { audit_log: \"siem://corp/micro-apps\", contact: \"ops@example.com\" }
client:
  application_type: web
  token_endpoint_auth_method: none
  grant_types: [authorization_code]
  response_types: [code]
  code_challenge_method: S256
  redirect_uris:
    - https://user:hunter2@b\u{fc}cher.example/cb
    - \"https://user:hunter2@exa\\u200Bmple.com/cb\"
    - HTTPS://user:hunter2@Apps.Example.com/cb
";
    let v = Policy::builtin().unwrap().vet(manifest).unwrap();
    let json = v.to_json();
    assert!(!json.contains("hunter2"), "{json}");
    assert!(json.contains("[REDACTED]"), "{json}");
    let secrets = v
        .findings
        .iter()
        .filter(|f| f.rule == rule("MV-SECRET-001").id)
        .count();
    assert_eq!(secrets, 5, "{json}");
}

/// A GitHub fine-grained token (`github_pat_…`) inside free text is a literal secret: it is
/// found (MV-SECRET-001, so the app is rejected) and never quoted, though its prefix does not
/// contain `gh` like the other GitHub prefixes.
#[test]
fn github_fine_grained_tokens_in_text_are_found_and_redacted() {
    let token = "github_pat_11abcdefg0123456789abcdef0123456789abcdef01234";
    let manifest = format!(
        "\
name: ci-notices
owner: ops@example.com
purpose: post build notices; CI pushes with {token} to the repo
data_access: []
retention_days: 7
oauth_scopes: [openid]
expiry_days: 30
"
    );
    let v = Policy::builtin().unwrap().vet(&manifest).unwrap();
    let json = v.to_json();
    assert!(!json.contains(token), "{json}");
    let secret = v
        .findings
        .iter()
        .find(|f| f.rule == rule("MV-SECRET-001").id)
        .unwrap_or_else(|| panic!("no MV-SECRET-001: {json}"));
    assert_eq!(secret.path, "/purpose", "{json}");
    assert!(
        secret.message.contains("GitHub token"),
        "{}",
        secret.message
    );
    assert_eq!(v.decision.as_str(), "reject", "{json}");
}

/// Every form in which an output could show `secret`, lowercased (outputs are searched
/// lowercased): as written, trimmed, percent-encoded (every non-alphanumeric byte, or only
/// what URLs must encode) and percent-decoded.
fn forms(secret: &str) -> Vec<String> {
    use percent_encoding::{CONTROLS, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
    const URL: &percent_encoding::AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'<')
        .add(b'>')
        .add(b'`')
        .add(b'#')
        .add(b'?')
        .add(b'{')
        .add(b'}')
        .add(b'^');
    let trimmed = secret.trim();
    let mut out = vec![secret.to_string(), trimmed.to_string()];
    for set in [NON_ALPHANUMERIC, URL] {
        out.push(utf8_percent_encode(trimmed, set).to_string());
    }
    out.push(percent_decode_str(trimmed).decode_utf8_lossy().into_owned());
    out.into_iter()
        .filter(|f| f.chars().count() >= 4)
        .map(|f| f.to_lowercase())
        .collect()
}

fn assert_not_shown(manifest: &str, secret: &str) -> microvet_core::Verdict {
    let v = Policy::builtin().unwrap().vet(manifest).unwrap();
    let json = v.to_json().to_lowercase();
    for f in forms(secret) {
        assert!(!json.contains(&f), "`{f}` shown:\n{json}");
    }
    assert!(
        v.findings
            .iter()
            .any(|f| f.rule == rule("MV-SECRET-001").id),
        "not found:\n{json}"
    );
    v
}

const BASE: &str = "\
owner: ops@example.com
purpose: post notices
data_access: []
retention_days: 7
oauth_scopes: [openid]
expiry_days: 30
instrumentation: { audit_log: \"siem://corp/micro-apps\", contact: \"ops@example.com\" }
";

/// A secret as the app's name: the slug fix (which lowercases the name and turns other
/// characters into hyphens) does not carry it.
#[test]
fn lowercased_forms_are_redacted() {
    for token in [
        "AKIAABCDEFGHIJKLMNOP",
        "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    ] {
        let slug = token.to_lowercase().replace('_', "-");
        for name in [token.to_string(), format!("Sync {token} App")] {
            let v = assert_not_shown(&format!("name: \"{name}\"\n{BASE}"), token);
            let json = v.to_json();
            assert!(!json.contains(&slug), "{json}");
        }
    }
}

/// A padded secret (a trailing space or new line) is redacted trimmed too.
#[test]
fn padded_secrets_are_redacted() {
    let secret = "  S3cr3t-Value-123 \n";
    let m = format!("name: padded\n{BASE}client:\n  client_secret: \"  S3cr3t-Value-123 \\n\"\n");
    assert_not_shown(&m, secret);
    let token = "xoxb-123456789012-abcdefghijAB";
    assert_not_shown(&format!("name: \" {token}\"\n{BASE}"), token);
}

/// A secret inside a redirect URI that other rules quote (canonical forms, "browsers
/// read" text, percent-encoded or not) is never shown in any of those forms.
#[test]
fn secrets_quoted_inside_other_messages_are_redacted() {
    for (uri, secret) in [
        (
            "https://apps.example.com/cb?access_token=Zx9Qw3Er7^Ty1Ui5 ",
            "Zx9Qw3Er7^Ty1Ui5",
        ),
        (
            "https://apps.example.com/c b?password=hunter2hunter2",
            "hunter2hunter2",
        ),
        (
            "HTTPS://Apps.Example.com\\\\cb/sk_live_AbCdEf0123456789xyz",
            "sk_live_AbCdEf0123456789xyz",
        ),
        (
            "https://apps.example.com/cb?x=%73k_live_AbCdEf0123456789xyz",
            "sk_live_AbCdEf0123456789xyz",
        ),
    ] {
        let m = format!(
            "name: redirects\n{BASE}client:\n  application_type: web\n  redirect_uris: [\"{uri}\"]\n"
        );
        assert_not_shown(&m, secret);
    }
}

/// A secret written as a mapping key is found, reported at a redacted path, and neither
/// the unknown-field finding nor its pointer quotes it.
#[test]
fn secrets_as_keys_are_found_and_never_echoed() {
    let token = "glpat-Ab12Cd34Ef56Gh78Ij90";
    for m in [
        format!("name: keys\n{BASE}client:\n  {token}: x\n"),
        format!("name: keys\n{BASE}\"{token}\": 1\n"),
        format!("name: keys\n{BASE}client:\n  \" {token}\": [1]\n"),
    ] {
        let v = assert_not_shown(&m, token);
        let secret = v
            .findings
            .iter()
            .find(|f| f.rule == rule("MV-SECRET-001").id)
            .unwrap();
        assert!(secret.path.ends_with("/[REDACTED]"), "{}", secret.path);
        assert!(
            v.findings
                .iter()
                .any(|f| f.rule != rule("MV-SECRET-001").id && f.path == secret.path),
            "no unknown-field finding at the redacted path: {}",
            v.to_json()
        );
    }
}

/// The duplicate-key error does not quote a key that is a secret.
#[test]
fn duplicate_secret_keys_are_not_quoted_in_errors() {
    let token = "glpat-Ab12Cd34Ef56Gh78Ij90";
    let m = format!("name: keys\n{BASE}client:\n  {token}: 1\n  {token}: 2\n");
    let e = Policy::builtin().unwrap().vet(&m).unwrap_err();
    let text = format!("{} {:?} {}", e.render(Some("m.yaml")), e, e.message);
    assert!(!text.contains(token), "{text}");
    assert!(e.message.contains("duplicate key"), "{text}");
}

/// `fix` replaces every secret: a value by a vault reference (or the text around a token
/// keeps, the token replaced), a secret key goes with its entry.
#[test]
fn the_fixed_manifest_keeps_no_secret() {
    let token = "glpat-Ab12Cd34Ef56Gh78Ij90";
    let m = format!(
        "name: fixme\n{BASE}notes: \"deploy with {token} daily\"\nclient:\n  client_secret: \"S3cr3t-Value-123\"\n  password: 12345678\n  {token}: x\n"
    );
    let fixed = Policy::builtin().unwrap().fix(&m).unwrap();
    for s in [token, "S3cr3t-Value-123", "12345678"] {
        assert!(!fixed.manifest.contains(s), "{}", fixed.manifest);
    }
    assert!(
        fixed
            .manifest
            .contains("vault://micro-apps/fixme/client_secret"),
        "{}",
        fixed.manifest
    );
    assert!(fixed.manifest.contains("deploy with"), "{}", fixed.manifest);
    let v = Policy::builtin().unwrap().vet(&fixed.manifest).unwrap();
    assert!(
        !v.findings
            .iter()
            .any(|f| f.rule == rule("MV-SECRET-001").id),
        "{}",
        v.to_json()
    );
}

/// More literal secrets than redaction is bounded for is a `limit` error (fails closed),
/// and the error names no secret.
#[test]
fn too_many_secrets_is_a_limit_error() {
    let token = |i: usize| format!("ghp_Zx9Qw3Er7Ty1Ui5Op0As8Df2Gh6Jk4L{i:06}");
    let list = |n: usize| -> String { (0..n).map(|i| format!("  - {}\n", token(i))).collect() };
    let ok = Policy::builtin()
        .unwrap()
        .vet(&format!("name: many\n{BASE}notes:\n{}", list(256)))
        .unwrap();
    assert_eq!(
        ok.findings
            .iter()
            .filter(|f| f.rule == rule("MV-SECRET-001").id)
            .count(),
        256
    );
    // 257 tokens, as list items or in one string.
    for m in [
        format!("name: many\n{BASE}notes:\n{}", list(257)),
        format!(
            "name: many\n{BASE}notes: \"{}\"\n",
            (0..257).map(token).collect::<Vec<_>>().join(" ")
        ),
    ] {
        let e = Policy::builtin().unwrap().vet(&m).unwrap_err();
        assert_eq!(e.code.as_str(), "limit", "{e:?}");
        assert!(e.message.contains("256"), "{e:?}");
        assert!(!format!("{e:?}").contains("ghp_"), "{e:?}");
    }
}
