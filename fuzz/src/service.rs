//! What the `service_request` fuzz target asserts (issue 4): a request message decoded from
//! arbitrary bytes and sent with arbitrary credentials to the `tessera.v1.TokenService` handlers,
//! in process, never panics, is answered with success or a client error (never a server error,
//! never with a secret in the message), and, if it fails, leaves the store as it was. A success
//! must be deserved (right credentials, a live token) and answer what was granted.
//!
//! Compiled twice, like `checks.rs`: into `tessera-fuzz`, for `fuzz_targets/service_request.rs`,
//! and into `service/tests/fuzz_corpus.rs`, which replays `corpus/service_request/` on stable.
//!
//! # Input
//!
//! | bytes | meaning |
//! |---|---|
//! | 0 | the RPC, modulo 5: `Register`, `IssueCode`, `Exchange`, `Introspect`, `Revoke` |
//! | 1 | bits 0–2: the `authorization` metadata ([`Credentials`]); bit 3: the master key was rotated since the clients registered |
//! | 2 | bits 0–2: a token minted for this input and put in every token field of the message ([`Token`]); bit 3: for the public client rather than client A; bit 4: from the code request in the input |
//! | then | for [`Credentials::Raw`]: a length byte and the metadata value |
//! | then | with bit 4 of byte 2: a 2-byte big-endian length and an `IssueCodeRequest` (protobuf) |
//! | rest | the request message (protobuf) |
//!
//! # State
//!
//! Every input starts from the same state: a fresh in-memory [`RedbStore`] (the real store, its
//! tables, transactions and writer thread, without the file) holding three clients with fixed ids
//! and secrets, an [`Authority`] with fixed master keys, and what the token byte asks for (a code
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
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a property check reports a failure by panicking"
)]

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use prost::Message as _;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tessera_core::{ClientId, ClientSecret, KeyId, Keyring, MasterKey, Scope, SecretVerifier};
use tessera_proto::v1::token_service_server::TokenService;
use tessera_proto::v1::{
    ExchangeRequest, ExchangeResponse, IntrospectRequest, IntrospectResponse, IssueCodeRequest,
    RegisterRequest, RevokeRequest,
};
use tessera_service::credentials::basic_header;
use tessera_service::grpc::TokenApi;
use tessera_service::keys::{self, KeySource, OperatorToken};
use tessera_service::rng::SharedRng;
use tessera_service::server::MAX_REQUEST_BYTES;
use tessera_service::store::{ClientRecord, Snapshot};
use tessera_service::{Authority, Config, Error, RedbStore, Store as _, SystemClock};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::{Code, Request, Status};

/// The store's tables, as [`RedbStore::snapshot`] names them.
const CLIENTS: &str = "clients";
const SPENT_CODES: &str = "spent_codes";
const REVOKED_GRANTS: &str = "revoked_grants";
const REVOKED_TOKENS: &str = "revoked_tokens";
const FAMILIES: &str = "refresh_families";
const FAMILY_DEADLINES: &str = "family_deadlines";
const TABLES: [&str; 6] = [
    CLIENTS,
    SPENT_CODES,
    REVOKED_GRANTS,
    REVOKED_TOKENS,
    FAMILIES,
    FAMILY_DEADLINES,
];

/// RFC 7636 Appendix B: the verifier of every code the setup exchanges, and the challenge of the
/// fixture's code requests.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// The scope of every fixture client: 16 tokens, 123 bytes, near the core's limits, so that a
/// code request in the input can ask for the largest scope.
const CLIENT_SCOPE: &str = "read write admin openid profile email phone address offline \
                            calendar contacts files:read files:write billing audit api:full";

/// The OAuth error codes (RFC 6749 §5.2) a refused request's message starts with.
const OAUTH_ERRORS: [&str; 6] = [
    "invalid_request: ",
    "invalid_client: ",
    "invalid_grant: ",
    "unauthorized_client: ",
    "unsupported_grant_type: ",
    "invalid_scope: ",
];

/// The RPC an input calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rpc {
    Register,
    IssueCode,
    Exchange,
    Introspect,
    Revoke,
}

