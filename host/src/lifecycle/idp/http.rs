//! [`HttpIdp`]: the identity provider over HTTP. OpenID Connect Discovery 1.0 finds the
//! RFC 7591 registration endpoint; RFC 7592 reads and deletes clients.
//!
//! Bounded in every way that matters to a server calling it: a connect timeout and an
//! overall timeout per request, a response size cap, no redirects followed, retries (with
//! exponential backoff and jitter) only for the idempotent calls (discovery, `read`,
//! `delete`), never for `register`. Plain `http://` only for a loopback IP address.
//! No token ever appears in an error: the IdP's own error text is cleaned and every token
//! microvet sent is replaced by `[redacted]` in anything it returns.

use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{Idp, IdpError};
use crate::lifecycle::model::{Registration, Secret};

/// How [`HttpIdp`] talks to the IdP. Defaults are documented in docs/LIMITS.md.
#[derive(Clone, Debug)]
pub struct HttpIdpOptions {
    /// TCP connection (and TLS handshake) setup. Default 5 s.
    pub connect_timeout: Duration,
    /// One whole request: connect, send, the answer's head and body. Default 10 s.
    pub request_timeout: Duration,
    /// The largest answer body read; larger is an error. Default 256 KiB.
    pub max_response_bytes: u64,
    /// RFC 7591 §3: sent as `Authorization: Bearer …` on registration when set (read it
    /// with [`read_initial_access_token`]).
    pub initial_access_token: Option<Secret>,
    /// Further attempts after a timeout or an unavailable IdP, for discovery, `read` and
    /// `delete` only. Default 2 (3 attempts).
    pub retries: u32,
    /// Backoff before the first retry; doubled each retry, capped by `max_backoff`. A
    /// retry waits between half and all of it (the rest is jitter). Default 250 ms.
    pub backoff: Duration,
    /// Default 2 s.
    pub max_backoff: Duration,
    /// Seeds the jitter (caller-supplied randomness; replicas should differ).
    pub jitter_seed: u64,
}

impl HttpIdpOptions {
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 256 * 1024;
    pub const DEFAULT_RETRIES: u32 = 2;
    pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(250);
    pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(2);
}

impl Default for HttpIdpOptions {
    fn default() -> Self {
        HttpIdpOptions {
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            max_response_bytes: Self::DEFAULT_MAX_RESPONSE_BYTES,
            initial_access_token: None,
            retries: Self::DEFAULT_RETRIES,
            backoff: Self::DEFAULT_BACKOFF,
            max_backoff: Self::DEFAULT_MAX_BACKOFF,
            jitter_seed: 0,
        }
    }
}

/// The largest initial access token file read.
const MAX_TOKEN_FILE_BYTES: u64 = 4096;
/// The IdP's `error` / `error_description` are cut to this many characters.
const MAX_IDP_TEXT_CHARS: usize = 300;
const REDACTED: &str = "[redacted]";

/// Reads an initial access token (RFC 7591 §3) from `path`: one line, the token as RFC 6750
/// §2.1 `b64token` (surrounding whitespace ignored), at most 4 KiB. Errors name the file,
/// never its content.
pub fn read_initial_access_token(path: &Path) -> Result<Secret, IdpError> {
    use std::io::Read;
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| {
        IdpError::Config(format!(
            "cannot read the initial access token file `{shown}`: {e}"
        ))
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_TOKEN_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            IdpError::Config(format!(
                "cannot read the initial access token file `{shown}`: {e}"
            ))
        })?;
    if bytes.len() as u64 > MAX_TOKEN_FILE_BYTES {
        return Err(IdpError::Config(format!(
            "the initial access token file `{shown}` is larger than {MAX_TOKEN_FILE_BYTES} bytes"
        )));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        IdpError::Config(format!(
            "the initial access token file `{shown}` is not UTF-8 text"
        ))
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(IdpError::Config(format!(
            "the initial access token file `{shown}` is empty"
        )));
    }
    if !is_b64token(token) {
        return Err(IdpError::Config(format!(
            "the initial access token file `{shown}` does not hold one bearer token \
             (RFC 6750 §2.1: letters, digits and `-._~+/`, then `=` padding, on one line)"
        )));
    }
    Ok(Secret::new(token))
}

