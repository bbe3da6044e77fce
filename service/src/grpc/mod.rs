//! The gRPC edge: `tessera.v1.TokenService` handlers that translate proto ↔ [`Authority`]
//! types, credentials from metadata (`metadata.rs`) and the status mapping ([`status`]).

mod metadata;
pub mod status;

use core::net::IpAddr;
use std::sync::Arc;

use tessera_core::ClientId;
use tessera_proto::v1::token_service_server::TokenService;
use tessera_proto::v1::{
    AcceptLoginRequest, AcceptLoginResponse, ClientMetadata, DeleteClientRequest,
    DeleteClientResponse, ExchangeRequest, ExchangeResponse, GetClientRequest, GetClientResponse,
    GetLoginRequestRequest, GetLoginRequestResponse, IntrospectRequest, IntrospectResponse,
    IssueCodeRequest, IssueCodeResponse, ListClientsRequest, ListClientsResponse, RegisterRequest,
    RegisterResponse, RejectLoginRequest, RejectLoginResponse, RevokeRequest, RevokeResponse,
    RotateClientSecretRequest, RotateClientSecretResponse, UpdateClientRequest,
    UpdateClientResponse,
};
use tonic::{Request, Response, Status};

use self::metadata::{basic_credentials, check_operator};
use crate::authority::{
    Authority, ClientAuth, CodeRequest, GrantType, Issued, TokenRequest, TokenType, TokenTypeHint,
};
use crate::keys::OperatorToken;
use crate::listener::PeerAddr;
use crate::store::{ClientRecord, Store};

/// Every RPC path the server serves: the `route` label of the request metrics
/// ([`meter`](crate::meter)); a request to any other path is counted as `unknown`.
pub const ROUTES: [&str; 17] = [
    "/tessera.v1.TokenService/Register",
    "/tessera.v1.TokenService/IssueCode",
    "/tessera.v1.TokenService/Exchange",
    "/tessera.v1.TokenService/Introspect",
    "/tessera.v1.TokenService/Revoke",
    "/tessera.v1.TokenService/GetLoginRequest",
    "/tessera.v1.TokenService/AcceptLogin",
    "/tessera.v1.TokenService/RejectLogin",
    "/tessera.v1.TokenService/GetClient",
    "/tessera.v1.TokenService/ListClients",
    "/tessera.v1.TokenService/UpdateClient",
    "/tessera.v1.TokenService/DeleteClient",
    "/tessera.v1.TokenService/RotateClientSecret",
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

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

impl<S> TokenApi<S> {
    /// Checks the operator token of an operator RPC (`call`); a failure is the security event
    /// `operator_auth_failed`.
    fn operator<T>(&self, request: &Request<T>, call: &'static str) -> Result<(), Status> {
        check_operator(request.metadata(), &self.operator).map_err(|e| {
            crate::audit::operator_auth_failed("grpc", call, peer(request));
            Status::from(e)
        })
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
        token_type: TokenType::Bearer.as_str().to_owned(),
        expires_in: i64::from(issued.expires_in),
        scope: issued.scope.as_str().to_owned(),
        refresh_token: issued
            .refresh_token
            .map(|t| t.expose().to_owned())
            .unwrap_or_default(),
    }
}

fn hex(id: &ClientId) -> String {
    id.to_string()
}

/// A client's metadata (RFC 7591 §2 names).
fn client_metadata(client: &ClientRecord) -> ClientMetadata {
    ClientMetadata {
        client_id: hex(&client.id),
        client_name: client.name.clone(),
        redirect_uris: client.redirect_uris.clone(),
        scope: client.scope.as_str().to_owned(),
        token_endpoint_auth_method: client.auth_method().to_owned(),
        client_id_issued_at: seconds(client.issued_at),
    }
}

/// The grant of an `Exchange` request.
fn token_request(r: &ExchangeRequest) -> Result<TokenRequest<'_>, Status> {
    Ok(match GrantType::parse(&r.grant_type)? {
        GrantType::AuthorizationCode => TokenRequest::AuthorizationCode {
            code: &r.code,
            redirect_uri: &r.redirect_uri,
            code_verifier: &r.code_verifier,
        },
        GrantType::RefreshToken => TokenRequest::RefreshToken {
            refresh_token: &r.refresh_token,
            scope: &r.scope,
        },
        GrantType::ClientCredentials => TokenRequest::ClientCredentials {
            scope: &r.scope,
            resource: r.resource.iter().map(String::as_str).collect(),
        },
    })
}

#[tonic::async_trait]
impl<S: Store> TokenService for TokenApi<S> {
    async fn register(
        &self,
        request: Request<RegisterRequest>,
    ) -> Result<Response<RegisterResponse>, Status> {
        self.operator(&request, "Register")?;
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
        self.operator(&request, "IssueCode")?;
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
        let basic = basic_credentials(request.metadata())?;
        let peer = peer(&request);
        let r = request.into_inner();
        let grant = token_request(&r)?;
        let credentials = ClientAuth::new(basic, &r.client_id)?;
        let issued = self.authority.token(credentials, peer, grant).await?;
        Ok(Response::new(token_response(issued)))
    }

    async fn introspect(
        &self,
        request: Request<IntrospectRequest>,
    ) -> Result<Response<IntrospectResponse>, Status> {
        let credentials = ClientAuth::new(basic_credentials(request.metadata())?, "")?;
        let peer = peer(&request);
        let r = request.into_inner();
        let hint = TokenTypeHint::parse(&r.token_type_hint);
        let Some(found) = self
            .authority
            .introspect(credentials, peer, &r.token, hint)
            .await?
        else {
            return Ok(Response::new(IntrospectResponse::default()));
        };
        let (iat, exp) = found.times();
        let grant = found.grant();
        Ok(Response::new(IntrospectResponse {
            active: true,
            scope: grant.scope.as_str().to_owned(),
            client_id: hex(&grant.client_id),
            sub: grant.subject.as_str().to_owned(),
            token_type: found.token_type().as_str().to_owned(),
            exp: seconds(exp),
            iat: seconds(iat),
            iss: self.authority.config().issuer.clone(),
            jti: found.token_id().to_string(),
            aud: grant.audience.iter().map(hex).collect(),
        }))
    }

