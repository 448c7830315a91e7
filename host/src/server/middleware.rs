//! The middleware every route passes through ([`observe`]): the request id, the body read
//! in full and the concurrency permit of the limited and protected routes, metrics, and
//! one log line per request; and the rate-limited log of overload refusals.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Semaphore;

use super::errors::{body_too_large, error};
use super::{App, PROTECTED_CONCURRENCY, apps, conn};

/// The response header carrying the request id (a constant: a `&str` name is parsed and
/// validated on every insert).
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request id of a request (also in the `x-request-id` response header).
#[derive(Clone)]
pub(super) struct RequestId(pub(super) Arc<str>);

/// The label of a matched route (a fixed set, so metrics stay bounded).
fn route_label(path: Option<&str>) -> &'static str {
    match path {
        Some("/v1/vet") => "/v1/vet",
        Some("/v1/vet/dcr") => "/v1/vet/dcr",
        Some("/v1/pkce") => "/v1/pkce",
        Some("/v1/pkce/challenge") => "/v1/pkce/challenge",
        Some("/v1/pkce/verify") => "/v1/pkce/verify",
        Some("/v1/pkce/authorize-url") => "/v1/pkce/authorize-url",
        Some("/v1/policies") => "/v1/policies",
        Some("/v1/rules") => "/v1/rules",
        Some("/v1/rules/{id}") => "/v1/rules/{id}",
        Some("/healthz") => "/healthz",
        Some("/metrics") => "/metrics",
        Some("/openapi.json") => "/openapi.json",
        Some("/v1/discover") => "/v1/discover",
        Some("/v1/apps") => "/v1/apps",
        Some("/v1/apps/sweep") => "/v1/apps/sweep",
        Some("/v1/apps/{name}") => "/v1/apps/{name}",
        Some("/v1/apps/{name}/recertify") => "/v1/apps/{name}/recertify",
        Some("/v1/apps/{name}/revoke") => "/v1/apps/{name}/revoke",
        Some("/apps" | "/apps/{file}") => "/apps",
        Some("/" | "/{*path}") => "static",
        _ => "unmatched",
    }
}

/// The routes of the `limited` router in [`super::routes::router`]: one list for the
/// router and for [`limited`], so a route cannot be added to one and not the other.
pub(super) const LIMITED_ROUTES: [&str; 6] = [
    "/v1/vet",
    "/v1/vet/dcr",
    "/v1/pkce",
    "/v1/pkce/challenge",
    "/v1/pkce/verify",
    "/v1/pkce/authorize-url",
];

/// Requests that hold a concurrency permit: a POST to one of [`LIMITED_ROUTES`]. Other
/// methods on those routes get their 405 without one.
fn limited(route: &str, method: &Method) -> bool {
    *method == Method::POST && LIMITED_ROUTES.contains(&route)
}

/// Request id, the concurrency permit of the limited routes, metrics and one log line per
/// request (one middleware: each layer costs allocations per request).
pub(super) async fn observe(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = app.next_request_id();
    let route = route_label(
        req.extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str),
    );
    let method = req.method().clone();
    req.extensions_mut().insert(RequestId(Arc::clone(&id)));
    let mut response = if limited(route, &method) {
        bounded(
            &app,
            req,
            next,
            app.max_body_bytes,
            &app.permits,
            app.max_concurrency,
        )
        .await
    } else if let Some(role) = apps::protected(route, &method) {
        // The caller first (a stranger's body is never read), then as the limited routes,
        // with permits of the protected routes' own.
        match apps::admit(&app, route, req.headers(), role) {
            Ok(principal) => {
                req.extensions_mut().insert(principal);
                let limit = match route {
                    "/v1/discover" => app.discover.unwrap_or(app.max_body_bytes),
                    _ => app.max_body_bytes,
                };
                let permits = &app.protected_permits;
                bounded(&app, req, next, limit, permits, PROTECTED_CONCURRENCY).await
            }
            Err(response) => response,
        }
    } else {
        next.run(req).await
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID, v);
    }
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    app.metrics.observe_request(route, status, elapsed);
    // An overload 503 is counted in the once-a-second line of `OverloadLog` instead.
    if response.extensions().get::<Overloaded>().is_some() {
        return response;
    }
    tracing::info!(
        request_id = %id,
        method = %method,
        route,
        status,
        micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    response
}

