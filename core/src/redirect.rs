//! Redirect URI rules: registration (RFC 6749 §3.1.2, RFC 3986 §3, RFC 9700 §4.1.3) and
//! matching (RFC 6749 §3.1.2.3, RFC 8252 §7.1 and §7.3).

use core::net::{Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

use crate::{Error, MAX_REDIRECT_URI_LEN};

/// The loopback IP literals for which plain `http` is allowed, with any port at request time
/// (RFC 8252 §7.3). `localhost` is not among them (RFC 8252 §8.3: it may resolve elsewhere).
const LOOPBACK_HOSTS: [&str; 2] = ["127.0.0.1", "[::1]"];
/// Longest DNS name (RFC 1035 §2.3.4) and label.
const MAX_HOST_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// Checks a redirect URI a client registers.
///
/// Accepted, at most [`MAX_REDIRECT_URI_LEN`] bytes of printable ASCII with no fragment
/// (RFC 6749 §3.1.2) and in lowercase where case does not matter (URIs are matched byte for byte):
/// - `https://HOST[:PORT][/PATH][?QUERY]`, where HOST is a DNS name (letters, digits and
///   hyphens in dot-separated labels), an IPv4 address or a bracketed IPv6 address, PORT is
///   1 to 65535, and no user information (RFC 3986 §3.2);
/// - `http://127.0.0.1` or `http://[::1]` with an optional port (RFC 8252 §7.3): a native
///   app's loopback redirect, which matches any port at request time;
/// - a private-use scheme in reverse-domain form, `com.example.app:/PATH` (RFC 8252 §7.1).
///
/// Refused among others: `http` off loopback, `localhost` (RFC 8252 §8.3), a backslash or any
/// character RFC 3986 does not allow, a port over 65535, and schemes such as `javascript:`.
///
/// ```
/// use tessera_core::validate_redirect_uri;
/// assert!(validate_redirect_uri("https://app.example/callback?x=1").is_ok());
/// assert!(validate_redirect_uri("http://127.0.0.1:8080/cb").is_ok());
/// assert!(validate_redirect_uri("com.example.app:/oauth2redirect").is_ok());
/// assert!(validate_redirect_uri("http://app.example/cb").is_err()); // http off loopback
/// assert!(validate_redirect_uri("https://evil.example\\.app.example/cb").is_err());
/// assert!(validate_redirect_uri("https://app.example/cb#frag").is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidRedirectUri`] for anything else.
pub fn validate_redirect_uri(uri: &str) -> Result<(), Error> {
    RedirectUri::parse(uri).map(|_| ())
}

/// True if the `requested` redirect URI of an authorization request matches the `registered`
/// one: byte for byte (RFC 6749 §3.1.2.3), except that a loopback `http` redirect matches with
/// any port (RFC 8252 §7.3), since a native app listens on whatever port the OS gives it.
///
/// ```
/// use tessera_core::redirect_uri_matches;
/// assert!(redirect_uri_matches("http://127.0.0.1/cb", "http://127.0.0.1:51004/cb"));
/// assert!(!redirect_uri_matches("https://app.example/cb", "https://app.example:8443/cb"));
/// ```
pub fn redirect_uri_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    match (
        RedirectUri::parse(registered),
        RedirectUri::parse(requested),
    ) {
        (Ok(a), Ok(b)) => a.loopback && b.loopback && a.host == b.host && a.rest == b.rest,
        _ => false,
    }
}

/// A redirect URI split where matching needs it.
struct RedirectUri<'a> {
    /// `http` to a loopback IP literal.
    loopback: bool,
    /// The host, or the scheme of a private-use URI.
    host: &'a str,
    /// Everything after the authority (or after the private-use scheme's colon).
    rest: &'a str,
}

