//! The `tessera.v1.TokenService` handlers: proto ↔ [`Authority`] translation and error mapping.

use core::net::IpAddr;
use std::sync::Arc;

use tessera_core::ClientId;
use tessera_proto::v1::token_service_server::TokenService;
use tessera_proto::v1::{
    ExchangeRequest, ExchangeResponse, IntrospectRequest, IntrospectResponse, IssueCodeRequest,
    IssueCodeResponse, RegisterRequest, RegisterResponse, RevokeRequest, RevokeResponse,
};
use tonic::{Request, Response, Status};

use crate::auth::{basic_credentials, check_operator};
use crate::authority::{Authority, CodeRequest, Introspected, Issued};
use crate::error::Error;
use crate::keys::OperatorToken;
use crate::listener::PeerAddr;
use crate::store::Store;

/// The gRPC face of an [`Authority`].
#[derive(Debug)]
pub struct TokenApi<S> {
    authority: Arc<Authority<S>>,
    operator: Arc<OperatorToken>,
}

impl<S> TokenApi<S> {
    /// Serves `authority`, with `operator` guarding the operator RPCs.
    pub const fn new(authority: Arc<Authority<S>>, operator: Arc<OperatorToken>) -> Self {
        Self {
            authority,
            operator,
        }
    }
}

/// The caller's address, which the listener puts in every request.
fn peer<T>(request: &Request<T>) -> Option<IpAddr> {
    request.extensions().get::<PeerAddr>().map(|p| p.0.ip())
}

fn seconds(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn token_response(issued: Issued) -> ExchangeResponse {
    ExchangeResponse {
        access_token: issued.access_token.expose().to_owned(),
        token_type: "Bearer".to_owned(),
        expires_in: i64::from(issued.expires_in),
        scope: issued.scope.as_str().to_owned(),
        refresh_token: issued.refresh_token.expose().to_owned(),
    }
}

fn hex(id: &ClientId) -> String {
    id.to_string()
}

#[tonic::async_trait]
impl<S: Store> TokenService for TokenApi<S> {
    async fn register(
        &self,
        request: Request<RegisterRequest>,
    ) -> Result<Response<RegisterResponse>, Status> {
        check_operator(request.metadata(), &self.operator)?;
        let r = request.into_inner();
        let registration = self
            .authority
            .register(&r.client_name, r.redirect_uris, &r.scope, r.public_client)
            .await?;
        Ok(Response::new(RegisterResponse {
            client_id: hex(&registration.client_id),
            client_secret: registration
                .secret
                .as_ref()
                .map(|s| s.expose().to_owned())
                .unwrap_or_default(),
            client_id_issued_at: seconds(registration.issued_at),
            client_secret_expires_at: 0,
        }))
    }

    async fn issue_code(
        &self,
        request: Request<IssueCodeRequest>,
    ) -> Result<Response<IssueCodeResponse>, Status> {
        check_operator(request.metadata(), &self.operator)?;
        let r = request.into_inner();
        let (code, lifetime) = self
            .authority
            .issue_code(CodeRequest {
                client_id: &r.client_id,
                redirect_uri: &r.redirect_uri,
                scope: &r.scope,
                subject: &r.subject,
                code_challenge: &r.code_challenge,
                code_challenge_method: &r.code_challenge_method,
                audience: &r.audience,
            })
            .await?;
        Ok(Response::new(IssueCodeResponse {
            code: code.expose().to_owned(),
            expires_in: i64::from(lifetime),
        }))
    }

    async fn exchange(
        &self,
        request: Request<ExchangeRequest>,
    ) -> Result<Response<ExchangeResponse>, Status> {
        let credentials = basic_credentials(request.metadata())?;
        let peer = peer(&request);
        let r = request.into_inner();
        let issued = match r.grant_type.as_str() {
            "authorization_code" => {
                let client = self
                    .authority
                    .authenticate(credentials, &r.client_id, peer)
                    .await?;
                let issued = self
                    .authority
                    .exchange_code(&client, &r.code, &r.redirect_uri, &r.code_verifier)
                    .await?;
                self.authority.settle(client).await;
                issued
            }
            "refresh_token" => {
                let client = self
                    .authority
                    .authenticate(credentials, &r.client_id, peer)
                    .await?;
                let issued = self
                    .authority
                    .refresh(&client, &r.refresh_token, &r.scope)
                    .await?;
                self.authority.settle(client).await;
                issued
            }
            "" => return Err(Error::MissingField("grant_type").into()),
            _ => return Err(Error::UnsupportedGrantType.into()),
        };
        Ok(Response::new(token_response(issued)))
    }

    async fn introspect(
        &self,
        request: Request<IntrospectRequest>,
    ) -> Result<Response<IntrospectResponse>, Status> {
        let credentials = basic_credentials(request.metadata())?;
        let caller = self
            .authority
            .authenticate_confidential(credentials, peer(&request))
            .await?;
        let r = request.into_inner();
        let found = self
            .authority
            .introspect(&caller, &r.token, &r.token_type_hint)
            .await?;
        self.authority.settle(caller).await;
        let Some(found) = found else {
            return Ok(Response::new(IntrospectResponse::default()));
        };
        let (token_type, jti, iat, exp) = match &found {
            Introspected::Access(c) => (
                "Bearer",
                c.token_id().to_string(),
                c.issued_at(),
                c.expires_at(),
            ),
            Introspected::Refresh(c) => (
                "refresh_token",
                c.token_id().to_string(),
                c.issued_at(),
                c.expires_at(),
            ),
        };
        let grant = found.grant();
        Ok(Response::new(IntrospectResponse {
            active: true,
            scope: grant.scope.as_str().to_owned(),
            client_id: hex(&grant.client_id),
            sub: grant.subject.as_str().to_owned(),
            token_type: token_type.to_owned(),
            exp: seconds(exp),
            iat: seconds(iat),
            iss: self.authority.config().issuer.clone(),
            jti,
            aud: grant.audience.iter().map(hex).collect(),
        }))
    }

    async fn revoke(
        &self,
        request: Request<RevokeRequest>,
    ) -> Result<Response<RevokeResponse>, Status> {
        let credentials = basic_credentials(request.metadata())?;
        let peer = peer(&request);
        let r = request.into_inner();
        let caller = self
            .authority
            .authenticate(credentials, &r.client_id, peer)
            .await?;
        self.authority
            .revoke(&caller, &r.token, &r.token_type_hint)
            .await?;
        self.authority.settle(caller).await;
        Ok(Response::new(RevokeResponse {}))
    }
}