    async fn revoke(
        &self,
        request: Request<RevokeRequest>,
    ) -> Result<Response<RevokeResponse>, Status> {
        let basic = basic_credentials(request.metadata())?;
        let peer = peer(&request);
        let r = request.into_inner();
        let credentials = ClientAuth::new(basic, &r.client_id)?;
        let hint = TokenTypeHint::parse(&r.token_type_hint);
        self.authority
            .revoke(credentials, peer, &r.token, hint)
            .await?;
        Ok(Response::new(RevokeResponse {}))
    }

    async fn get_login_request(
        &self,
        request: Request<GetLoginRequestRequest>,
    ) -> Result<Response<GetLoginRequestResponse>, Status> {
        self.operator(&request, "GetLoginRequest")?;
        let r = request.into_inner();
        let pending = self.authority.login_request(&r.login_challenge).await?;
        let claims = &pending.claims;
        Ok(Response::new(GetLoginRequestResponse {
            client_id: hex(claims.client_id()),
            client_name: pending.client_name,
            redirect_uri: claims.redirect_uri().to_owned(),
            scope: claims.scope().as_str().to_owned(),
            audience: claims.audience().iter().map(hex).collect(),
            expires_at: seconds(claims.expires_at()),
        }))
    }

    async fn accept_login(
        &self,
        request: Request<AcceptLoginRequest>,
    ) -> Result<Response<AcceptLoginResponse>, Status> {
        self.operator(&request, "AcceptLogin")?;
        let r = request.into_inner();
        let redirect_to = self
            .authority
            .accept_login(&r.login_challenge, &r.subject, &r.scope, &r.audience)
            .await?;
        Ok(Response::new(AcceptLoginResponse { redirect_to }))
    }

    async fn reject_login(
        &self,
        request: Request<RejectLoginRequest>,
    ) -> Result<Response<RejectLoginResponse>, Status> {
        self.operator(&request, "RejectLogin")?;
        let r = request.into_inner();
        let redirect_to =
            self.authority
                .reject_login(&r.login_challenge, &r.error, &r.error_description)?;
        Ok(Response::new(RejectLoginResponse { redirect_to }))
    }

    async fn get_client(
        &self,
        request: Request<GetClientRequest>,
    ) -> Result<Response<GetClientResponse>, Status> {
        check_operator(request.metadata(), &self.operator)?;
        let client = self.authority.client(&request.get_ref().client_id).await?;
        Ok(Response::new(GetClientResponse {
            client: Some(client_metadata(&client)),
        }))
    }

    async fn list_clients(
        &self,
        request: Request<ListClientsRequest>,
    ) -> Result<Response<ListClientsResponse>, Status> {
        check_operator(request.metadata(), &self.operator)?;
        let r = request.into_inner();
        let page = self.authority.clients(r.page_size, &r.page_token).await?;
        Ok(Response::new(ListClientsResponse {
            clients: page.clients.iter().map(client_metadata).collect(),
            next_page_token: page.next.as_ref().map(hex).unwrap_or_default(),
        }))
    }

    async fn update_client(
        &self,
        request: Request<UpdateClientRequest>,
    ) -> Result<Response<UpdateClientResponse>, Status> {
        check_operator(request.metadata(), &self.operator)?;
        let r = request.into_inner();
        let client = self
            .authority
            .update_client(&r.client_id, &r.client_name, r.redirect_uris, &r.scope)
            .await?;
        Ok(Response::new(UpdateClientResponse {
            client: Some(client_metadata(&client)),
        }))
    }

    async fn delete_client(
        &self,
        request: Request<DeleteClientRequest>,
    ) -> Result<Response<DeleteClientResponse>, Status> {
        check_operator(request.metadata(), &self.operator)?;
        self.authority
            .delete_client(&request.get_ref().client_id, peer(&request))
            .await?;
        Ok(Response::new(DeleteClientResponse {}))
    }

    async fn rotate_client_secret(
        &self,
        request: Request<RotateClientSecretRequest>,
    ) -> Result<Response<RotateClientSecretResponse>, Status> {
        check_operator(request.metadata(), &self.operator)?;
        let peer = peer(&request);
        let r = request.into_inner();
        let rotated = self
            .authority
            .rotate_client_secret(&r.client_id, r.grace_seconds, peer)
            .await?;
        Ok(Response::new(RotateClientSecretResponse {
            client_secret: rotated.secret.expose().to_owned(),
            client_secret_expires_at: 0,
            previous_secret_expires_at: seconds(rotated.previous_expires_at),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::ROUTES;

    #[test]
    fn every_rpc_of_the_contract_is_a_route() {
        let proto = include_str!("../../../proto/tessera/v1/tessera.proto");
        let rpcs: Vec<&str> = proto
            .lines()
            .filter_map(|line| line.trim().strip_prefix("rpc "))
            .filter_map(|rest| rest.split('(').next())
            .map(str::trim)
            .collect();
        assert_eq!(rpcs.len(), 13, "{rpcs:?}");
        for rpc in rpcs {
            let path = format!("/tessera.v1.TokenService/{rpc}");
            assert!(ROUTES.contains(&path.as_str()), "{path} is not in ROUTES");
        }
    }
}