/// The `authorization` metadata an input sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credentials {
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
pub enum Token {
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

/// One fixture client: its stored record and its secret text (none for a public client).
struct Client {
    record: ClientRecord,
    id: String,
    secret: Option<String>,
}

/// What every input shares, built once per process.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    operator: Arc<OperatorToken>,
    /// Master key 1, active: the clients' verifiers are under it.
    keyring: Keyring,
    /// Keys 1 and 2, 2 active: after a rotation.
    rotated: Keyring,
    config: Config,
    /// A and B (confidential), P (public).
    clients: [Client; 3],
    /// The messages of a refusal that also revokes (replayed code, reused refresh token).
    revoking: [String; 2],
}

const A: usize = 0;
const B: usize = 1;
const P: usize = 2;

fn master_key(id: u16, seed: u8) -> MasterKey {
    let mut bytes = [0u8; 32];
    for (b, i) in bytes.iter_mut().zip(0u8..) {
        *b = seed ^ i;
    }
    MasterKey::from_bytes(KeyId::new(id), bytes)
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let keyring = Keyring::new(&[master_key(1, 0x5c)], KeyId::new(1)).unwrap();
        let rotated =
            Keyring::new(&[master_key(1, 0x5c), master_key(2, 0x36)], KeyId::new(2)).unwrap();
        // The service reads its operator token from a file only; the directory goes right after.
        let dir = tempfile::tempdir().unwrap();
        let rng = SharedRng::from_os().unwrap();
        let operator = keys::generate_operator_token(dir.path(), &rng).unwrap();
        drop(dir);
        let client = |n: u8, name: &str, redirect_uris: &[&str], public: bool| {
            let id = ClientId::from_bytes([n; 16]);
            let secret =
                (!public).then(|| ClientSecret::generate(&mut ChaCha20Rng::from_seed([n; 32])));
            let verifier = secret
                .as_ref()
                .map(|s| SecretVerifier::new(keyring.client_secrets(), &id, s).unwrap());
            Client {
                record: ClientRecord {
                    id,
                    name: name.to_owned(),
                    redirect_uris: redirect_uris.iter().map(|&u| u.to_owned()).collect(),
                    scope: Scope::parse(CLIENT_SCOPE).unwrap(),
                    verifier,
                    issued_at: 1_767_225_600,
                },
                id: id.to_string(),
                secret: secret.map(|s| s.encode().expose().to_owned()),
            }
        };
        // The longest redirect URI the core accepts, for the longest code.
        let longest = format!("https://a.example/{}", "x".repeat(494));
        let clients = [
            client(
                0xa1,
                "a",
                &[
                    "https://a.example/cb",
                    "http://127.0.0.1:8080/cb?x=1",
                    &longest,
                ],
                false,
            ),
            client(0xb2, "b", &["https://b.example/cb"], false),
            client(
                0xc3,
                "p",
                &["https://p.example/cb", "http://[::1]/cb"],
                true,
            ),
        ];
        let revoking = [Error::CodeReplayed, Error::RefreshReused]
            .map(|e| Status::from(e).message().to_owned());
        Fixture {
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
            operator: Arc::new(operator),
            keyring,
            rotated,
            // The authority reads only the issuer and the lifetimes.
            config: Config::new("unused"),
            clients,
            revoking,
        }
    })
}

impl Fixture {
    /// The metadata value of `credentials` (`raw` for [`Credentials::Raw`]); `None` to send none.
    fn authorization(&self, credentials: Credentials, raw: &[u8]) -> Option<MetadataValue<Ascii>> {
        let secret = |c: usize| self.clients[c].secret.as_deref().unwrap();
        let text = match credentials {
            Credentials::None => return None,
            Credentials::Raw => return MetadataValue::try_from(raw).ok(),
            Credentials::Operator => format!("Bearer {}", self.operator.expose()),
            Credentials::ClientA => self.basic(A),
            Credentials::ClientB => self.basic(B),
            Credentials::WrongSecret => basic_header(&self.clients[A].id, secret(B)).to_string(),
            Credentials::PublicWithSecret => {
                basic_header(&self.clients[P].id, secret(A)).to_string()
            }
            Credentials::SecretAsOperator => format!("Bearer {}", secret(A)),
        };
        Some(text.parse().unwrap())
    }

    fn basic(&self, c: usize) -> String {
        let client = &self.clients[c];
        basic_header(&client.id, client.secret.as_deref().unwrap()).to_string()
    }

    /// Every secret a refusal's message must not show.
    fn secrets(&self) -> impl Iterator<Item = &str> {
        let clients = self.clients.iter().filter_map(|c| c.secret.as_deref());
        clients.chain([self.operator.expose()])
    }

