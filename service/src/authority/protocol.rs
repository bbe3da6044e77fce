//! The protocol's vocabulary with its RFC strings, in one place: grant types (RFC 6749 §4.1.3,
//! §4.4, §6), token type hints (RFC 7009 §2.1, RFC 7662 §2.1) and token types (RFC 6749 §7.1).

use super::Error;

/// A `grant_type` the token endpoint serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GrantType {
    /// `authorization_code` (RFC 6749 §4.1.3).
    AuthorizationCode,
    /// `refresh_token` (RFC 6749 §6).
    RefreshToken,
    /// `client_credentials` (RFC 6749 §4.4): a confidential client on its own behalf.
    ClientCredentials,
}

impl GrantType {
    /// Every grant type served, in the order documents list them.
    pub const ALL: [Self; 3] = [
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::ClientCredentials,
    ];

    /// Its name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }

    /// Reads a `grant_type` field.
    ///
    /// # Errors
    /// `invalid_request` if it is empty, `unsupported_grant_type` if it is not served.
    pub fn parse(value: &str) -> Result<Self, Error> {
        if value.is_empty() {
            return Err(Error::MissingField("grant_type"));
        }
        Self::ALL
            .into_iter()
            .find(|grant| grant.as_str() == value)
            .ok_or(Error::UnsupportedGrantType)
    }
}

/// A `token_type_hint` (RFC 7009 §2.1, RFC 7662 §2.1): which kind of token to try first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenTypeHint {
    /// `access_token`.
    AccessToken,
    /// `refresh_token`.
    RefreshToken,
}

impl TokenTypeHint {
    /// Its name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
        }
    }

    /// Reads a `token_type_hint` field; an empty or unknown hint is no hint (the server may
    /// ignore it, RFC 7009 §2.1).
    pub fn parse(value: &str) -> Option<Self> {
        [Self::AccessToken, Self::RefreshToken]
            .into_iter()
            .find(|hint| hint.as_str() == value)
    }
}

/// The `token_type` of an issued or introspected token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// An access token: `Bearer` (RFC 6750 §6.1.1).
    Bearer,
    /// A refresh token, as introspection names it: `refresh_token`.
    RefreshToken,
}

impl TokenType {
    /// Its name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "Bearer",
            Self::RefreshToken => "refresh_token",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_strangers_are_refused() {
        for grant in GrantType::ALL {
            assert_eq!(GrantType::parse(grant.as_str()).unwrap(), grant);
        }
        assert!(matches!(
            GrantType::parse(""),
            Err(Error::MissingField("grant_type"))
        ));
        assert!(matches!(
            GrantType::parse("password"),
            Err(Error::UnsupportedGrantType)
        ));
        assert_eq!(
            TokenTypeHint::parse("refresh_token"),
            Some(TokenTypeHint::RefreshToken)
        );
        assert_eq!(TokenTypeHint::parse("id_token"), None);
        assert_eq!(TokenType::Bearer.as_str(), "Bearer");
    }

    #[test]
    fn the_unsupported_grant_answer_names_every_grant_served() {
        for grant in GrantType::ALL {
            let description = Error::UnsupportedGrantType.description();
            assert!(description.contains(grant.as_str()), "{description}");
        }
    }
}
