//! The responses of the service's errors: every error is
//! `{"error": {code, message, help?, path?}}`, JSON.

use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::App;
use crate::HostError;

/// A JSON response.
pub(super) fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `200` with `value` as JSON, or `500 internal` naming `what` if it cannot be serialized.
pub(super) fn json_ok(value: &impl Serialize, what: &str) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("cannot serialize {what}: {e}"),
            None,
        ),
    }
}

/// The body of an error response (serialized straight from these structs: building a
/// `serde_json::Value` first, an ordered map with hashed keys, cost ~3 µs per response).
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
}

/// `{"error": {code, message, help?}}`.
pub(super) fn error(
    status: StatusCode,
    code: &str,
    message: String,
    help: Option<&str>,
) -> Response {
    error_with(status, code, &message, help, None)
}

/// `{"error": {code, message, help?, path}}`: an error at a field of a JSON request
/// (`path` is its RFC 6901 pointer).
pub(super) fn error_at(
    status: StatusCode,
    code: &str,
    message: String,
    help: Option<&str>,
    path: &str,
) -> Response {
    error_with(status, code, &message, help, Some(path))
}

fn error_with(
    status: StatusCode,
    code: &str,
    message: &str,
    help: Option<&str>,
    path: Option<&str>,
) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code,
            message,
            help,
            path,
        },
    };
    // Serializing these structs cannot fail (string fields only); the fallback is there
    // only because the signature says it could.
    let body = serde_json::to_string(&body)
        .unwrap_or_else(|_| format!(r#"{{"error":{{"code":"{code}"}}}}"#));
    json_response(status, body)
}

/// The response to a failed call of the component (logged, and counted in the metrics).
pub(super) fn host_error(app: &App, id: &str, e: HostError) -> Response {
    app.metrics.host_error(&e);
    match e {
        HostError::Input(v) => json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            serde_json::json!({ "error": v }).to_string(),
        ),
        HostError::Limit(l) => {
            tracing::warn!(request_id = %id, limit = %l, "host limit hit; only this call failed");
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "host-limit",
                l.to_string(),
                Some("the input needs more time or memory than the server allows for one call"),
            )
        }
        HostError::Policy(v) => {
            tracing::error!(request_id = %id, error = %v, "the policy failed to load in a new instance");
            error(StatusCode::INTERNAL_SERVER_ERROR, "policy", v.message, None)
        }
        HostError::Trap(m) => {
            tracing::error!(request_id = %id, error = %m, "the component trapped; only this call failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "trap", m, None)
        }
        HostError::Setup(m) => {
            tracing::error!(request_id = %id, error = %m, "cannot set up an instance");
            error(StatusCode::INTERNAL_SERVER_ERROR, "setup", m, None)
        }
    }
}

/// The response to a body that could not be read: 413 over `limit`, else 400.
pub(super) fn body_rejection(rejection: &BytesRejection, limit: usize) -> Response {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        body_too_large(limit)
    } else {
        error(
            StatusCode::BAD_REQUEST,
            "bad-request",
            format!("cannot read the request body: {rejection}"),
            None,
        )
    }
}

/// The 400 of a query string that does not parse into the route's parameters.
pub(super) fn query_rejection(rejection: &QueryRejection) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "bad-request",
        format!("invalid query string: {rejection}"),
        None,
    )
}

/// The 413 of a body over `limit` bytes.
pub(super) fn body_too_large(limit: usize) -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        format!("the request body is larger than the limit of {limit} bytes"),
        Some("a manifest is a few kilobytes; the component itself refuses more than 1 MiB"),
    )
}