/// The whole body first (bounded in size by `limit` and in time), so a slow client holds
/// no permit; then bounded concurrency: one of `permits` (`cap` in all) or 503 at once (no
/// queue).
async fn bounded(
    app: &App,
    req: Request,
    next: Next,
    limit: usize,
    permits: &Semaphore,
    cap: usize,
) -> Response {
    match read_body(app, req, limit).await {
        Ok(req) => match permits.try_acquire() {
            Ok(permit) => {
                let response = next.run(req).await;
                drop(permit);
                response
            }
            Err(_) => overloaded(app, cap),
        },
        Err(response) => response,
    }
}

/// Read the whole body of `req` within the body timeout and the size limit; the request
/// with the body in memory, or the error response (413, 408 with `Connection: close`,
/// 400).
async fn read_body(app: &App, req: Request, limit: usize) -> Result<Request, Response> {
    use http_body_util::BodyExt as _;
    let (parts, body) = req.into_parts();
    if axum::body::HttpBody::size_hint(&body).lower() > u64::try_from(limit).unwrap_or(u64::MAX) {
        return Err(body_too_large(limit));
    }
    let read = http_body_util::Limited::new(body, limit).collect();
    match tokio::time::timeout(app.body_timeout, read).await {
        Ok(Ok(collected)) => Ok(Request::from_parts(
            parts,
            axum::body::Body::from(collected.to_bytes()),
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(body_too_large(limit)),
        Ok(Err(e)) => Err(error(
            StatusCode::BAD_REQUEST,
            "bad-request",
            format!("cannot read the request body: {e}"),
            None,
        )),
        Err(_) => {
            app.metrics.shed(conn::Shed::BodyTimeout);
            app.conn_events.notify_one();
            let mut response = error(
                StatusCode::REQUEST_TIMEOUT,
                "body-timeout",
                format!(
                    "the request body did not arrive within {} ms",
                    app.body_timeout.as_millis()
                ),
                Some("send the whole body at once, right after the headers"),
            );
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            Err(response)
        }
    }
}

/// Marks the 503 of an overload: it gets no request line of its own (under overload that
/// would be a line per refused request, tens of thousands a second).
#[derive(Clone, Copy)]
struct Overloaded;

/// How often the number of refused requests is logged while the server is overloaded.
const OVERLOAD_LOG_INTERVAL: Duration = Duration::from_secs(1);

/// The log of overload refusals: one line when refusing starts, then one line per
/// [`OVERLOAD_LOG_INTERVAL`] with the number refused in it, until an interval has none.
#[derive(Default)]
pub(super) struct OverloadLog {
    refused: AtomicU64,
    /// Whether a task is counting (at most one at a time).
    counting: AtomicBool,
}

impl OverloadLog {
    fn refuse(self: &Arc<Self>, max_concurrency: usize) {
        self.refused.fetch_add(1, Ordering::AcqRel);
        if !self.counting.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                max_concurrency,
                interval_ms = OVERLOAD_LOG_INTERVAL.as_millis() as u64,
                "at the concurrency limit: refusing requests with 503 (counted once per interval)"
            );
            let log = Arc::clone(self);
            drop(tokio::spawn(
                async move { log.count(max_concurrency).await },
            ));
        }
    }

    async fn count(&self, max_concurrency: usize) {
        loop {
            tokio::time::sleep(OVERLOAD_LOG_INTERVAL).await;
            let refused = self.refused.swap(0, Ordering::AcqRel);
            if refused > 0 {
                tracing::warn!(
                    refused,
                    max_concurrency,
                    interval_ms = OVERLOAD_LOG_INTERVAL.as_millis() as u64,
                    "overloaded: requests refused with 503"
                );
                continue;
            }
            self.counting.store(false, Ordering::Release);
            // A refusal between the swap and the store started no task: count it here,
            // unless a new task already does.
            if self.refused.load(Ordering::Acquire) == 0
                || self.counting.swap(true, Ordering::AcqRel)
            {
                return;
            }
        }
    }
}

/// The 503 of a request that found no concurrency permit free.
pub(super) fn overloaded(app: &App, limit: usize) -> Response {
    app.metrics.overloaded();
    app.overload_log.refuse(limit);
    let mut response = error(
        StatusCode::SERVICE_UNAVAILABLE,
        "overloaded",
        format!("the server is at its concurrency limit ({limit} requests)"),
        Some("retry after the time in the `Retry-After` header"),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response.extensions_mut().insert(Overloaded);
    response
}
