//! `service_request`'s input: the header bytes, read into what the fixture mints and the
//! oracle expects, and the request message, decoded as the RPC's (the table in the module docs
//! of [`super`]).

use prost::Message as _;
use tessera_proto::v1::{
    ExchangeRequest, IntrospectRequest, IssueCodeRequest, RegisterRequest, RevokeRequest,
};

use super::fixture::{A, P};

/// The RPC an input calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Rpc {
    Register,
    IssueCode,
    Exchange,
    Introspect,
    Revoke,
}

/// The `authorization` metadata an input sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Credentials {
    /// None.
    None,
    /// `Bearer <operator token>`.
    Operator,
    /// Client A's Basic credentials (confidential).
    ClientA,
    /// Client B's Basic credentials (confidential; the audience of the fixture's grants).
    ClientB,
    /// Client A's id with client B's secret.
    WrongSecret,
    /// The public client's id with client A's secret.
    PublicWithSecret,
    /// `Bearer <client A's secret>`: a secret where the operator token belongs.
    SecretAsOperator,
    /// The value read from the input.
    Raw,
}

/// The token an input's token fields are replaced with, minted for it through the handlers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Token {
    /// None: the message's own fields, as decoded.
    Own,
    /// An unspent authorization code.
    FreshCode,
    /// A code already exchanged.
    SpentCode,
    /// A live access token.
    Access,
    /// The newest refresh token of a live grant.
    Refresh,
    /// A refresh token already rotated (its grant's newest is the next one).
    SupersededRefresh,
    /// A refresh token whose grant was revoked.
    RevokedRefresh,
    /// An access token revoked on its own.
    RevokedAccess,
}

/// A request message, decoded as the input's RPC asks.
#[derive(Debug)]
pub(super) enum Message {
    Register(RegisterRequest),
    IssueCode(IssueCodeRequest),
    Exchange(ExchangeRequest),
    Introspect(IntrospectRequest),
    Revoke(RevokeRequest),
}

impl Message {
    /// `None` if the bytes are not `rpc`'s request: the transport refuses them before any
    /// handler runs.
    pub(super) fn decode(rpc: Rpc, bytes: &[u8]) -> Option<Self> {
        Some(match rpc {
            Rpc::Register => Self::Register(RegisterRequest::decode(bytes).ok()?),
            Rpc::IssueCode => Self::IssueCode(IssueCodeRequest::decode(bytes).ok()?),
            Rpc::Exchange => Self::Exchange(ExchangeRequest::decode(bytes).ok()?),
            Rpc::Introspect => Self::Introspect(IntrospectRequest::decode(bytes).ok()?),
            Rpc::Revoke => Self::Revoke(RevokeRequest::decode(bytes).ok()?),
        })
    }
}

/// One input, read.
#[derive(Debug)]
pub(super) struct Input<'a> {
    pub(super) rpc: Rpc,
    pub(super) credentials: Credentials,
    pub(super) rotated: bool,
    pub(super) token: Token,
    pub(super) owner: usize,
    pub(super) raw: &'a [u8],
    pub(super) code_request: Option<&'a [u8]>,
    pub(super) message: &'a [u8],
}

/// Splits a `len`-byte field off the front of `rest` (less if `rest` is shorter).
fn field<'a>(rest: &mut &'a [u8], len: usize) -> &'a [u8] {
    let (head, tail) = rest.split_at(len.min(rest.len()));
    *rest = tail;
    head
}

impl<'a> Input<'a> {
    pub(super) fn read(data: &'a [u8]) -> Self {
        let mut rest = data;
        let header = field(&mut rest, 3);
        let byte = |i: usize| header.get(i).copied().unwrap_or(0);
        let (rpc, credentials, token) = (byte(0), byte(1), byte(2));
        let credentials_kind = match credentials & 7 {
            0 => Credentials::None,
            1 => Credentials::Operator,
            2 => Credentials::ClientA,
            3 => Credentials::ClientB,
            4 => Credentials::WrongSecret,
            5 => Credentials::PublicWithSecret,
            6 => Credentials::SecretAsOperator,
            _ => Credentials::Raw,
        };
        let raw = if credentials_kind == Credentials::Raw {
            let len = field(&mut rest, 1).first().copied().unwrap_or(0);
            field(&mut rest, usize::from(len))
        } else {
            &[]
        };
        let code_request = (token & 0x10 != 0).then(|| {
            let mut len = [0u8; 2];
            let given = field(&mut rest, 2);
            len[..given.len()].copy_from_slice(given);
            field(&mut rest, usize::from(u16::from_be_bytes(len)))
        });
        Self {
            rpc: match rpc % 5 {
                0 => Rpc::Register,
                1 => Rpc::IssueCode,
                2 => Rpc::Exchange,
                3 => Rpc::Introspect,
                _ => Rpc::Revoke,
            },
            credentials: credentials_kind,
            rotated: credentials & 8 != 0,
            token: match token & 7 {
                0 => Token::Own,
                1 => Token::FreshCode,
                2 => Token::SpentCode,
                3 => Token::Access,
                4 => Token::Refresh,
                5 => Token::SupersededRefresh,
                6 => Token::RevokedRefresh,
                _ => Token::RevokedAccess,
            },
            owner: if token & 8 != 0 { P } else { A },
            raw,
            code_request,
            message: rest,
        }
    }
}