    /// The fixture client `client_id` names, if any.
    fn client_named(&self, client_id: &str) -> Option<usize> {
        let id = ClientId::parse(client_id).ok()?;
        self.clients.iter().position(|c| c.record.id == id)
    }

    /// The fixture's code request for `owner`.
    fn code_request(&self, owner: usize) -> IssueCodeRequest {
        let client = &self.clients[owner];
        IssueCodeRequest {
            client_id: client.id.clone(),
            redirect_uri: client.record.redirect_uris[0].clone(),
            scope: "read write".to_owned(),
            subject: "alice".to_owned(),
            code_challenge: CHALLENGE.to_owned(),
            code_challenge_method: "S256".to_owned(),
            audience: vec![self.clients[B].id.clone()],
        }
    }

    /// The credentials with which `owner` redeems its codes and refresh tokens.
    fn owner_credentials(owner: usize) -> Credentials {
        match owner {
            A => Credentials::ClientA,
            B => Credentials::ClientB,
            _ => Credentials::None,
        }
    }
}

/// Stores the fixture's clients as registered, all at once so that the writer can commit them
/// together.
async fn put_clients(store: &RedbStore, fixture: &Fixture) {
    let put = |c: usize| store.insert_client(fixture.clients[c].record.clone());
    let (a, b, p) = tokio::join!(put(A), put(B), put(P));
    a.and(b).and(p).unwrap();
}

/// The grant an input's tokens carry: the code request they come from, and its client.
#[derive(Debug)]
struct Grant {
    request: IssueCodeRequest,
    owner: usize,
}

/// One input's server: a fresh store with the fixture's clients, and the handlers over it.
struct Service {
    api: TokenApi<RedbStore>,
    store: RedbStore,
}

impl Service {
    async fn start(fixture: &Fixture, rotated: bool) -> Self {
        let store = RedbStore::in_memory().unwrap();
        put_clients(&store, fixture).await;
        let keyring = if rotated {
            &fixture.rotated
        } else {
            &fixture.keyring
        };
        let authority = Authority::new(
            store.clone(),
            Arc::new(KeySource::new(keyring.clone())),
            SharedRng::from_os().unwrap(),
            SystemClock::shared(),
            fixture.config.clone(),
        );
        let api = TokenApi::new(Arc::new(authority), Arc::clone(&fixture.operator));
        Self { api, store }
    }

    /// `message` with `authorization` set, as a request.
    fn request<T>(message: T, authorization: Option<MetadataValue<Ascii>>) -> Request<T> {
        let mut request = Request::new(message);
        if let Some(value) = authorization {
            request.metadata_mut().insert("authorization", value);
        }
        request
    }

    /// How `owner` authenticates a token request: Basic if confidential, else its id alone.
    fn owner_auth(fixture: &Fixture, owner: usize) -> (Option<MetadataValue<Ascii>>, String) {
        let credentials = Fixture::owner_credentials(owner);
        match fixture.authorization(credentials, &[]) {
            Some(basic) => (Some(basic), String::new()),
            None => (None, fixture.clients[owner].id.clone()),
        }
    }

    async fn exchange(
        &self,
        fixture: &Fixture,
        grant: &Grant,
        grant_type: &str,
        token: &str,
    ) -> Result<ExchangeResponse, Status> {
        let (authorization, client_id) = Self::owner_auth(fixture, grant.owner);
        let message = ExchangeRequest {
            grant_type: grant_type.to_owned(),
            code: token.to_owned(),
            redirect_uri: grant.request.redirect_uri.clone(),
            code_verifier: VERIFIER.to_owned(),
            client_id,
            refresh_token: token.to_owned(),
            scope: String::new(),
        };
        let request = Self::request(message, authorization);
        Ok(self.api.exchange(request).await?.into_inner())
    }

    async fn revoke(&self, fixture: &Fixture, grant: &Grant, token: &str) -> Result<(), Status> {
        let (authorization, client_id) = Self::owner_auth(fixture, grant.owner);
        let message = RevokeRequest {
            token: token.to_owned(),
            token_type_hint: String::new(),
            client_id,
        };
        self.api
            .revoke(Self::request(message, authorization))
            .await?;
        Ok(())
    }