impl<'a> RedirectUri<'a> {
    fn parse(uri: &'a str) -> Result<Self, Error> {
        if uri.is_empty()
            || uri.len() > MAX_REDIRECT_URI_LEN
            || !uri.bytes().all(|b| b.is_ascii_graphic())
            || uri.contains('#')
        {
            return Err(Error::InvalidRedirectUri);
        }
        let (https, after_scheme) =
            match (uri.strip_prefix("https://"), uri.strip_prefix("http://")) {
                (Some(rest), _) => (true, rest),
                (None, Some(rest)) => (false, rest),
                (None, None) => return private_use(uri),
            };
        let split = after_scheme.find(['/', '?']).unwrap_or(after_scheme.len());
        let (authority, rest) = after_scheme
            .split_at_checked(split)
            .ok_or(Error::InvalidRedirectUri)?;
        let (host, port) = split_host_port(authority)?;
        if let Some(port) = port {
            check_port(port)?;
        }
        check_path_and_query(rest)?;
        let loopback = LOOPBACK_HOSTS.contains(&host);
        if https {
            check_host(host)?;
        } else if !loopback {
            return Err(Error::InvalidRedirectUri);
        }
        Ok(Self {
            loopback: !https && loopback,
            host,
            rest,
        })
    }
}

/// `com.example.app:/path`: a lowercase RFC 3986 scheme with at least one dot (reverse-domain
/// form, RFC 8252 §7.1), then a path with a single leading slash.
fn private_use(uri: &str) -> Result<RedirectUri<'_>, Error> {
    let (scheme, rest) = uri.split_once(':').ok_or(Error::InvalidRedirectUri)?;
    let mut chars = scheme.bytes();
    let starts_with_letter = chars.next().is_some_and(|b| b.is_ascii_lowercase());
    let scheme_ok = starts_with_letter
        && chars.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
        && scheme.contains('.')
        && !scheme.starts_with('.')
        && !scheme.ends_with('.');
    if !scheme_ok || !rest.starts_with('/') || rest.starts_with("//") {
        return Err(Error::InvalidRedirectUri);
    }
    check_path_and_query(rest)?;
    Ok(RedirectUri {
        loopback: false,
        host: scheme,
        rest,
    })
}

/// Splits `host[:port]`, where host may be a bracketed IPv6 literal.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), Error> {
    if authority.starts_with('[') {
        let end = authority.find(']').ok_or(Error::InvalidRedirectUri)?;
        let (host, after) = authority
            .split_at_checked(end.checked_add(1).ok_or(Error::InvalidRedirectUri)?)
            .ok_or(Error::InvalidRedirectUri)?;
        match after.strip_prefix(':') {
            Some(port) => Ok((host, Some(port))),
            None if after.is_empty() => Ok((host, None)),
            None => Err(Error::InvalidRedirectUri),
        }
    } else {
        Ok(match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        })
    }
}

/// A port is 1 to 65535 in decimal (RFC 3986 §3.2.3, RFC 6335 §6).
fn check_port(port: &str) -> Result<(), Error> {
    let all_digits =
        !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    match port.parse::<u16>() {
        Ok(n) if all_digits && n != 0 => Ok(()),
        _ => Err(Error::InvalidRedirectUri),
    }
}

/// A host is a bracketed IPv6 address, a dotted IPv4 address, or a lowercase DNS name
/// (RFC 3986 §3.2.2, RFC 1123 §2.1). A name of digits and dots must be a valid IPv4 address.
fn check_host(host: &str) -> Result<(), Error> {
    if let Some(inner) = host.strip_prefix('[') {
        let literal = inner.strip_suffix(']').ok_or(Error::InvalidRedirectUri)?;
        return Ipv6Addr::from_str(literal)
            .map(|_| ())
            .map_err(|_| Error::InvalidRedirectUri);
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Ipv4Addr::from_str(host)
            .map(|_| ())
            .map_err(|_| Error::InvalidRedirectUri);
    }
    let label_ok = |label: &str| {
        (1..=MAX_LABEL_LEN).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if host.len() <= MAX_HOST_LEN && host.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(Error::InvalidRedirectUri)
    }
}

