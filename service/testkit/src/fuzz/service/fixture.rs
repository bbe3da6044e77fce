//! `service_request`'s fixture: the state every input starts from (three clients with fixed ids
//! and secrets, fixed master keys, the operator token) and the tokens an input asks for, minted
//! through the same handlers. The store is a parameter, so any backend can be fuzzed.

use std::sync::{Arc, OnceLock};

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tessera_core::{ClientId, ClientSecret, KeyId, Keyring, MasterKey, Scope, SecretVerifier};
use tessera_proto::v1::token_service_server::TokenService;
use tessera_proto::v1::{ExchangeRequest, ExchangeResponse, IssueCodeRequest, RevokeRequest};
use tessera_service::credentials::basic_header;
use tessera_service::grpc::TokenApi;
use tessera_service::keys::{self, KeySource, OperatorToken};
use tessera_service::rng::SharedRng;
use tessera_service::store::{ClientRecord, Inspect, Store};
use tessera_service::{Authority, Config, Error, SystemClock};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::{Request, Status};

use super::input::{Credentials, Token};
use crate::pkce::{CHALLENGE, VERIFIER};

/// The scope of every fixture client: 16 tokens, 123 bytes, near the core's limits, so that a
/// code request in the input can ask for the largest scope.
pub(super) const CLIENT_SCOPE: &str = "read write admin openid profile email phone address offline \
                            calendar contacts files:read files:write billing audit api:full";

/// One fixture client: its stored record and its secret text (none for a public client).
pub(super) struct Client {
    pub(super) record: ClientRecord,
    pub(super) id: String,
    pub(super) secret: Option<String>,
}

/// What every input shares, built once per process.
pub(super) struct Fixture {
    pub(super) runtime: tokio::runtime::Runtime,
    pub(super) operator: Arc<OperatorToken>,
    /// Master key 1, active: the clients' verifiers are under it.
    pub(super) keyring: Keyring,
    /// Keys 1 and 2, 2 active: after a rotation.
    pub(super) rotated: Keyring,
    pub(super) config: Config,
    /// A and B (confidential), P (public).
    pub(super) clients: [Client; 3],
    /// The messages of a refusal that also revokes (replayed code, reused refresh token).
    pub(super) revoking: [String; 2],
}

pub(super) const A: usize = 0;
pub(super) const B: usize = 1;
pub(super) const P: usize = 2;

fn master_key(id: u16, seed: u8) -> MasterKey {
    let mut bytes = [0u8; 32];
    for (b, i) in bytes.iter_mut().zip(0u8..) {
        *b = seed ^ i;
    }
    MasterKey::from_bytes(KeyId::new(id), bytes)
}

pub(super) fn fixture() -> &'static Fixture {
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
                    previous: None,
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
    pub(super) fn authorization(
        &self,
        credentials: Credentials,
        raw: &[u8],
    ) -> Option<MetadataValue<Ascii>> {
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
    pub(super) fn secrets(&self) -> impl Iterator<Item = &str> {
        let clients = self.clients.iter().filter_map(|c| c.secret.as_deref());
        clients.chain([self.operator.expose()])
    }

    /// The fixture client `client_id` names, if any.
    pub(super) fn client_named(&self, client_id: &str) -> Option<usize> {
        let id = ClientId::parse(client_id).ok()?;
        self.clients.iter().position(|c| c.record.id == id)
    }

    /// The fixture's code request for `owner`.
    pub(super) fn code_request(&self, owner: usize) -> IssueCodeRequest {
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
    pub(super) fn owner_credentials(owner: usize) -> Credentials {
        match owner {
            A => Credentials::ClientA,
            B => Credentials::ClientB,
            _ => Credentials::None,
        }
    }
}

/// Stores the fixture's clients as registered, all at once so that the writer can commit them
/// together.
pub(super) async fn put_clients(store: &impl Store, fixture: &Fixture) {
    let put = |c: usize| store.insert_client(fixture.clients[c].record.clone());
    let (a, b, p) = tokio::join!(put(A), put(B), put(P));
    a.and(b).and(p).unwrap();
}

/// The grant an input's tokens carry: the code request they come from, and its client.
#[derive(Debug)]
pub(super) struct Grant {
    pub(super) request: IssueCodeRequest,
    pub(super) owner: usize,
}

/// One input's server: a fresh store with the fixture's clients, and the handlers over it.
pub(super) struct Service<S> {
    pub(super) api: TokenApi<S>,
    pub(super) store: S,
}

impl<S: Inspect + Clone> Service<S> {
    /// The handlers over `store`, which gets the fixture's clients.
    pub(super) async fn start(fixture: &Fixture, rotated: bool, store: S) -> Self {
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
            resource: Vec::new(),
        };
        let request = request(message, authorization);
        Ok(self.api.exchange(request).await?.into_inner())
    }

    async fn revoke(&self, fixture: &Fixture, grant: &Grant, token: &str) -> Result<(), Status> {
        let (authorization, client_id) = Self::owner_auth(fixture, grant.owner);
        let message = RevokeRequest {
            token: token.to_owned(),
            token_type_hint: String::new(),
            client_id,
        };
        self.api.revoke(request(message, authorization)).await?;
        Ok(())
    }

    /// Mints `token` of `grant` through the handlers; `None` for [`Token::Own`].
    pub(super) async fn mint(
        &self,
        fixture: &Fixture,
        token: Token,
        grant: &Grant,
    ) -> Result<Option<String>, Status> {
        if token == Token::Own {
            return Ok(None);
        }
        let operator = fixture.authorization(Credentials::Operator, &[]);
        let request = request(grant.request.clone(), operator);
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

/// `message` with `authorization` set, as a request.
pub(super) fn request<T>(message: T, authorization: Option<MetadataValue<Ascii>>) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(value) = authorization {
        request.metadata_mut().insert("authorization", value);
    }
    request
}