/// RFC 6750 §2.1 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// A URL microvet may call: https, or http to a loopback IP address.
struct Target {
    url: String,
    loopback: bool,
}

/// Checks a URL before anything is sent to it. `what` names it in errors.
fn check_url(what: &str, raw: &str) -> Result<Target, IdpError> {
    let parsed = url::Url::parse(raw).map_err(|e| {
        IdpError::Config(format!(
            "{what} `{}` is not an absolute URL: {e}",
            shown(raw)
        ))
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(IdpError::Config(format!(
            "{what} has credentials in it (`user:password@`): give tokens through their options"
        )));
    }
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(_)) => false,
        None => {
            return Err(IdpError::Config(format!("{what} `{raw}` has no host")));
        }
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(IdpError::Config(format!(
                "{what} `{raw}` uses plain http, allowed only for a loopback IP address \
                 (127.0.0.1, [::1]): use https"
            )));
        }
        other => {
            return Err(IdpError::Config(format!(
                "{what} `{raw}` has the scheme `{other}`: use https"
            )));
        }
    }
    Ok(Target {
        url: raw.to_owned(),
        loopback,
    })
}

/// A URL for an error message: without anything after `@` hiding credentials.
fn shown(raw: &str) -> String {
    if raw.contains('@') {
        "[a URL with `@`]".to_owned()
    } else {
        clean(raw, &[])
    }
}

/// Text from the IdP (or from an error) made safe to return: control characters dropped,
/// at most [`MAX_IDP_TEXT_CHARS`] characters, every secret replaced by `[redacted]`.
fn clean(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        let value = secret.expose();
        if !value.is_empty() {
            out = out.replace(value, REDACTED);
        }
    }
    // Secrets are replaced before the cut, so the cut can only shorten `[redacted]`.
    out.chars()
        .filter(|c| !c.is_control())
        .take(MAX_IDP_TEXT_CHARS)
        .collect()
}

/// What an exchange brought back.
struct Answer {
    status: u16,
    body: Vec<u8>,
    www_authenticate: Option<String>,
}

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
    Delete,
}

/// The identity provider over HTTP (OpenID Connect Discovery, RFC 7591, RFC 7592).
pub struct HttpIdp {
    issuer: String,
    registration_endpoint: String,
    options: HttpIdpOptions,
    /// For non-loopback targets: the environment's proxy (`HTTPS_PROXY`, `NO_PROXY`…).
    agent: ureq::Agent,
    /// For loopback targets: never through a proxy.
    loopback_agent: ureq::Agent,
    jitter: AtomicU64,
}

impl std::fmt::Debug for HttpIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpIdp")
            .field("issuer", &self.issuer)
            .field("registration_endpoint", &self.registration_endpoint)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn agent(options: &HttpIdpOptions, proxy: Option<ureq::Proxy>) -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(proxy)
            .timeout_connect(Some(options.connect_timeout))
            .timeout_global(Some(options.request_timeout))
            .user_agent(concat!("microvet/", env!("CARGO_PKG_VERSION")))
            .accept("application/json")
            .build(),
    )
}

