//! Request bodies: what a `Content-Type` / `Content-Encoding` means on each route, and
//! the JSON request objects of the PKCE routes (fields checked one by one, each error
//! naming its field).
//!
//! | `Content-Type` (parameters: only `charset=utf-8` / `us-ascii` is understood) | vet routes | PKCE routes |
//! |---|---|---|
//! | none | the text as it is (YAML or JSON) | JSON |
//! | `application/json` | one JSON **object** (the manifest / the registration request) | JSON object |
//! | `application/yaml`, `application/x-yaml`, `text/yaml`, `text/x-yaml`, `text/plain` | the text as it is | 415 |
//! | anything else | 415 | 415 |
//!
//! `Content-Encoding` may be absent or `identity`; anything else (`gzip`, ...) is 415: the
//! body would otherwise be vetted as the compressed bytes.

// The error of these helpers is the finished error response, returned on the error path
// only; boxing it would add an allocation per refused request and gain nothing.
#![allow(clippy::result_large_err)]

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::errors::{error, error_at};

/// How the bytes of a body are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyType {
    /// One JSON object.
    Json,
    /// Text handed to the component as it is (it reads YAML and JSON).
    Text,
}

/// The media types a route takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Accepts {
    /// A manifest or a registration request: JSON, YAML or plain text.
    Document,
    /// A JSON request object (the PKCE routes).
    Json,
}

impl Accepts {
    fn listed(self) -> &'static str {
        match self {
            Accepts::Document => {
                "application/json (one JSON object), application/yaml, application/x-yaml, text/yaml, text/x-yaml or text/plain"
            }
            Accepts::Json => "application/json",
        }
    }
}

/// The body type of a request from its headers, or the 415 that refuses it.
pub(super) fn body_type(headers: &HeaderMap, accepts: Accepts) -> Result<BodyType, Response> {
    check_encoding(headers)?;
    let mut types = headers.get_all(header::CONTENT_TYPE).iter();
    let Some(value) = types.next() else {
        return Ok(match accepts {
            Accepts::Document => BodyType::Text,
            Accepts::Json => BodyType::Json,
        });
    };
    if types.next().is_some() {
        return Err(unsupported_type(
            "the request has more than one `Content-Type` header".to_owned(),
            accepts,
        ));
    }
    let Ok(value) = value.to_str() else {
        return Err(unsupported_type(
            "the `Content-Type` header is not ASCII text".to_owned(),
            accepts,
        ));
    };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    for param in parts {
        let param = param.trim();
        if param.is_empty() {
            continue;
        }
        let (name, raw) = param.split_once('=').unwrap_or((param, ""));
        if name.trim().eq_ignore_ascii_case("charset") {
            let charset = raw.trim().trim_matches('"');
            if !["utf-8", "utf8", "us-ascii"]
                .iter()
                .any(|c| c.eq_ignore_ascii_case(charset))
            {
                return Err(unsupported_type(
                    format!(
                        "charset `{}` is not supported: the body must be UTF-8",
                        clip(charset)
                    ),
                    accepts,
                ));
            }
        }
    }
    let found = match (essence.as_str(), accepts) {
        ("application/json", _) => Some(BodyType::Json),
        (
            "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml" | "text/plain",
            Accepts::Document,
        ) => Some(BodyType::Text),
        _ => None,
    };
    found.ok_or_else(|| {
        unsupported_type(
            format!("content type `{}` is not supported here", clip(&essence)),
            accepts,
        )
    })
}

fn check_encoding(headers: &HeaderMap) -> Result<(), Response> {
    for value in headers.get_all(header::CONTENT_ENCODING) {
        let Ok(text) = value.to_str() else {
            return Err(unsupported_encoding("a non-ASCII value".to_owned()));
        };
        for coding in text.split(',').map(str::trim) {
            if !coding.is_empty() && !coding.eq_ignore_ascii_case("identity") {
                return Err(unsupported_encoding(format!("`{}`", clip(coding))));
            }
        }
    }
    Ok(())
}

fn unsupported_type(message: String, accepts: Accepts) -> Response {
    let help = format!("send the body as {}", accepts.listed());
    error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        message,
        Some(&help),
    )
}

fn unsupported_encoding(what: String) -> Response {
    let mut response = error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-encoding",
        format!("content encoding {what} is not supported"),
        Some("send the body uncompressed (no `Content-Encoding`, or `identity`)"),
    );
    // RFC 7694 §3: say which codings are accepted.
    response.headers_mut().insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    response
}

/// At most 64 characters of a user-supplied value, for messages.
pub(super) fn clip(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(64)
        .collect::<String>()
        .escape_debug()
        .to_string();
    if s.chars().nth(64).is_some() {
        out.push('…');
    }
    out
}

