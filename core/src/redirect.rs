//! Redirect URI registration rules (RFC 6749 §3.1.2, RFC 9700 §4.1.3, RFC 8252 §7.3).

use crate::{Error, MAX_REDIRECT_URI_LEN};

/// Hosts for which plain `http` is allowed: the loopback interface (RFC 8252 §7.3).
const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "[::1]", "localhost"];

/// Checks a redirect URI a client registers.
///
/// Accepted: an absolute `https://` URI with a host, or `http://` for a loopback host
/// (`127.0.0.1`, `[::1]`, `localhost`), at most [`MAX_REDIRECT_URI_LEN`] bytes of printable
/// ASCII, with no fragment (RFC 6749 §3.1.2) and no user information. Scheme and host are
/// expected in lowercase: URIs are later matched byte for byte.
///
/// ```
/// use tessera_core::validate_redirect_uri;
/// assert!(validate_redirect_uri("https://app.example/callback?x=1").is_ok());
/// assert!(validate_redirect_uri("http://127.0.0.1:8080/cb").is_ok());
/// assert!(validate_redirect_uri("http://app.example/cb").is_err()); // http off loopback
/// assert!(validate_redirect_uri("https://app.example/cb#frag").is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidRedirectUri`] for anything else.
pub fn validate_redirect_uri(uri: &str) -> Result<(), Error> {
    if uri.is_empty()
        || uri.len() > MAX_REDIRECT_URI_LEN
        || !uri.bytes().all(|b| b.is_ascii_graphic())
        || uri.contains('#')
    {
        return Err(Error::InvalidRedirectUri);
    }
    let (https, rest) = match (uri.strip_prefix("https://"), uri.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => return Err(Error::InvalidRedirectUri),
    };
    let authority = rest
        .split(['/', '?'])
        .next()
        .ok_or(Error::InvalidRedirectUri)?;
    if authority.contains('@') {
        return Err(Error::InvalidRedirectUri);
    }
    let (host, port) = split_host_port(authority)?;
    if host.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.len() > 5 {
        return Err(Error::InvalidRedirectUri);
    }
    if https || LOOPBACK_HOSTS.contains(&host) {
        Ok(())
    } else {
        Err(Error::InvalidRedirectUri)
    }
}

/// Splits `host[:port]`, where host may be a bracketed IPv6 literal; the port may be empty.
fn split_host_port(authority: &str) -> Result<(&str, &str), Error> {
    if authority.starts_with('[') {
        let end = authority.find(']').ok_or(Error::InvalidRedirectUri)?;
        let (host, after) = authority
            .split_at_checked(end.checked_add(1).ok_or(Error::InvalidRedirectUri)?)
            .ok_or(Error::InvalidRedirectUri)?;
        match after.strip_prefix(':') {
            Some(port) => Ok((host, port)),
            None if after.is_empty() => Ok((host, "")),
            None => Err(Error::InvalidRedirectUri),
        }
    } else {
        Ok(authority.split_once(':').unwrap_or((authority, "")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_and_loopback_http() {
        for good in [
            "https://app.example/callback",
            "https://app.example",
            "https://app.example:8443/cb?state=1",
            "https://[2001:db8::1]/cb",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:51004/cb",
            "http://[::1]:8080/cb",
            "http://localhost:3000/auth/callback",
        ] {
            assert_eq!(validate_redirect_uri(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        let long = [b'a'; MAX_REDIRECT_URI_LEN];
        let mut too_long = [0u8; MAX_REDIRECT_URI_LEN + 1];
        too_long
            .iter_mut()
            .zip(b"https://app.example/".iter().chain(long.iter()))
            .for_each(|(o, i)| *o = *i);
        let too_long = core::str::from_utf8(&too_long).unwrap();
        for bad in [
            "",
            "app.example/cb",
            "/cb",
            "ftp://app.example/cb",
            "HTTPS://app.example/cb",
            "http://app.example/cb",
            "http://127.0.0.2/cb",
            "http://localhost.evil.example/cb",
            "https://app.example/cb#fragment",
            "https://app.example/c b",
            "https://app.example/cb\n",
            "https://app.example/\u{e9}",
            "https://user@app.example/cb",
            "https:///cb",
            "https://:443/cb",
            "https://app.example:x/cb",
            "https://app.example:123456/cb",
            "http://[::1/cb",
            "http://[::1]x/cb",
            "javascript:alert(1)",
        ] {
            assert_eq!(
                validate_redirect_uri(bad),
                Err(Error::InvalidRedirectUri),
                "{bad:?}"
            );
        }
        assert_eq!(
            validate_redirect_uri(too_long),
            Err(Error::InvalidRedirectUri)
        );
    }

    #[test]
    fn accepts_the_longest_allowed() {
        let mut max = [b'a'; MAX_REDIRECT_URI_LEN];
        max.iter_mut()
            .zip(b"https://app.example/".iter())
            .for_each(|(o, i)| *o = *i);
        assert_eq!(
            validate_redirect_uri(core::str::from_utf8(&max).unwrap()),
            Ok(())
        );
    }
}