    /// Mints `token` of `grant` through the handlers; `None` for [`Token::Own`].
    async fn mint(
        &self,
        fixture: &Fixture,
        token: Token,
        grant: &Grant,
    ) -> Result<Option<String>, Status> {
        if token == Token::Own {
            return Ok(None);
        }
        let operator = fixture.authorization(Credentials::Operator, &[]);
        let request = Self::request(grant.request.clone(), operator);
        let code = self.api.issue_code(request).await?.into_inner().code;
        if token == Token::FreshCode {
            return Ok(Some(code));
        }
        let issued = self
            .exchange(fixture, grant, "authorization_code", &code)
            .await?;
        Ok(Some(match token {
            Token::Own | Token::FreshCode => unreachable!("returned above"),
            Token::SpentCode => code,
            Token::Access => issued.access_token,
            Token::Refresh => issued.refresh_token,
            Token::SupersededRefresh => {
                self.exchange(fixture, grant, "refresh_token", &issued.refresh_token)
                    .await?;
                issued.refresh_token
            }
            Token::RevokedRefresh => {
                self.revoke(fixture, grant, &issued.refresh_token).await?;
                issued.refresh_token
            }
            Token::RevokedAccess => {
                self.revoke(fixture, grant, &issued.access_token).await?;
                issued.access_token
            }
        }))
    }
}

/// What a successful call answered, with what the properties need of its request.
#[derive(Debug)]
enum Answer {
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

/// A request message, decoded as the input's RPC asks.
#[derive(Debug)]
enum Message {
    Register(RegisterRequest),
    IssueCode(IssueCodeRequest),
    Exchange(ExchangeRequest),
    Introspect(IntrospectRequest),
    Revoke(RevokeRequest),
}

impl Message {
    /// `None` if the bytes are not `rpc`'s request: the transport refuses them before any
    /// handler runs.
    fn decode(rpc: Rpc, bytes: &[u8]) -> Option<Self> {
        Some(match rpc {
            Rpc::Register => Self::Register(RegisterRequest::decode(bytes).ok()?),
            Rpc::IssueCode => Self::IssueCode(IssueCodeRequest::decode(bytes).ok()?),
            Rpc::Exchange => Self::Exchange(ExchangeRequest::decode(bytes).ok()?),
            Rpc::Introspect => Self::Introspect(IntrospectRequest::decode(bytes).ok()?),
            Rpc::Revoke => Self::Revoke(RevokeRequest::decode(bytes).ok()?),
        })
    }
}

/// Puts `token` in the token fields of `message` and calls its handler.
async fn call(
    api: &TokenApi<RedbStore>,
    message: Message,
    token: Option<&str>,
    authorization: Option<MetadataValue<Ascii>>,
) -> Result<Answer, Status> {
    match message {
        Message::Register(m) => api
            .register(Service::request(m, authorization))
            .await
            .map(|_| Answer::Registered),
        Message::IssueCode(m) => api
            .issue_code(Service::request(m, authorization))
            .await
            .map(|_| Answer::CodeIssued),
        Message::Exchange(mut m) => {
            if let Some(token) = token {
                token.clone_into(&mut m.code);
                token.clone_into(&mut m.refresh_token);
            }
            let (grant_type, scope) = (m.grant_type.clone(), m.scope.clone());
            let answer = api.exchange(Service::request(m, authorization)).await;
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
            let answer = api.introspect(Service::request(m, authorization)).await;
            answer.map(|r| Answer::Introspected(r.into_inner()))
        }
        Message::Revoke(mut m) => {
            if let Some(token) = token {
                token.clone_into(&mut m.token);
            }
            api.revoke(Service::request(m, authorization))
                .await
                .map(|_| Answer::Revoked)
        }
    }
}

/// One input, read.
#[derive(Debug)]
struct Input<'a> {
    rpc: Rpc,
    credentials: Credentials,
    rotated: bool,
    token: Token,
    owner: usize,
    raw: &'a [u8],
    code_request: Option<&'a [u8]>,
    message: &'a [u8],
}

/// Splits a `len`-byte field off the front of `rest` (less if `rest` is shorter).
fn field<'a>(rest: &mut &'a [u8], len: usize) -> &'a [u8] {
    let (head, tail) = rest.split_at(len.min(rest.len()));
    *rest = tail;
    head
}