/// The path and query: RFC 3986 `pchar`s, `/` and `?`, with well-formed percent-encoding.
fn check_path_and_query(rest: &str) -> Result<(), Error> {
    let mut bytes = rest.bytes();
    while let Some(b) = bytes.next() {
        let ok = match b {
            b'%' => {
                let hex = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_hexdigit());
                hex(bytes.next()) && hex(bytes.next())
            }
            b if b.is_ascii_alphanumeric() => true,
            // unreserved, sub-delims, and ":", "@", "/", "?" (RFC 3986 §3.3, §3.4).
            _ => b"-._~!$&'()*+,;=:@/?".contains(&b),
        };
        if !ok {
            return Err(Error::InvalidRedirectUri);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_loopback_http_and_private_use_schemes() {
        for good in [
            "https://app.example/callback",
            "https://app.example",
            "https://app.example:8443/cb?state=1",
            "https://app.example:65535/cb",
            "https://[2001:db8::1]/cb",
            "https://192.0.2.1/cb",
            "https://xn--bcher-kva.example/cb",
            "https://app.example/a%2Fb/~x_y-z.(1);p=2?q=a+b&r=@:/",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:51004/cb",
            "http://[::1]:8080/cb",
            "http://[::1]",
            "com.example.app:/oauth2redirect/example-provider",
            "com.example.app:/",
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
            // RFC 8252 §8.3: localhost is NOT RECOMMENDED; the IP literal is.
            "http://localhost:3000/auth/callback",
            "http://localhost.evil.example/cb",
            "https://app.example/cb#fragment",
            "https://app.example/c b",
            "https://app.example/cb\n",
            "https://app.example/\u{e9}",
            "https://user@app.example/cb",
            "https:///cb",
            "https://:443/cb",
            "https://app.example:/cb",
            "https://app.example:x/cb",
            "https://app.example:0/cb",
            "https://app.example:99999/cb",
            "https://app.example:123456/cb",
            "http://127.0.0.1:65536/cb",
            "http://[::1/cb",
            "http://[::1]x/cb",
            // Browsers read `\` as `/`: this one goes to evil.example.
            "https://evil.example\\.app.example/cb",
            "https://app.example\\cb",
            "https://app.example/\\cb",
            "https://app<.example/cb",
            "https://app>.example/cb",
            "https://app\".example/cb",
            "https://[app.example]/cb",
            "https://[::1/cb",
            "https://[v1.x]/cb",
            "https://App.Example/cb",
            "https://app_x.example/cb",
            "https://-app.example/cb",
            "https://app-.example/cb",
            "https://app..example/cb",
            "https://app.example./cb",
            "https://999.1.1.1/cb",
            "https://1.2.3/cb",
            "https://app.example/cb?x=<script>",
            "https://app.example/%zz",
            "https://app.example/%4",
            "https://app.example/{x}",
            "https://app.example/a|b",
            "https://app.example/a^b",
            "https://app.example/a`b",
            "javascript:alert(1)",
            "javascript:/alert(1)",
            "data:/text",
            "file:/etc/passwd",
            "com.example.app://host/cb",
            "com.example.app:cb",
            "Com.example.app:/cb",
            ".example.app:/cb",
            "example.app.:/cb",
            "1com.example:/cb",
            "com.example.app:/a b",
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

    #[test]
    fn loopback_redirects_match_any_port_and_nothing_else_does() {
        for (registered, requested) in [
            ("https://app.example/cb", "https://app.example/cb"),
            ("http://127.0.0.1/cb", "http://127.0.0.1:51004/cb"),
            ("http://127.0.0.1:8080/cb", "http://127.0.0.1:9090/cb"),
            ("http://127.0.0.1:8080/cb", "http://127.0.0.1/cb"),
            ("http://[::1]/cb?x=1", "http://[::1]:1/cb?x=1"),
            ("com.example.app:/cb", "com.example.app:/cb"),
        ] {
            assert!(
                redirect_uri_matches(registered, requested),
                "{registered} {requested}"
            );
        }
        for (registered, requested) in [
            ("https://app.example/cb", "https://app.example:8443/cb"),
            ("https://app.example/cb", "https://app.example/cb/"),
            ("https://app.example/cb", "https://app.example/cb?x=1"),
            ("http://127.0.0.1/cb", "http://127.0.0.1:51004/other"),
            ("http://127.0.0.1/cb", "http://[::1]:51004/cb"),
            ("http://127.0.0.1/cb", "http://127.0.0.1:0/cb"),
            ("http://127.0.0.1/cb", "http://127.0.0.1:99999/cb"),
            ("http://127.0.0.1/cb", "https://127.0.0.1:8443/cb"),
            ("com.example.app:/cb", "com.example.app:/cb2"),
            ("https://a.example/x", ""),
        ] {
            assert!(
                !redirect_uri_matches(registered, requested),
                "{registered} {requested}"
            );
        }
    }
}
