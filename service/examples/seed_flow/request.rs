//! What the demo apps read from a browser's request: query and form parameters
//! (`application/x-www-form-urlencoded`), cookies (RFC 6265 §5.4), and the random values they
//! hand out (session ids, `state`, CSRF tokens).

use std::collections::HashMap;

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use subtle::ConstantTimeEq as _;
use tessera_core::encoding::base64url_encode;

/// Form or query parameters; a repeated name keeps its first value, and a browser form never
/// repeats one.
pub(crate) fn params(encoded: &[u8]) -> HashMap<String, String> {
    let mut params = HashMap::new();
    for (name, value) in form_urlencoded::parse(encoded) {
        params
            .entry(name.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    params
}

/// The value of the cookie `name`, if the request carries it.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// A `Set-Cookie` value for a session cookie no script can read, sent only to this host (any of
/// its ports: cookies do not isolate ports, so each app names its cookie differently).
pub(crate) fn session_cookie(name: &str, value: &str) -> String {
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax")
}

/// 256 random bits from the operating system, base64url: an unguessable id or token.
pub(crate) fn random_token() -> Option<String> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).ok()?;
    let mut text = [0u8; 43];
    base64url_encode(&raw, &mut text).map(str::to_owned)
}

/// Whether two secrets are equal, in constant time.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_finds_its_own_name_only() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "a=1; printer_session=xyz; b=2".parse().unwrap());
        assert_eq!(cookie(&headers, "printer_session"), Some("xyz"));
        assert_eq!(cookie(&headers, "session"), None);
    }

    #[test]
    fn params_keep_the_first_value() {
        let p = params(b"state=a%20b&state=evil&code=c");
        assert_eq!(p["state"], "a b");
        assert_eq!(p["code"], "c");
    }
}
