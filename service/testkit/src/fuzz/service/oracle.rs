//! `service_request`'s oracle: what a refusal may say, what a success must answer, and what
//! either may change in the store, judged on two [`StoreSnapshot`]s (decoded entries, the same
//! for every backend).

use std::collections::{BTreeMap, BTreeSet};

use tessera_core::{ClientId, KeyId};
use tessera_proto::v1::IntrospectResponse;
use tessera_service::store::{Inspect, StoreSnapshot};
use tonic::{Code, Status};

use super::Answer;
use super::fixture::{A, B, Fixture, Grant, Service};
use super::input::{Credentials, Input, Token};

/// The OAuth error codes (RFC 6749 §5.2) a refused request's message starts with.
const OAUTH_ERRORS: [&str; 6] = [
    "invalid_request: ",
    "invalid_client: ",
    "invalid_grant: ",
    "unauthorized_client: ",
    "unsupported_grant_type: ",
    "invalid_scope: ",
];

/// A part of the store's state: one field of a [`StoreSnapshot`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Part {
    Clients,
    SpentCodes,
    RevokedGrants,
    RevokedTokens,
    Families,
    FamilyDeadlines,
}

/// What a call may change in the store (beyond a re-hash, see [`check_rehash`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Allowed {
    Nothing,
    /// `Register`: one client added.
    NewClient,
    /// `Exchange`: a code spent, a refresh family opened or advanced.
    Redemption,
    /// `Revoke`: revocations added or extended, refresh families closed.
    Revocation,
    /// A replayed code, a reused refresh token: the same, for grants only.
    GrantRevocation,
}

impl Allowed {
    pub(super) const fn parts(self) -> &'static [Part] {
        match self {
            Self::Nothing => &[],
            Self::NewClient => &[Part::Clients],
            Self::Redemption => &[Part::SpentCodes, Part::Families, Part::FamilyDeadlines],
            Self::Revocation => &[Part::RevokedGrants, Part::RevokedTokens, Part::Families],
            Self::GrantRevocation => &[Part::RevokedGrants, Part::Families],
        }
    }

    /// Checks how the allowed parts changed.
    pub(super) fn check(self, input: &Input<'_>, before: &StoreSnapshot, after: &StoreSnapshot) {
        match self {
            Self::Nothing | Self::Redemption => {}
            Self::NewClient => {
                let (was, now) = (&before.clients, &after.clients);
                assert_eq!(now.len(), was.len() + 1, "{input:?}: not one client added");
                assert!(
                    was.iter().all(|(id, record)| now.get(id) == Some(record)),
                    "a client changed"
                );
            }
            Self::Revocation | Self::GrantRevocation => only_revoked(before, after),
        }
    }
}

/// The parts whose contents differ.
pub(super) fn changed(before: &StoreSnapshot, after: &StoreSnapshot) -> BTreeSet<Part> {
    [
        (Part::Clients, before.clients != after.clients),
        (Part::SpentCodes, before.spent_codes != after.spent_codes),
        (
            Part::RevokedGrants,
            before.revoked_grants != after.revoked_grants,
        ),
        (
            Part::RevokedTokens,
            before.revoked_tokens != after.revoked_tokens,
        ),
        (Part::Families, before.families != after.families),
        (
            Part::FamilyDeadlines,
            before.family_deadlines != after.family_deadlines,
        ),
    ]
    .into_iter()
    .filter_map(|(part, changed)| changed.then_some(part))
    .collect()
}

/// Every revocation of `before` is in `after`, until the same time or later.
fn kept_revocations<K: Ord + core::fmt::Debug>(
    part: Part,
    before: &BTreeMap<K, u64>,
    after: &BTreeMap<K, u64>,
) {
    for (key, was) in before {
        let now = after.get(key);
        let now = now.unwrap_or_else(|| panic!("a revocation in {part:?} was removed"));
        assert!(now >= was, "a revocation in {part:?} was shortened");
    }
}

/// A revocation only adds or extends revocations and removes refresh families.
fn only_revoked(before: &StoreSnapshot, after: &StoreSnapshot) {
    kept_revocations(
        Part::RevokedGrants,
        &before.revoked_grants,
        &after.revoked_grants,
    );
    kept_revocations(
        Part::RevokedTokens,
        &before.revoked_tokens,
        &after.revoked_tokens,
    );
    assert!(
        (after.families.iter()).all(|(grant, family)| before.families.get(grant) == Some(family)),
        "a revocation added or advanced a refresh family"
    );
}

