//! The PKCE routes (RFC 7636): every answer comes from the component's `pkce` interface
//! (the host checks the shape of the request, never a verifier or a challenge; `verify`
//! compares in constant time inside the component). Responses are `Cache-Control:
//! no-store`: verifiers, `state` and `nonce` are secrets, and nothing of a request body is
//! logged.

// The error of these helpers is the finished error response, returned on the error path
// only; boxing it would add an allocation per refused request and gain nothing.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::App;
use super::body::{Accepts, Fields, body_type};
use super::errors::{body_rejection, error, host_error};
use super::middleware::RequestId;
use crate::{HostError, Vetter};

/// The JSON body of a request, checked for its media type, size and shape.
fn fields(
    app: &App,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    shape: &'static str,
    empty_ok: bool,
) -> Result<Fields, Response> {
    body_type(headers, Accepts::Json)?;
    let body = body.map_err(|rejection| body_rejection(&rejection, app.max_body_bytes))?;
    Fields::parse(&body, shape, empty_ok)
}

/// Run one call into the component on the blocking pool; `Ok` is sent as JSON, no-store.
async fn run<T, F>(app: &App, id: &str, call: F) -> Response
where
    T: Serialize + Send + 'static,
    F: FnOnce(&Vetter) -> Result<T, HostError> + Send + 'static,
{
    let vetter = app.base.clone();
    match tokio::task::spawn_blocking(move || call(&vetter)).await {
        Ok(Ok(value)) => match serde_json::to_string(&value) {
            Ok(body) => (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                body,
            )
                .into_response(),
            Err(e) => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("cannot serialize the answer: {e}"),
                None,
            ),
        },
        Ok(Err(e)) => host_error(app, id, e),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "trap",
            format!("the PKCE task failed: {e}"),
            None,
        ),
    }
}

const GENERATE: &str = r#"{"length": 43..128, "count": 1..10000} (both optional)"#;

/// `POST /v1/pkce`: `{length?, count?}` → `{pairs: [...]}`.
pub(super) async fn generate(
    State(app): State<Arc<App>>,
    Extension(RequestId(id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = fields(&app, &headers, body, GENERATE, true).and_then(|mut f| {
        // The ranges the component enforces are documented; the host refuses only what
        // does not fit the call (and `count: 0`, which would answer no pair at all).
        let length = f
            .u32("length", 0, u32::MAX, "a whole number from 43 to 128")?
            .unwrap_or(64);
        let count = f
            .u32("count", 1, u32::MAX, "a whole number from 1 to 10000")?
            .unwrap_or(1);
        f.finish()?;
        Ok((length, count))
    });
    let (length, count) = match request {
        Ok(r) => r,
        Err(response) => return response,
    };
    #[derive(Serialize)]
    struct Pairs {
        pairs: Vec<crate::PkcePair>,
    }
    run(&app, &id, move |v| {
        v.pkce_generate_batch(length, count)
            .map(|pairs| Pairs { pairs })
    })
    .await
}

const CHALLENGE: &str = r#"{"verifier": "..."}"#;

/// `POST /v1/pkce/challenge`: `{verifier}` → `{challenge, method}`.
pub(super) async fn challenge(
    State(app): State<Arc<App>>,
    Extension(RequestId(id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = fields(&app, &headers, body, CHALLENGE, false).and_then(|mut f| {
        let verifier = f.required_string("verifier")?;
        f.finish()?;
        Ok(verifier)
    });
    let verifier = match request {
        Ok(r) => r,
        Err(response) => return response,
    };
    #[derive(Serialize)]
    struct Challenge {
        challenge: String,
        method: &'static str,
    }
    run(&app, &id, move |v| {
        v.pkce_challenge(&verifier).map(|challenge| Challenge {
            challenge,
            method: "S256",
        })
    })
    .await
}

const VERIFY: &str = r#"{"verifier": "...", "challenge": "..."}"#;

/// `POST /v1/pkce/verify`: `{verifier, challenge}` → `{match}`.
pub(super) async fn verify(
    State(app): State<Arc<App>>,
    Extension(RequestId(id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = fields(&app, &headers, body, VERIFY, false).and_then(|mut f| {
        let verifier = f.required_string("verifier")?;
        let challenge = f.required_string("challenge")?;
        f.finish()?;
        Ok((verifier, challenge))
    });
    let (verifier, challenge) = match request {
        Ok(r) => r,
        Err(response) => return response,
    };
    #[derive(Serialize)]
    struct Verified {
        #[serde(rename = "match")]
        matches: bool,
    }
    run(&app, &id, move |v| {
        v.pkce_verify(&verifier, &challenge)
            .map(|matches| Verified { matches })
    })
    .await
}

const AUTHORIZE: &str = r#"{"endpoint": "https://...", "client_id": "...", "redirect_uri": "...", "scopes": [...], "extra": {...}} (scopes and extra optional)"#;

/// `POST /v1/pkce/authorize-url`: an authorization-code request URL with PKCE S256,
/// `state` and (for `openid`) `nonce`, plus the secrets the app must keep.
pub(super) async fn authorize_url(
    State(app): State<Arc<App>>,
    Extension(RequestId(id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = fields(&app, &headers, body, AUTHORIZE, false).and_then(|mut f| {
        let endpoint = f.required_string("endpoint")?;
        let client_id = f.required_string("client_id")?;
        let redirect_uri = f.required_string("redirect_uri")?;
        let scopes = f.strings("scopes")?;
        let extra = f.pairs("extra")?;
        f.finish()?;
        Ok((endpoint, client_id, redirect_uri, scopes, extra))
    });
    let (endpoint, client_id, redirect_uri, scopes, extra) = match request {
        Ok(r) => r,
        Err(response) => return response,
    };
    run(&app, &id, move |v| {
        v.pkce_authorize_url(&endpoint, &client_id, &redirect_uri, &scopes, &extra)
    })
    .await
}
