//! The HTML the three demo apps answer with: one layout, every value escaped.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};

/// `text` safe inside HTML text and double-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: `app` names who answers (each app has its colour), `title` is the heading and
/// `body` is HTML the caller has already escaped. Never cached: pages carry per-user data and
/// CSRF tokens.
pub(crate) fn page(
    status: StatusCode,
    app: &str,
    colour: &str,
    title: &str,
    body: &str,
) -> Response {
    let (app, title) = (escape(app), escape(title));
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title} · {app}</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}}\
         header{{background:{colour};color:#fff;padding:.6rem 1rem;border-radius:.4rem}}\
         button{{font-size:1rem;padding:.4rem 1rem;margin-right:.5rem}}\
         input{{font-size:1rem;margin:.2rem 0 .6rem;display:block}}\
         .demo{{background:#fff3cd;padding:.5rem;border-radius:.3rem}}\
         </style></head><body><header>{app}</header><h1>{title}</h1>\n{body}\n</body></html>\n"
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A `303 See Other` to `location` (after a POST, the browser follows it with a GET).
pub(crate) fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (
            StatusCode::SEE_OTHER,
            [(axum::http::header::LOCATION, location)],
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_leaves_no_markup() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