/// The 400 of a body with nothing in it (or only whitespace) where a document is required.
pub(super) fn empty_body(what: &str) -> Response {
    let help = format!("send {what} in the request body");
    error(
        StatusCode::BAD_REQUEST,
        "empty-body",
        "the request body is empty".to_owned(),
        Some(&help),
    )
}

/// Whether a body has nothing but whitespace.
pub(super) fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// Whether a YAML text is an empty or null document once comments, directives and
/// document markers are set aside (`null`, `~`, `--- # nothing`): there is nothing to vet,
/// and the component would vet it as an empty manifest. Stops at the second line with
/// content, so a real manifest costs a line or two.
pub(super) fn is_null_document(text: &str) -> bool {
    let mut content: Option<&str> = None;
    for line in text.lines() {
        let mut line = line.trim();
        if line.starts_with('%') {
            continue;
        }
        for marker in ["---", "..."] {
            if let Some(rest) = line.strip_prefix(marker)
                && (rest.is_empty() || rest.starts_with([' ', '\t']))
            {
                line = rest.trim_start();
            }
        }
        if line.starts_with('#') {
            continue;
        }
        let line = match line.find(" #").or_else(|| line.find("\t#")) {
            Some(at) => line.get(..at).unwrap_or_default().trim_end(),
            None => line,
        };
        if line.is_empty() {
            continue;
        }
        if content.is_some() {
            return false;
        }
        content = Some(line);
    }
    content.is_none_or(|v| matches!(v, "~" | "null" | "Null" | "NULL"))
}

/// The 422 of a document that is empty or `null`.
pub(super) fn null_document(what: &str) -> Response {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "empty-document",
        "the document is empty (`null`), not a mapping".to_owned(),
        Some(&format!("send {what} as a YAML mapping or a JSON object")),
    )
}

/// The name of a JSON value's type, for messages.
fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Accepts any JSON object and keeps nothing of it (a check, without building the value).
struct AnyObject;

impl<'de> Deserialize<'de> for AnyObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(AnyObject)
    }
}

impl<'de> Visitor<'de> for AnyObject {
    type Value = AnyObject;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(AnyObject)
    }
}

/// Check that `text` (an `application/json` vet body) is one JSON object: 400 when it is
/// not JSON, 422 when it is JSON but not an object.
pub(super) fn check_json_object(text: &str, what: &str) -> Result<(), Response> {
    match serde_json::from_str::<AnyObject>(text) {
        Ok(AnyObject) => Ok(()),
        Err(e) if e.is_data() => {
            let kind = serde_json::from_str::<serde_json::Value>(text)
                .map(|v| json_kind(&v))
                .unwrap_or("not an object");
            Err(not_an_object(kind, what))
        }
        Err(e) => Err(bad_json(&e)),
    }
}

/// A valid JSON text with every surrogate-pair escape (`\uD83D\uDE00`) written as the
/// character it stands for. The component reads JSON as YAML 1.2, whose `\u` escapes are
/// code points: a surrogate is not one, so it would refuse a valid JSON object. Nothing else
/// changes (same lines, same other bytes); `text` must already be valid JSON, where a
/// backslash only ever starts an escape inside a string.
pub(super) fn join_surrogate_escapes(text: &str) -> std::borrow::Cow<'_, str> {
    fn hex4(s: &str, at: usize) -> Option<u32> {
        let digits = s.get(at..at + 4)?;
        u32::from_str_radix(digits, 16).ok()
    }
    if !text.contains("\\u") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    let mut i = 0;
    let bytes = text.as_bytes();
    while let Some(offset) = bytes
        .get(i..)
        .and_then(|b| b.iter().position(|&c| c == b'\\'))
    {
        let at = i + offset;
        // `\uXXXX\uYYYY`: a high then a low surrogate.
        let pair = (bytes.get(at + 1) == Some(&b'u'))
            .then(|| hex4(text, at + 2))
            .flatten()
            .filter(|hi| (0xD800..0xDC00).contains(hi))
            .and_then(|hi| {
                (text.get(at + 6..at + 8) == Some("\\u"))
                    .then(|| hex4(text, at + 8))
                    .flatten()
                    .filter(|lo| (0xDC00..0xE000).contains(lo))
                    .map(|lo| 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
            })
            .and_then(char::from_u32);
        match pair {
            Some(c) => {
                out.push_str(text.get(rest..at).unwrap_or_default());
                out.push(c);
                i = at + 12;
                rest = i;
            }
            // Any other escape is two characters or more; skip the escaped one.
            None => i = at + 2,
        }
    }
    out.push_str(text.get(rest..).unwrap_or_default());
    std::borrow::Cow::Owned(out)
}

