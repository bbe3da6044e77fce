//! What the `service_request` fuzz target asserts (issue 4): a request message decoded from
//! arbitrary bytes and sent with arbitrary credentials to the `tessera.v1.TokenService` handlers,
//! in process, never panics, is answered with success or a client error (never a server error,
//! never with a secret in the message), and, if it fails, leaves the store as it was. A success
//! must be deserved (right credentials, a live token) and answer what was granted.
//!
//! One copy, in the test kit: `fuzz/fuzz_targets/service_request.rs` runs it under libFuzzer and
//! `service/tests/fuzz_corpus.rs` replays `fuzz/corpus/service_request/` through it on stable.
//! Three parts: [`input`] reads the bytes, [`fixture`] builds the state and mints tokens, and
//! [`oracle`] judges the answer and the store's change, on [`StoreSnapshot`]s (decoded entries,
//! not a backend's bytes), so the same check can run on any [`Inspect`] store
//! ([`service_request_on`]).
//!
//! # Input
//!
//! | bytes | meaning |
//! |---|---|
//! | 0 | the RPC, modulo 5: `Register`, `IssueCode`, `Exchange`, `Introspect`, `Revoke` |
//! | 1 | bits 0–2: the `authorization` metadata (`Credentials`); bit 3: the master key was rotated since the clients registered |
//! | 2 | bits 0–2: a token minted for this input and put in every token field of the message (`Token`); bit 3: for the public client rather than client A; bit 4: from the code request in the input |
//! | then | for `Credentials::Raw`: a length byte and the metadata value |
//! | then | with bit 4 of byte 2: a 2-byte big-endian length and an `IssueCodeRequest` (protobuf) |
//! | rest | the request message (protobuf) |
//!
//! # State
//!
//! Every input starts from the same state: a fresh store (for [`service_request`], an in-memory
//! [`RedbStore`]: the real store, its tables, transactions and writer thread, without the file)
//! holding three clients with fixed ids and secrets, an `Authority` with fixed master keys, and what the token byte asks for (a code
//! issued, exchanged, refreshed or revoked), done through the same handlers. An outcome never
//! depends on earlier inputs, so a corpus file replays exactly, and the store stays small.
//!
//! # What a request may change
//!
//! A failed request changes nothing, with one exception, checked precisely: a replayed code or a
//! reused refresh token fails *and* revokes its grant (RFC 6749 §4.1.2, §10.4): only revocations
//! are added and refresh families removed.
//!
//! After a key rotation, a client whose request succeeds has its verifier re-hashed under the
//! active key (`Authority::settle`): only that client's record changes, and only to a verifier
//! under the active key.
//!
//! A success changes only what its RPC is for: `Register` adds one client; `IssueCode` and
//! `Introspect` change nothing; `Exchange` spends a code or rotates a family; `Revoke` adds
//! revocations and closes families.

mod fixture;
mod input;
mod oracle;

use prost::Message as _;
use tessera_proto::v1::token_service_server::TokenService;
use tessera_proto::v1::{ExchangeResponse, IntrospectResponse, IssueCodeRequest};
use tessera_service::RedbStore;
use tessera_service::grpc::TokenApi;
use tessera_service::server::MAX_REQUEST_BYTES;
use tessera_service::store::Inspect;
use tonic::Status;
use tonic::metadata::{Ascii, MetadataValue};

use self::fixture::{A, Grant, Service, fixture, put_clients};
use self::input::{Input, Message};
use self::oracle::{Allowed, Part, changed, check_answer, check_refusal, check_rehash};

/// `service_request` on a fresh in-memory [`RedbStore`] per input: see the module docs.
pub fn service_request(data: &[u8]) {
    service_request_on(data, || RedbStore::in_memory().unwrap());
}