impl<'a> Input<'a> {
    fn read(data: &'a [u8]) -> Self {
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

/// `service_request`: see the module docs.
pub fn service_request(data: &[u8]) {
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
        let service = Service::start(fixture, input.rotated).await;
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
        let before = service.store.snapshot().unwrap();
        let outcome = call(&service.api, message, token.as_deref(), authorization).await;
        let after = service.store.snapshot().unwrap();
        let allowed = match &outcome {
            Err(status) => check_refusal(fixture, &input, token.as_deref(), status),
            Ok(answer) => check_answer(fixture, &input, &grant, answer),
        };
        let mut changed = changed(&before, &after);
        // Only a success re-hashes, and a registration is the operator's: no client authenticates.
        if input.rotated
            && outcome.is_ok()
            && allowed != Allowed::NewClient
            && changed.remove(CLIENTS)
        {
            check_rehash(fixture, &service, &input, &before, &after).await;
        }
        let unexpected: Vec<_> = (changed.iter())
            .filter(|t| !allowed.tables().contains(t))
            .collect();
        assert!(
            unexpected.is_empty(),
            "{input:?} answered {outcome:?} and changed {unexpected:?}"
        );
        allowed.check(&input, &before, &after);
    });
}

/// What a call may change in the store (beyond a re-hash, see [`check_rehash`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Allowed {
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
    const fn tables(self) -> &'static [&'static str] {
        match self {
            Self::Nothing => &[],
            Self::NewClient => &[CLIENTS],
            Self::Redemption => &[SPENT_CODES, FAMILIES, FAMILY_DEADLINES],
            Self::Revocation => &[REVOKED_GRANTS, REVOKED_TOKENS, FAMILIES],
            Self::GrantRevocation => &[REVOKED_GRANTS, FAMILIES],
        }
    }

    /// Checks how the allowed tables changed.
    fn check(self, input: &Input<'_>, before: &Snapshot, after: &Snapshot) {
        match self {
            Self::Nothing | Self::Redemption => {}
            Self::NewClient => {
                let (was, now) = (&before.0[CLIENTS], &after.0[CLIENTS]);
                assert_eq!(now.len(), was.len() + 1, "{input:?}: not one client added");
                assert!(was.iter().all(|row| now.contains(row)), "a client changed");
            }
            Self::Revocation | Self::GrantRevocation => only_revoked(before, after),
        }
    }
}

/// The tables whose contents differ.
fn changed(before: &Snapshot, after: &Snapshot) -> BTreeSet<&'static str> {
    let names = |s: &Snapshot| s.0.keys().copied().collect::<BTreeSet<_>>();
    assert_eq!(names(before), TABLES.into(), "the store's tables changed");
    assert_eq!(names(after), TABLES.into(), "the store's tables changed");
    TABLES
        .into_iter()
        .filter(|t| before.0[t] != after.0[t])
        .collect()
}

fn until(value: &[u8]) -> u64 {
    u64::from_le_bytes(value.try_into().unwrap())
}

/// A revocation only adds or extends revocations and removes refresh families.
fn only_revoked(before: &Snapshot, after: &Snapshot) {
    for table in [REVOKED_GRANTS, REVOKED_TOKENS] {
        for (key, was) in &before.0[table] {
            let now = after.0[table].iter().find(|(k, _)| k == key);
            let now = now.unwrap_or_else(|| panic!("a revocation in {table} was removed"));
            assert!(
                until(&now.1) >= until(was),
                "a revocation in {table} was shortened"
            );
        }
    }
    let families = &after.0[FAMILIES];
    assert!(
        families.iter().all(|row| before.0[FAMILIES].contains(row)),
        "a revocation added or advanced a refresh family"
    );
}

/// After a key rotation, the client that presented its credentials may have been re-hashed:
/// nothing else of it changed, and no other client did.
async fn check_rehash(
    fixture: &Fixture,
    service: &Service,
    input: &Input<'_>,
    before: &Snapshot,
    after: &Snapshot,
) {
    let presented = match input.credentials {
        Credentials::ClientA => &fixture.clients[A],
        Credentials::ClientB => &fixture.clients[B],
        other => panic!("{input:?}: {other:?}: a client changed without its credentials"),
    };
    let id = presented.record.id.as_bytes().as_slice();
    let (was, now) = (&before.0[CLIENTS], &after.0[CLIENTS]);
    assert_eq!(was.len(), now.len(), "a client was added or removed");
    for ((key, old), (new_key, new)) in was.iter().zip(now) {
        assert_eq!(key, new_key, "a client was replaced");
        assert!(old == new || key == id, "another client changed");
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
fn check_refusal(
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
fn check_answer(fixture: &Fixture, input: &Input<'_>, grant: &Grant, answer: &Answer) -> Allowed {
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