fn bad_json(e: &serde_json::Error) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "bad-json",
        format!("the body is not valid JSON: {e}"),
        Some("send one JSON object, or use `Content-Type: application/yaml` for YAML"),
    )
}

fn not_an_object(kind: &str, what: &str) -> Response {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "not-an-object",
        format!("the body is {kind}, not a JSON object"),
        Some(&format!("send {what} as one JSON object")),
    )
}

/// The fields of a JSON request object, taken one by one; what is left is unknown.
pub(super) struct Fields {
    map: serde_json::Map<String, serde_json::Value>,
    /// `{"a": 1, ...}`: the shape of the request, for messages.
    shape: &'static str,
}

impl Fields {
    /// Parse a JSON request object (an empty body is `{}` only where `empty_ok`).
    pub(super) fn parse(
        body: &[u8],
        shape: &'static str,
        empty_ok: bool,
    ) -> Result<Fields, Response> {
        if is_blank(body) {
            if empty_ok {
                return Ok(Fields {
                    map: serde_json::Map::new(),
                    shape,
                });
            }
            return Err(empty_body(&format!("a JSON object {shape}")));
        }
        let text = std::str::from_utf8(body).map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                "encoding",
                format!(
                    "the body is not valid UTF-8 (byte offset {})",
                    e.valid_up_to()
                ),
                Some("send the request as UTF-8 JSON"),
            )
        })?;
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => Ok(Fields { map, shape }),
            Ok(other) => Err(not_an_object(
                json_kind(&other),
                &format!("the request {shape}"),
            )),
            Err(e) => Err(bad_json(&e)),
        }
    }

    fn invalid(&self, field: &str, message: String) -> Response {
        let help = format!("send {}", self.shape);
        error_at(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            message,
            Some(&help),
            &pointer(field),
        )
    }

    fn wrong_type(&self, field: &str, expected: &str, found: &serde_json::Value) -> Response {
        self.invalid(
            field,
            format!(
                "`{}` must be {expected}, not {}",
                clip(field),
                json_kind(found)
            ),
        )
    }

    /// An optional whole number from `min` to `max`; `expected` says what the route
    /// documents (the component checks its own limits on top).
    pub(super) fn u32(
        &mut self,
        field: &str,
        min: u32,
        max: u32,
        expected: &str,
    ) -> Result<Option<u32>, Response> {
        let Some(v) = self.map.remove(field) else {
            return Ok(None);
        };
        let n = match &v {
            serde_json::Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX))
                    .map(|f| f as u64)
            }),
            _ => return Err(self.wrong_type(field, expected, &v)),
        };
        match n.and_then(|n| u32::try_from(n).ok()) {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(self.invalid(
                field,
                format!(
                    "`{}` must be {expected}, not `{}`",
                    clip(field),
                    clip(&v.to_string())
                ),
            )),
        }
    }

    /// An optional string.
    pub(super) fn string(&mut self, field: &str) -> Result<Option<String>, Response> {
        match self.map.remove(field) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.wrong_type(field, "a string", &v)),
        }
    }

    /// A required string.
    pub(super) fn required_string(&mut self, field: &str) -> Result<String, Response> {
        self.string(field)?
            .ok_or_else(|| self.invalid(field, format!("`{field}` is required")))
    }

    /// An optional array of strings (`[]` when absent).
    pub(super) fn strings(&mut self, field: &str) -> Result<Vec<String>, Response> {
        let Some(v) = self.map.remove(field) else {
            return Ok(Vec::new());
        };
        let serde_json::Value::Array(items) = v else {
            return Err(self.wrong_type(field, "an array of strings", &v));
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            match item {
                serde_json::Value::String(s) => out.push(s),
                other => {
                    return Err(self.wrong_type(&format!("{field}/{i}"), "a string", &other));
                }
            }
        }
        Ok(out)
    }

    /// Optional name/value pairs: an object `{"name": "value", ...}` (in its order) or an
    /// array of `["name", "value"]` pairs.
    pub(super) fn pairs(&mut self, field: &str) -> Result<Vec<(String, String)>, Response> {
        let Some(v) = self.map.remove(field) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        match v {
            serde_json::Value::Object(map) => {
                for (name, value) in map {
                    match value {
                        serde_json::Value::String(s) => out.push((name, s)),
                        other => {
                            let at = format!("{field}/{}", escape_pointer(&name));
                            return Err(self.wrong_type(&at, "a string", &other));
                        }
                    }
                }
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.into_iter().enumerate() {
                    let pair = match item {
                        serde_json::Value::Array(pair) => pair,
                        other => {
                            return Err(self.wrong_type(
                                &format!("{field}/{i}"),
                                "a [\"name\", \"value\"] pair",
                                &other,
                            ));
                        }
                    };
                    match <[serde_json::Value; 2]>::try_from(pair) {
                        Ok(
                            [
                                serde_json::Value::String(name),
                                serde_json::Value::String(value),
                            ],
                        ) => {
                            out.push((name, value));
                        }
                        _ => {
                            return Err(self.invalid(
                                &format!("{field}/{i}"),
                                format!("`{field}/{i}` must be a [\"name\", \"value\"] pair of two strings"),
                            ));
                        }
                    }
                }
            }
            other => {
                return Err(self.wrong_type(
                    field,
                    "an object of strings or an array of [\"name\", \"value\"] pairs",
                    &other,
                ));
            }
        }
        Ok(out)
    }

    /// Refuse any field not taken.
    pub(super) fn finish(self) -> Result<(), Response> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(name) => Err(self.invalid(name, format!("unknown field `{}`", clip(name)))),
        }
    }
}

