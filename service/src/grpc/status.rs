//! The gRPC edge's error mapping: [`ErrorKind`] → [`Code`] in one exhaustive `match`, with
//! the domain's message (`<oauth error>: <description>`) as the status message.

use tonic::{Code, Status};

use crate::authority::{Error, ErrorKind};

/// The gRPC code for a kind of failure.
pub const fn code_of(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::InvalidRequest
        | ErrorKind::InvalidScope
        | ErrorKind::UnsupportedGrantType
        | ErrorKind::UnsupportedResponseType => Code::InvalidArgument,
        ErrorKind::InvalidClient => Code::Unauthenticated,
        ErrorKind::NotFound => Code::NotFound,
        // Not UNAUTHENTICATED: the credentials may be right, the client must wait.
        ErrorKind::Throttled => Code::ResourceExhausted,
        ErrorKind::InvalidGrant | ErrorKind::UnauthorizedClient => Code::PermissionDenied,
        ErrorKind::ServerError => Code::Internal,
        ErrorKind::Unavailable => Code::Unavailable,
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match &e {
            Error::Storage(source) => tracing::error!(error = %source, "storage failure"),
            Error::Core(core) => tracing::debug!(error = ?core, "request refused"),
            _ => tracing::debug!(error = %e, "request refused"),
        }
        Self::new(code_of(e.kind()), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    #[test]
    fn messages_start_with_the_oauth_code_and_codes_follow_the_contract() {
        let cases = [
            (
                Error::CodeReplayed,
                Code::PermissionDenied,
                "invalid_grant: ",
            ),
            (
                Error::BadCredentials,
                Code::Unauthenticated,
                "invalid_client: ",
            ),
            (
                Error::Throttled,
                Code::ResourceExhausted,
                "invalid_client: too many failed authentications",
            ),
            (Error::NoSuchClient, Code::NotFound, "not_found: "),
            (
                Error::GrantNoLongerAllowed,
                Code::PermissionDenied,
                "invalid_grant: the client's registration no longer allows",
            ),
            (
                Error::UnsupportedGrantType,
                Code::InvalidArgument,
                "unsupported_grant_type: ",
            ),
            (
                Error::Core(tessera_core::Error::ScopeNotAllowed),
                Code::InvalidArgument,
                "invalid_scope: ",
            ),
            (
                Error::Core(tessera_core::Error::BadSignature),
                Code::PermissionDenied,
                "invalid_grant: code or token is invalid",
            ),
            (
                Error::Core(tessera_core::Error::NoActiveKey),
                Code::Internal,
                "server_error: request refused",
            ),
            (
                Error::Storage(StoreError::new("disk on fire")),
                Code::Unavailable,
                "server_error: storage unavailable",
            ),
        ];
        for (error, code, prefix) in cases {
            let status = Status::from(error);
            assert_eq!(status.code(), code);
            assert!(status.message().starts_with(prefix), "{}", status.message());
            assert!(!status.message().contains("fire"));
        }
    }
}
