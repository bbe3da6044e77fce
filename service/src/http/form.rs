//! Reading a request's parameters: a form body (`application/x-www-form-urlencoded`, RFC 6749
//! Appendix B) or a query string, each parameter at most once (§3.1), unknown ones ignored.

use std::borrow::Cow;

use axum::body::{Body, Bytes};
use http::HeaderMap;
use http::header::CONTENT_TYPE;

use super::MAX_BODY_BYTES;
use super::response::Refusal;
use crate::authority::Error;

/// The parameters of one request, decoded.
#[derive(Debug, Default)]
pub(super) struct Params<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'a> Params<'a> {
    /// Decodes `input` (a form body or a query string).
    pub(super) fn parse(input: &'a [u8]) -> Self {
        Self(form_urlencoded::parse(input).collect())
    }

    /// The value of `name`; empty if absent or empty (RFC 6749 §3.1 treats both alike).
    ///
    /// # Errors
    /// [`Error::RepeatedField`] if it appears twice.
    pub(super) fn one(&self, name: &'static str) -> Result<&str, Error> {
        let mut values = self.all(name);
        let first = values.next().unwrap_or_default();
        if values.next().is_some() {
            return Err(Error::RepeatedField(name));
        }
        Ok(first)
    }

    /// Every value of `name` (a parameter that may repeat: RFC 8707 `resource`).
    pub(super) fn all(&self, name: &'static str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_ref())
    }
}

/// A POSTed form, read whole: the request's head and its body.
#[derive(Debug)]
pub(super) struct FormPost {
    pub(super) parts: http::request::Parts,
    body: Bytes,
}

impl FormPost {
    /// Reads `request`'s form body.
    ///
    /// # Errors
    /// `400` for another media type, `413` for a body over [`MAX_BODY_BYTES`].
    pub(super) async fn read(request: axum::extract::Request) -> Result<Self, Refusal> {
        let (parts, body) = request.into_parts();
        expect_media(&parts.headers, "application/x-www-form-urlencoded")?;
        Ok(Self {
            body: self::body(body).await?,
            parts,
        })
    }

    /// Its parameters.
    pub(super) fn params(&self) -> Params<'_> {
        Params::parse(&self.body)
    }

    /// The caller's address, from the listener.
    pub(super) fn peer(&self) -> Option<core::net::IpAddr> {
        super::peer_of(&self.parts)
    }
}

/// Reads a body of at most [`MAX_BODY_BYTES`].
///
/// # Errors
/// `413` past the cap; `400` if the body could not be read.
pub(super) async fn body(body: Body) -> Result<Bytes, Refusal> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|e| {
            let too_large =
                core::iter::successors(Some(&e as &(dyn core::error::Error + 'static)), |e| {
                    e.source()
                })
                .any(|e| e.is::<http_body_util::LengthLimitError>());
            if too_large {
                Refusal::TooLarge
            } else {
                Refusal::Unreadable
            }
        })
}

/// Checks that `headers` announce `media` (`application/x-www-form-urlencoded` or
/// `application/json`), parameters such as `charset` aside.
///
/// # Errors
/// `400 invalid_request` otherwise.
pub(super) fn expect_media(headers: &HeaderMap, media: &'static str) -> Result<(), Refusal> {
    let given = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    if given.is_some_and(|given| given.eq_ignore_ascii_case(media)) {
        Ok(())
    } else {
        Err(Refusal::MediaType(media))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_decode_once_and_repeats_are_refused() {
        let params = Params::parse(b"a=1&b=x+y%21&c=&resource=r1&resource=r2&a=2");
        assert_eq!(params.one("b").unwrap(), "x y!");
        assert_eq!(params.one("c").unwrap(), "");
        assert_eq!(params.one("absent").unwrap(), "");
        assert!(matches!(params.one("a"), Err(Error::RepeatedField("a"))));
        assert_eq!(params.all("resource").collect::<Vec<_>>(), ["r1", "r2"]);
    }

    #[test]
    fn the_media_type_is_matched_without_its_parameters() {
        let mut headers = HeaderMap::new();
        assert!(expect_media(&headers, "application/json").is_err());
        headers.insert(
            CONTENT_TYPE,
            "Application/X-WWW-Form-Urlencoded; charset=UTF-8"
                .parse()
                .unwrap(),
        );
        assert!(expect_media(&headers, "application/x-www-form-urlencoded").is_ok());
        assert!(expect_media(&headers, "application/json").is_err());
    }
}