impl HttpIdp {
    /// OpenID Connect Discovery 1.0 §4: fetches `ISSUER/.well-known/openid-configuration`,
    /// checks that its `issuer` is exactly `issuer_url` (§4.3) and that it has a
    /// `registration_endpoint` (RFC 7591 §3).
    pub fn discover(issuer_url: &str, options: HttpIdpOptions) -> Result<HttpIdp, IdpError> {
        let target = check_url("issuer", issuer_url)?;
        if issuer_url.contains('?') || issuer_url.contains('#') {
            return Err(IdpError::Config(format!(
                "issuer `{}` has a query or fragment (OpenID Connect Discovery 1.0 §2: it has none)",
                shown(issuer_url)
            )));
        }
        let idp = HttpIdp::build(issuer_url, issuer_url, options);
        // §4: the path is appended to the issuer with any trailing `/` removed.
        let well_known = format!(
            "{}/.well-known/openid-configuration",
            issuer_url.trim_end_matches('/')
        );
        let well_known = Target {
            url: well_known,
            loopback: target.loopback,
        };
        let answer = idp.idempotent(Method::Get, &well_known, None, "the discovery document")?;
        let what = "the discovery document";
        match answer.status {
            200 => {}
            status => return Err(idp.unexpected(what, status, &answer, &[])),
        }
        let document = idp.json_object(what, &answer.body, &[])?;
        let issuer = document
            .get("issuer")
            .and_then(|v| v.as_str())
            .ok_or_else(|| IdpError::Protocol(format!("{what} has no `issuer`")))?;
        if issuer != issuer_url {
            return Err(IdpError::Protocol(format!(
                "{what} names the issuer `{}`, not `{}` (OpenID Connect Discovery 1.0 §4.3: \
                 they must be identical)",
                clean(issuer, &[]),
                shown(issuer_url)
            )));
        }
        let endpoint = document
            .get("registration_endpoint")
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                IdpError::Protocol(format!(
                    "{what} has no `registration_endpoint`: the IdP does not offer RFC 7591 \
                     dynamic client registration"
                ))
            })?;
        check_url("the registration endpoint", endpoint)?;
        Ok(HttpIdp {
            registration_endpoint: endpoint.to_owned(),
            ..idp
        })
    }

    /// An IdP whose registration endpoint is known without discovery (an IdP that does not
    /// publish it). The URLs are checked as [`HttpIdp::discover`] checks them.
    pub fn with_endpoint(
        issuer_url: &str,
        registration_endpoint: &str,
        options: HttpIdpOptions,
    ) -> Result<HttpIdp, IdpError> {
        check_url("issuer", issuer_url)?;
        check_url("the registration endpoint", registration_endpoint)?;
        Ok(HttpIdp::build(issuer_url, registration_endpoint, options))
    }

    fn build(issuer: &str, registration_endpoint: &str, options: HttpIdpOptions) -> HttpIdp {
        HttpIdp {
            issuer: issuer.to_owned(),
            registration_endpoint: registration_endpoint.to_owned(),
            agent: agent(&options, ureq::Proxy::try_from_env()),
            loopback_agent: agent(&options, None),
            jitter: AtomicU64::new(options.jitter_seed),
            options,
        }
    }

    /// The RFC 7591 registration endpoint in use.
    pub fn registration_endpoint(&self) -> &str {
        &self.registration_endpoint
    }

    /// The options in use.
    pub fn options(&self) -> &HttpIdpOptions {
        &self.options
    }

    /// One request, no retry. Every error is cleaned of `token`.
    fn exchange(
        &self,
        method: Method,
        target: &Target,
        token: Option<&Secret>,
        body: Option<&[u8]>,
    ) -> Result<Answer, IdpError> {
        let secrets: Vec<&Secret> = token.into_iter().collect();
        if let Some(token) = token
            && !token.expose().bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(IdpError::Config(
                "a token to send has spaces or control characters in it".to_owned(),
            ));
        }
        let agent = if target.loopback {
            &self.loopback_agent
        } else {
            &self.agent
        };
        let bearer = token.map(|t| format!("Bearer {}", t.expose()));
        let sent = match method {
            Method::Get => {
                let mut request = agent.get(&target.url);
                if let Some(b) = &bearer {
                    request = request.header("authorization", b);
                }
                request.call()
            }
            Method::Delete => {
                let mut request = agent.delete(&target.url);
                if let Some(b) = &bearer {
                    request = request.header("authorization", b);
                }
                request.call()
            }
            Method::Post => {
                let mut request = agent.post(&target.url).content_type("application/json");
                if let Some(b) = &bearer {
                    request = request.header("authorization", b);
                }
                request.send(body.unwrap_or_default())
            }
        };
        let mut response = sent.map_err(|e| self.transport_error(&e, &secrets))?;
        let status = response.status().as_u16();
        let www_authenticate = response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .body_mut()
            .with_config()
            .limit(self.options.max_response_bytes)
            .read_to_vec()
            .map_err(|e| self.transport_error(&e, &secrets))?;
        Ok(Answer {
            status,
            body,
            www_authenticate,
        })
    }

    fn transport_error(&self, e: &ureq::Error, secrets: &[&Secret]) -> IdpError {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        match e {
            ureq::Error::Timeout(ureq::Timeout::Connect) => {
                IdpError::Timeout(ms(self.options.connect_timeout))
            }
            ureq::Error::Timeout(_) => IdpError::Timeout(ms(self.options.request_timeout)),
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                IdpError::Timeout(ms(self.options.request_timeout))
            }
            ureq::Error::BodyExceedsLimit(_) => IdpError::Protocol(format!(
                "the answer is larger than {} bytes",
                self.options.max_response_bytes
            )),
            ureq::Error::HostNotFound
            | ureq::Error::ConnectionFailed
            | ureq::Error::Io(_)
            | ureq::Error::Tls(_)
            | ureq::Error::Rustls(_)
            | ureq::Error::ConnectProxyFailed(_) => {
                IdpError::Unavailable(clean(&e.to_string(), secrets))
            }
            other => IdpError::Protocol(clean(&other.to_string(), secrets)),
        }
    }

    /// An idempotent request with retries: a timeout, a refused connection and an answer
    /// 502, 503 or 504 are retried; the last one is the error.
    fn idempotent(
        &self,
        method: Method,
        target: &Target,
        token: Option<&Secret>,
        what: &str,
    ) -> Result<Answer, IdpError> {
        self.with_retries(|| {
            let answer = self.exchange(method, target, token, None)?;
            if matches!(answer.status, 502..=504) {
                return Err(IdpError::Unavailable(format!(
                    "{what}: the IdP answered {}",
                    answer.status
                )));
            }
            Ok(answer)
        })
    }

    /// Retries `call` after a timeout or an unavailable IdP, with exponential backoff and
    /// jitter; any other outcome is returned at once.
    fn with_retries<T>(
        &self,
        mut call: impl FnMut() -> Result<T, IdpError>,
    ) -> Result<T, IdpError> {
        let mut attempt: u32 = 0;
        loop {
            match call() {
                Err(IdpError::Timeout(_) | IdpError::Unavailable(_))
                    if attempt < self.options.retries =>
                {
                    std::thread::sleep(self.backoff(attempt));
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    /// The wait before retry `attempt` (0-based): `d = min(backoff · 2^attempt,
    /// max_backoff)`, then a value in `[d/2, d]`.
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.options.backoff.as_millis();
        let cap = self.options.max_backoff.as_millis();
        let full = base.saturating_mul(1u128 << attempt.min(32)).min(cap);
        let full = u64::try_from(full).unwrap_or(u64::MAX);
        let half = full / 2;
        let jitter = self.next_random() % (full - half + 1);
        Duration::from_millis(half + jitter)
    }

    /// SplitMix64 over the jitter seed value: a small deterministic scheme, different per call.
    fn next_random(&self) -> u64 {
        let mut z = self
            .jitter
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn json_object(
        &self,
        what: &str,
        body: &[u8],
        secrets: &[&Secret],
    ) -> Result<serde_json::Map<String, serde_json::Value>, IdpError> {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(map)) => Ok(map),
            Ok(_) => Err(IdpError::Protocol(format!("{what} is not a JSON object"))),
            Err(e) => Err(IdpError::Protocol(format!(
                "{what} is not JSON: {}",
                clean(&e.to_string(), secrets)
            ))),
        }
    }

    /// An answer none of the expected ones: a 4xx with an OAuth error is `Refused`, 502,
    /// 503 and 504 are `Unavailable`, the rest `Protocol`.
    fn unexpected(
        &self,
        what: &str,
        status: u16,
        answer: &Answer,
        secrets: &[&Secret],
    ) -> IdpError {
        match status {
            300..=399 => IdpError::Protocol(format!(
                "{what}: the IdP answered {status}, a redirect (not followed)"
            )),
            400..=499 => match oauth_error(answer, secrets) {
                Some((error, description)) => IdpError::Refused {
                    status,
                    error,
                    description,
                },
                None => IdpError::Protocol(format!(
                    "{what}: the IdP answered {status} without an OAuth error"
                )),
            },
            502..=504 => IdpError::Unavailable(format!("{what}: the IdP answered {status}")),
            _ => IdpError::Protocol(format!("{what}: the IdP answered {status}")),
        }
    }
}

/// The OAuth error of an answer: RFC 7591 §3.2.2 / RFC 6749 §5.2 JSON body (`error`,
/// `error_description`), else RFC 6750 §3 `WWW-Authenticate: Bearer error="…"`. Cleaned.
fn oauth_error(answer: &Answer, secrets: &[&Secret]) -> Option<(String, Option<String>)> {
    if let Ok(serde_json::Value::Object(map)) =
        serde_json::from_slice::<serde_json::Value>(&answer.body)
        && let Some(error) = map.get("error").and_then(|v| v.as_str())
    {
        let description = map
            .get("error_description")
            .and_then(|v| v.as_str())
            .map(|d| clean(d, secrets));
        return Some((clean(error, secrets), description));
    }
    let header = answer.www_authenticate.as_deref()?;
    let param = |name: &str| {
        let key = format!("{name}=\"");
        let start = header.find(&key)? + key.len();
        let rest = header.get(start..)?;
        let end = rest.find('"')?;
        rest.get(..end).map(|v| clean(v, secrets))
    };
    let error = param("error")?;
    Some((error, param("error_description")))
}

impl Idp for HttpIdp {
    fn issuer(&self) -> &str {
        &self.issuer
    }

    fn register(&self, metadata: &serde_json::Value) -> Result<Registration, IdpError> {
        if !metadata.is_object() {
            return Err(IdpError::Config(
                "the client metadata to register is not a JSON object".to_owned(),
            ));
        }
        let target = check_url("the registration endpoint", &self.registration_endpoint)?;
        let body = serde_json::to_vec(metadata)
            .map_err(|e| IdpError::Config(format!("client metadata: {e}")))?;
        let token = self.options.initial_access_token.as_ref();
        let secrets: Vec<&Secret> = token.into_iter().collect();
        // Never retried: a registration that reached the IdP before a timeout would be
        // made twice (RFC 7591 registration is not idempotent).
        let answer = self.exchange(Method::Post, &target, token, Some(&body))?;
        let what = "the registration endpoint";
        if !matches!(answer.status, 200 | 201) {
            return Err(self.unexpected(what, answer.status, &answer, &secrets));
        }
        let mut map = self.json_object("the registration answer", &answer.body, &secrets)?;
        let client_secret = match map.remove("client_secret") {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(Secret::new(s)),
            _ => None,
        };
        let registration_access_token = match map.remove("registration_access_token") {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(Secret::new(s)),
            _ => None,
        };
        let client_id = match map.get("client_id") {
            Some(serde_json::Value::String(id)) if !id.is_empty() => id.clone(),
            _ => {
                return Err(IdpError::Protocol(
                    "the registration answer has no `client_id` (RFC 7591 §3.2.1)".to_owned(),
                ));
            }
        };
        let registration_client_uri = map
            .get("registration_client_uri")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        Ok(Registration {
            client_id,
            client_secret,
            registration_client_uri,
            registration_access_token,
            metadata: serde_json::Value::Object(map),
        })
    }

    fn read(
        &self,
        registration_client_uri: &str,
        token: &Secret,
    ) -> Result<Option<serde_json::Value>, IdpError> {
        let target = check_url("the registration client URI", registration_client_uri)?;
        let secrets = [token];
        let answer = self.idempotent(
            Method::Get,
            &target,
            Some(token),
            "the registration client URI",
        )?;
        match answer.status {
            200 => {}
            401 | 404 | 410 => return Ok(None),
            status => {
                return Err(self.unexpected(
                    "the registration client URI",
                    status,
                    &answer,
                    &secrets,
                ));
            }
        }
        let mut map = self.json_object("the client read answer", &answer.body, &secrets)?;
        map.remove("client_secret");
        if let Some(serde_json::Value::String(new)) = map.remove("registration_access_token")
            && new != token.expose()
        {
            // RFC 7592 §2.1 lets an IdP rotate the token on read; the inventory keeps one
            // token and could not delete the client later, so this is refused loudly.
            return Err(IdpError::Protocol(
                "the IdP issued a new registration access token on read (RFC 7592 §2.1); \
                 token rotation on read is not supported"
                    .to_owned(),
            ));
        }
        Ok(Some(serde_json::Value::Object(map)))
    }

    fn delete(&self, registration_client_uri: &str, token: &Secret) -> Result<(), IdpError> {
        let target = check_url("the registration client URI", registration_client_uri)?;
        let secrets = [token];
        let answer = self.idempotent(
            Method::Delete,
            &target,
            Some(token),
            "the registration client URI",
        )?;
        match answer.status {
            200 | 204 | 401 | 404 | 410 => Ok(()),
            status => {
                Err(self.unexpected("the registration client URI", status, &answer, &secrets))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]
    use super::*;

    #[test]
    fn plain_http_only_for_loopback_ip_addresses() {
        for ok in [
            "https://idp.example.com",
            "https://idp.example.com/realms/x",
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://[::1]:9000/",
        ] {
            assert!(check_url("issuer", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://idp.example.com",
            "http://localhost:8080",
            "http://10.0.0.1",
            "http://[::ffff:127.0.0.1]/x",
            "HTTP://idp.example.com",
            "ftp://idp.example.com",
            "idp.example.com",
            "https://user:pw@idp.example.com",
        ] {
            let err = check_url("issuer", bad).err().map(|e| e.to_string());
            assert!(
                matches!(err.as_deref(), Some(m) if m.starts_with("identity provider configuration: issuer")),
                "{bad}: {err:?}"
            );
        }
        let err = check_url("issuer", "https://user:hunter2@idp.example.com")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn clean_redacts_secrets_even_when_cut() {
        let secret = Secret::new("s3cr3t-token-value-0123456789");
        assert_eq!(
            clean("bad token s3cr3t-token-value-0123456789 given", &[&secret]),
            "bad token [redacted] given"
        );
        // Cut by the length limit in the middle of the secret.
        let long = format!("{}{}", "x".repeat(MAX_IDP_TEXT_CHARS - 5), secret.expose());
        let out = clean(&long, &[&secret]);
        assert!(!out.contains("s3cr3t"), "{out}");
        assert_eq!(out.chars().count(), MAX_IDP_TEXT_CHARS);
        assert_eq!(clean("a\u{0}b\nc\u{1b}[31m", &[]), "abc[31m");
    }

    #[test]
    fn backoff_doubles_within_bounds_and_jitters() {
        let idp = HttpIdp::build(
            "https://idp.example.com",
            "https://idp.example.com/reg",
            HttpIdpOptions {
                backoff: Duration::from_millis(100),
                max_backoff: Duration::from_millis(500),
                jitter_seed: 42,
                ..HttpIdpOptions::default()
            },
        );
        let mut seen = std::collections::BTreeSet::new();
        for attempt in 0..8u32 {
            let full = (100u64 << attempt).min(500);
            for _ in 0..20 {
                let ms = u64::try_from(idp.backoff(attempt).as_millis()).unwrap_or(u64::MAX);
                assert!(ms >= full / 2 && ms <= full, "attempt {attempt}: {ms} ms");
                seen.insert(ms);
            }
        }
        assert!(seen.len() > 10, "jitter varies: {seen:?}");
        // Huge attempt numbers neither overflow nor exceed the cap.
        assert!(idp.backoff(u32::MAX) <= Duration::from_millis(500));
    }

    #[test]
    fn an_http_idp_is_a_shareable_idp() {
        fn shareable<T: Idp + Send + Sync + 'static>() {}
        shareable::<HttpIdp>();
    }

    #[test]
    fn b64token_syntax() {
        for ok in ["abc", "a-b.c_d~e+f/g==", "Zm9v="] {
            assert!(is_b64token(ok), "{ok}");
        }
        for bad in ["", "===", "a b", "a\tb", "tök", "a\"b", "a,b"] {
            assert!(!is_b64token(bad), "{bad}");
        }
    }

    #[test]
    fn oauth_error_from_body_or_www_authenticate() {
        let secret = Secret::new("tok-123456789");
        let body = Answer {
            status: 400,
            body:
                br#"{"error":"invalid_redirect_uri","error_description":"no tok-123456789 here"}"#
                    .to_vec(),
            www_authenticate: None,
        };
        assert_eq!(
            oauth_error(&body, &[&secret]),
            Some((
                "invalid_redirect_uri".to_owned(),
                Some("no [redacted] here".to_owned())
            ))
        );
        let header = Answer {
            status: 401,
            body: Vec::new(),
            www_authenticate: Some(
                r#"Bearer realm="x", error="invalid_token", error_description="expired""#
                    .to_owned(),
            ),
        };
        assert_eq!(
            oauth_error(&header, &[]),
            Some(("invalid_token".to_owned(), Some("expired".to_owned())))
        );
        let none = Answer {
            status: 404,
            body: b"not found".to_vec(),
            www_authenticate: None,
        };
        assert_eq!(oauth_error(&none, &[]), None);
    }
}
