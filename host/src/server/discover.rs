//! `POST /v1/discover?from=FORMAT[&policy=NAME]`: the body is an IdP's export (JSON, see
//! docs/DISCOVERY.md); the answer is the JSON report of `microvet discover --format json`
//! (every client with its labels and verdict, the unread clients, the summary).
//!
//! Off unless the server runs with `--discover` ([`super::Config::discover`]): the route
//! then answers 404 `not-enabled`. It takes the `admin` role (`--api-tokens`; checked before
//! the body is read, in `super::middleware::observe`): an export holds client secrets. Its
//! body limit is its own (`--discover-max-bytes`, default 32 MiB), and one discovery runs
//! at a time (another gets 503 with `Retry-After`): a large export holds a vetting thread
//! for seconds. With the app lifecycle configured, clients are matched against its inventory
//! (`approved` / `drifted`, as `microvet discover --store`); otherwise they are `unvetted`
//! or `built-in` (plus `ownerless`).

// The error of the blocking task is the finished error response (as in `body`).
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::errors::{body_rejection, error, query_rejection};
use super::policies::DEFAULT;
use super::{App, body};
use crate::discover::label::{Approvals, from_store};
use crate::discover::report::{OutputFormat, run};
use crate::discover::{Format, read_export};

/// The default body limit of `/v1/discover`: 32 MiB.
pub const DEFAULT_DISCOVER_MAX_BYTES: usize = 32 << 20;

#[derive(Debug, Deserialize)]
pub(super) struct DiscoverQuery {
    from: Option<String>,
    policy: Option<String>,
}

/// The 404 of `/v1/discover` on a server without `--discover`.
pub(super) fn not_enabled() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not-enabled",
        "discovery is not enabled on this server".to_owned(),
        Some("start the server with `--discover` (and `--api-tokens`)"),
    )
}

pub(super) async fn discover(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    query: Result<Query<DiscoverQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(limit) = app.discover else {
        return not_enabled();
    };
    if let Err(response) = body::body_type(&headers, body::Accepts::Json) {
        return response;
    }
    let body = match body {
        Ok(b) => b,
        Err(rejection) => return body_rejection(&rejection, limit),
    };
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return query_rejection(&e),
    };
    let formats = Format::ALL.map(Format::as_str).join(", ");
    let Some(format) = q.from.as_deref().and_then(Format::parse) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad-request",
            match &q.from {
                Some(f) => format!("unknown export format `{}`", body::clip(f)),
                None => "the export format is missing".to_owned(),
            },
            Some(&format!("add `?from=` one of: {formats}")),
        );
    };
    let name = q.policy.unwrap_or_else(|| DEFAULT.to_owned());
    let vetter = {
        let set = app.policies.current();
        match set.get(&name) {
            Some(named) => named.vetter.clone(),
            None => {
                let help = format!("known policies: {}", set.names().join(", "));
                return error(
                    StatusCode::NOT_FOUND,
                    "unknown-policy",
                    format!("no policy named `{}`", body::clip(&name)),
                    Some(&help),
                );
            }
        }
    };
    let Ok(_running) = app.discovering.try_lock() else {
        let mut r = error(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "another discovery is running".to_owned(),
            Some("retry when it is done"),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return r;
    };
    let inventory = app.apps.as_ref().map(|s| Arc::clone(&s.lifecycle));
    let work = move || -> Result<Vec<u8>, Response> {
        let mut approvals = Approvals::default();
        if let Some(lc) = &inventory {
            from_store(lc.store.as_ref(), &mut approvals).map_err(|e| {
                error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store-unavailable",
                    format!("the inventory could not be read: {e}"),
                    None,
                )
            })?;
        }
        let text = std::str::from_utf8(&body).map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                "encoding",
                format!(
                    "the body is not valid UTF-8 (byte offset {})",
                    e.valid_up_to()
                ),
                None,
            )
        })?;
        let export = read_export(format, "request", text)
            .map_err(|e| error(StatusCode::BAD_REQUEST, "export", e.to_string(), None))?;
        let mut out = Vec::new();
        run(
            &vetter,
            &approvals,
            vec![export],
            OutputFormat::Json,
            &mut out,
            &mut |_, _| {},
        )
        .map_err(|e| {
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("the report could not be written: {e}"),
                None,
            )
        })?;
        Ok(out)
    };
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(report)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            report,
        )
            .into_response(),
        Ok(Err(response)) => response,
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the discovery task failed".to_owned(),
            None,
        ),
    }
}