/// After a key rotation, the client that presented its credentials may have been re-hashed:
/// nothing else of it changed, and no other client did.
pub(super) async fn check_rehash<S: Inspect>(
    fixture: &Fixture,
    service: &Service<S>,
    input: &Input<'_>,
    before: &StoreSnapshot,
    after: &StoreSnapshot,
) {
    let presented = match input.credentials {
        Credentials::ClientA => &fixture.clients[A],
        Credentials::ClientB => &fixture.clients[B],
        other => panic!("{input:?}: {other:?}: a client changed without its credentials"),
    };
    let id = presented.record.id;
    let (was, now) = (&before.clients, &after.clients);
    assert_eq!(was.len(), now.len(), "a client was added or removed");
    for ((key, old), (new_key, new)) in was.iter().zip(now) {
        assert_eq!(key, new_key, "a client was replaced");
        assert!(old == new || *key == id, "another client changed");
    }
    let record = service.store.client(presented.record.id).await.unwrap();
    let record = record.unwrap();
    let verifier = record.verifier.as_ref().expect("a confidential client");
    assert_eq!(
        verifier.key_id(),
        KeyId::new(2),
        "re-hashed under another key"
    );
    let expected = &presented.record;
    assert_eq!(
        (
            &record.name,
            &record.redirect_uris,
            record.scope.as_str(),
            record.issued_at
        ),
        (
            &expected.name,
            &expected.redirect_uris,
            expected.scope.as_str(),
            expected.issued_at
        ),
        "a re-hash changed more than the verifier"
    );
}

/// A refusal is a client error with a fixed OAuth message; returns what it may change.
pub(super) fn check_refusal(
    fixture: &Fixture,
    input: &Input<'_>,
    token: Option<&str>,
    status: &Status,
) -> Allowed {
    assert!(
        matches!(
            status.code(),
            Code::InvalidArgument
                | Code::Unauthenticated
                | Code::PermissionDenied
                // Throttled client authentication.
                | Code::ResourceExhausted
        ),
        "{input:?}: a server-side error: {status:?}"
    );
    let message = status.message();
    assert!(
        OAUTH_ERRORS.iter().any(|e| message.starts_with(e)),
        "{input:?}: not an OAuth error: {message:?}"
    );
    for secret in fixture.secrets().chain(token) {
        assert!(
            !message.contains(secret),
            "{input:?}: a secret in {message:?}"
        );
    }
    if fixture.revoking.iter().any(|m| m == message) {
        Allowed::GrantRevocation
    } else {
        Allowed::Nothing
    }
}

/// A success was deserved and answers what was granted; returns what it may change.
pub(super) fn check_answer(
    fixture: &Fixture,
    input: &Input<'_>,
    grant: &Grant,
    answer: &Answer,
) -> Allowed {
    let owner = &fixture.clients[grant.owner];
    match answer {
        Answer::Registered | Answer::CodeIssued => {
            assert_eq!(
                input.credentials,
                Credentials::Operator,
                "{input:?}: an operator call without the operator token"
            );
            if matches!(answer, Answer::Registered) {
                Allowed::NewClient
            } else {
                Allowed::Nothing
            }
        }
        Answer::Exchanged {
            response,
            grant_type,
            ..
        } if grant_type == "client_credentials" => {
            // Needs no token: any confidential client's own credentials; stores nothing.
            assert!(
                matches!(
                    input.credentials,
                    Credentials::ClientA | Credentials::ClientB
                ),
                "{input:?}: client_credentials without a confidential client's credentials"
            );
            assert_eq!(response.token_type, "Bearer");
            assert!(!response.access_token.is_empty() && response.refresh_token.is_empty());
            Allowed::Nothing
        }
        Answer::Exchanged {
            response,
            grant_type,
            scope,
        } => {
            assert!(
                matches!(input.token, Token::FreshCode | Token::Refresh),
                "{input:?}: a token that was never issued, or is spent, superseded or revoked, \
                 was exchanged"
            );
            assert_eq!(
                input.credentials,
                Fixture::owner_credentials(grant.owner),
                "{input:?}: redeemed by another client"
            );
            let expected_scope = if grant_type == "refresh_token" && !scope.is_empty() {
                scope
            } else {
                &grant.request.scope
            };
            assert_eq!(&response.scope, expected_scope, "{input:?}");
            assert_eq!(response.token_type, "Bearer");
            assert_eq!(
                response.expires_in,
                i64::from(fixture.config.access_lifetime)
            );
            assert!(!response.access_token.is_empty() && !response.refresh_token.is_empty());
            Allowed::Redemption
        }
        Answer::Introspected(response) if response.active => {
            let token_type = match input.token {
                Token::Access => "Bearer",
                Token::Refresh => "refresh_token",
                _ => panic!(
                    "{input:?}: a token that was never issued, or is superseded or revoked, \
                     is active"
                ),
            };
            let audience: Vec<String> = (grant.request.audience.iter())
                .map(|id| ClientId::parse(id).unwrap().to_string())
                .collect();
            let caller = match input.credentials {
                Credentials::ClientA => &fixture.clients[A].id,
                Credentials::ClientB => &fixture.clients[B].id,
                other => panic!("{input:?}: introspected with {other:?}"),
            };
            assert!(
                *caller == owner.id || audience.contains(caller),
                "{input:?}: introspected by a client outside the grant"
            );
            let expected = IntrospectResponse {
                active: true,
                scope: grant.request.scope.clone(),
                client_id: owner.id.clone(),
                sub: grant.request.subject.clone(),
                token_type: token_type.to_owned(),
                exp: response.exp,
                iat: response.iat,
                iss: fixture.config.issuer.clone(),
                jti: response.jti.clone(),
                aud: audience,
            };
            assert_eq!(*response, expected, "{input:?}");
            assert!(response.iat < response.exp && !response.jti.is_empty());
            Allowed::Nothing
        }
        Answer::Introspected(_) => Allowed::Nothing,
        Answer::Revoked => Allowed::Revocation,
    }
}