/// `service_request` on the store `open` returns, which must be empty and not shared with
/// another input (or the outcome would depend on it).
pub fn service_request_on<S: Inspect + Clone>(data: &[u8], open: impl FnOnce() -> S) {
    let input = Input::read(data);
    if input.message.len() > MAX_REQUEST_BYTES {
        return; // The transport refuses it before any handler runs.
    }
    let Some(message) = Message::decode(input.rpc, input.message) else {
        return;
    };
    let fixture = fixture();
    let grant = match input.code_request {
        None => Grant {
            request: fixture.code_request(input.owner),
            owner: input.owner,
        },
        Some(bytes) => {
            let Ok(request) = IssueCodeRequest::decode(bytes) else {
                return;
            };
            let owner = fixture.client_named(&request.client_id).unwrap_or(A);
            Grant { request, owner }
        }
    };
    fixture.runtime.block_on(async {
        let service = Service::start(fixture, input.rotated, open()).await;
        let token = match service.mint(fixture, input.token, &grant).await {
            Ok(token) => token,
            // The input's own code request may be refused, or its challenge not be RFC 7636's.
            Err(_) if input.code_request.is_some() => return,
            Err(status) => panic!("the fixture's {:?} failed: {status:?}", input.token),
        };
        if input.rotated && token.is_some() {
            // Minting authenticated the owner, which re-hashed it: make it stale again.
            put_clients(&service.store, fixture).await;
        }
        let authorization = fixture.authorization(input.credentials, input.raw);
        let before = service.store.snapshot().await.unwrap();
        let outcome = call(&service.api, message, token.as_deref(), authorization).await;
        let after = service.store.snapshot().await.unwrap();
        let allowed = match &outcome {
            Err(status) => check_refusal(fixture, &input, token.as_deref(), status),
            Ok(answer) => check_answer(fixture, &input, &grant, answer),
        };
        let mut changed = changed(&before, &after);
        // Only a success re-hashes, and a registration is the operator's: no client authenticates.
        if input.rotated
            && outcome.is_ok()
            && allowed != Allowed::NewClient
            && changed.remove(&Part::Clients)
        {
            check_rehash(fixture, &service, &input, &before, &after).await;
        }
        let unexpected: Vec<_> = (changed.iter())
            .filter(|part| !allowed.parts().contains(part))
            .collect();
        assert!(
            unexpected.is_empty(),
            "{input:?} answered {outcome:?} and changed {unexpected:?}"
        );
        allowed.check(&input, &before, &after);
    });
}

/// What a successful call answered, with what the properties need of its request.
#[derive(Debug)]
pub(super) enum Answer {
    Registered,
    CodeIssued,
    Exchanged {
        response: ExchangeResponse,
        grant_type: String,
        scope: String,
    },
    Introspected(IntrospectResponse),
    Revoked,
}

/// Puts `token` in the token fields of `message` and calls its handler.
async fn call<S: Inspect>(
    api: &TokenApi<S>,
    message: Message,
    token: Option<&str>,
    authorization: Option<MetadataValue<Ascii>>,
) -> Result<Answer, Status> {
    match message {
        Message::Register(m) => api
            .register(fixture::request(m, authorization))
            .await
            .map(|_| Answer::Registered),
        Message::IssueCode(m) => api
            .issue_code(fixture::request(m, authorization))
            .await
            .map(|_| Answer::CodeIssued),
        Message::Exchange(mut m) => {
            if let Some(token) = token {
                token.clone_into(&mut m.code);
                token.clone_into(&mut m.refresh_token);
            }
            let (grant_type, scope) = (m.grant_type.clone(), m.scope.clone());
            let answer = api.exchange(fixture::request(m, authorization)).await;
            answer.map(|r| Answer::Exchanged {
                response: r.into_inner(),
                grant_type,
                scope,
            })
        }
        Message::Introspect(mut m) => {
            if let Some(token) = token {
                token.clone_into(&mut m.token);
            }
            let answer = api.introspect(fixture::request(m, authorization)).await;
            answer.map(|r| Answer::Introspected(r.into_inner()))
        }
        Message::Revoke(mut m) => {
            if let Some(token) = token {
                token.clone_into(&mut m.token);
            }
            api.revoke(fixture::request(m, authorization))
                .await
                .map(|_| Answer::Revoked)
        }
    }
}
