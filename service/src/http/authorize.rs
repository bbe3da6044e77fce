//! `GET|POST /authorize` (RFC 6749 §4.1.1): [`Authority::authorize`] from the query (or a
//! form body), answered with a `303` to the login app, a `303` back to the client with the
//! error, or, when the client or its redirect URI is unknown, an HTML page and no redirect
//! (§4.1.2.1).

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Method, StatusCode};

use super::Shared;
use super::form::{self, Params};
use super::response::Refusal;
use crate::authority::{AuthorizationRequest, Error, Refused};
use crate::store::Store;

pub(super) async fn authorize<S: Store>(
    State(endpoints): State<Shared<S>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = if parts.method == Method::POST {
        match form::expect_media(&parts.headers, "application/x-www-form-urlencoded") {
            Ok(()) => match form::body(body).await {
                Ok(body) => body,
                Err(refusal) => return page(&refusal_error(refusal)),
            },
            Err(refusal) => return page(&refusal_error(refusal)),
        }
    } else {
        axum::body::Bytes::from(parts.uri.query().unwrap_or_default().to_owned())
    };
    let params = Params::parse(&body);
    let request = match read(&params) {
        Ok(request) => request,
        // A repeated parameter: nothing says which redirect URI is the client's.
        Err(e) => return page(&e),
    };
    match endpoints.authority.authorize(request).await {
        Ok(login) => see_other(&login),
        Err(Refused::Redirect { to, error }) => {
            tracing::debug!(error = %error, "authorization request refused");
            let mut answer = see_other(&to);
            answer
                .extensions_mut()
                .insert(crate::meter::Outcome(error.kind().as_str()));
            answer
        }
        Err(Refused::NoRedirect(e)) => page(&e),
    }
}

fn read<'a>(params: &'a Params<'a>) -> Result<AuthorizationRequest<'a>, Error> {
    Ok(AuthorizationRequest {
        response_type: params.one("response_type")?,
        client_id: params.one("client_id")?,
        redirect_uri: params.one("redirect_uri")?,
        scope: params.one("scope")?,
        state: params.one("state")?,
        code_challenge: params.one("code_challenge")?,
        code_challenge_method: params.one("code_challenge_method")?,
        resource: params.all("resource").collect(),
    })
}

fn refusal_error(refusal: Refusal) -> Error {
    match refusal {
        Refusal::Domain(e) => e,
        Refusal::TooLarge => Error::InvalidField("request (larger than 16 KiB)"),
        Refusal::Unreadable => Error::InvalidField("request body"),
        Refusal::MediaType(_) => Error::InvalidField("Content-Type"),
    }
}

/// `303 See Other` to `location`: the browser follows it with a GET.
fn see_other(location: &str) -> Response {
    let Ok(location) = HeaderValue::from_str(location) else {
        return page(&Error::InvalidField("redirect_uri"));
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(LOCATION, location);
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The error page shown instead of a redirect (the text is the error table's fixed text).
fn page(e: &Error) -> Response {
    let status = super::response::status(e.kind());
    let status = if status.is_server_error() {
        status
    } else {
        StatusCode::BAD_REQUEST
    };
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Authorization error</title></head>\n<body><h1>This sign-in request cannot \
         continue</h1>\n<p><code>{}</code>: {}</p>\n<p>Go back to the application and try \
         again; if it keeps happening, tell its developers.</p></body></html>\n",
        escape(e.kind().as_str()),
        escape(&e.detail()),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
        .extensions_mut()
        .insert(crate::meter::Outcome(e.kind().as_str()));
    response
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