/// RFC 6901 pointer to a field path written `a/b` (segments already escaped where needed).
fn pointer(field: &str) -> String {
    format!("/{field}")
}

/// One RFC 6901 reference token.
fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                *k,
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("x")),
            );
        }
        h
    }

    #[test]
    fn content_types() {
        let ok = |pairs: &[(&'static str, &str)], accepts| body_type(&headers(pairs), accepts).ok();
        assert_eq!(ok(&[], Accepts::Document), Some(BodyType::Text));
        assert_eq!(ok(&[], Accepts::Json), Some(BodyType::Json));
        assert_eq!(
            ok(
                &[("content-type", "Application/JSON; charset=\"UTF-8\"")],
                Accepts::Document
            ),
            Some(BodyType::Json)
        );
        assert_eq!(
            ok(&[("content-type", "text/yaml")], Accepts::Document),
            Some(BodyType::Text)
        );
        assert_eq!(ok(&[("content-type", "text/yaml")], Accepts::Json), None);
        assert_eq!(
            ok(
                &[("content-type", "text/plain; charset=latin1")],
                Accepts::Document
            ),
            None
        );
        assert_eq!(
            ok(
                &[("content-type", "application/octet-stream")],
                Accepts::Document
            ),
            None
        );
        assert_eq!(
            ok(
                &[
                    ("content-type", "text/plain"),
                    ("content-type", "application/json")
                ],
                Accepts::Document
            ),
            None
        );
        assert_eq!(ok(&[("content-encoding", "gzip")], Accepts::Document), None);
        assert_eq!(
            ok(&[("content-encoding", "identity, gzip")], Accepts::Json),
            None
        );
        assert_eq!(
            ok(&[("content-encoding", "Identity")], Accepts::Json),
            Some(BodyType::Json)
        );
    }

    #[test]
    fn surrogate_pairs_are_joined_and_nothing_else_changes() {
        // A pair is joined; an escaped backslash before `u` is not an escape; other
        // escapes stay as they are.
        let text = r#"{"a\uD83D\uDE00": "x\\uD83D\\uDE00", "b": "\u00e9\n\uD83D\uDE00!"}"#;
        assert_eq!(
            join_surrogate_escapes(text),
            r#"{"a😀": "x\\uD83D\\uDE00", "b": "\u00e9\n😀!"}"#
        );
        let plain = r#"{"a": "\u00e9 \\ \""}"#;
        assert_eq!(join_surrogate_escapes(plain), plain);
        // The same JSON value either way.
        for t in [text, plain] {
            let a: serde_json::Value = serde_json::from_str(t).unwrap_or_default();
            let joined = join_surrogate_escapes(t);
            let b: serde_json::Value = serde_json::from_str(&joined).unwrap_or_default();
            assert!(a.is_object());
            assert_eq!(a, b);
        }
    }

    #[test]
    fn null_documents() {
        for text in [
            "null",
            "~\n",
            "--- # none\n...\n",
            "%YAML 1.2\n---\nNULL # x\n",
            "# only a comment\n",
        ] {
            assert!(is_null_document(text), "{text:?}");
        }
        for text in [
            "name: x\n",
            "null: x\n",
            "--- null\nname: x\n",
            "[]",
            "nul",
            "'null'",
        ] {
            assert!(!is_null_document(text), "{text:?}");
        }
    }

    #[test]
    fn json_objects_only() {
        assert!(check_json_object(r#"{"name": "x"}"#, "the manifest").is_ok());
        for (text, status) in [
            ("[1]", 422),
            ("\"name: x\"", 422),
            ("null", 422),
            ("{", 400),
            ("name: x", 400),
        ] {
            let r = check_json_object(text, "the manifest")
                .err()
                .map(|r| r.status().as_u16());
            assert_eq!(r, Some(status), "{text}");
        }
    }
}
