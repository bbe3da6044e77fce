//! The `client_credentials` grant over gRPC `Exchange` (RFC 6749 §4.4): confidential clients
//! only, within the registered scope, no refresh token, `sub` is the client id, audience from
//! `resource` (RFC 8707).

use tessera_proto::v1::{ExchangeRequest, RegisterRequest, RevokeRequest};
use tessera_testkit::server::*;
use tonic::Code;

fn client_credentials(scope: &str, resource: &[&str]) -> ExchangeRequest {
    ExchangeRequest {
        grant_type: "client_credentials".to_owned(),
        scope: scope.to_owned(),
        resource: resource.iter().map(|&r| r.to_owned()).collect(),
        ..ExchangeRequest::default()
    }
}

#[tokio::test]
async fn a_confidential_client_gets_an_access_token_for_itself_and_no_refresh_token() {
    let server = TestServer::temporary().await;
    let worker = server.register("worker", "jobs.read jobs.write").await;
    let api_server = server.register("jobs-api", "").await;
    let mut api = server.client().await;

    let issued = exchange(
        &mut api,
        &worker,
        client_credentials("jobs.read", &[&api_server.client_id]),
    )
    .await
    .unwrap();
    assert!(issued.access_token.starts_with("tsr_at_"));
    assert_eq!(issued.token_type, "Bearer");
    assert_eq!(issued.scope, "jobs.read");
    assert_eq!(issued.expires_in, 3600);
    assert_eq!(
        issued.refresh_token, "",
        "no refresh token (RFC 6749 §4.4.3)"
    );
    for caller in [&worker, &api_server] {
        let seen = introspect(&mut api, caller, &issued.access_token).await;
        assert!(seen.active);
        assert_eq!(seen.sub, worker.client_id);
        assert_eq!(seen.client_id, worker.client_id);
        assert_eq!(seen.aud, vec![api_server.client_id.clone()]);
    }

    // Empty scope: the client's whole registered scope.
    let whole = exchange(&mut api, &worker, client_credentials("", &[]))
        .await
        .unwrap();
    assert_eq!(whole.scope, "jobs.read jobs.write");

    // Revocation works like any access token's.
    api.revoke(basic(
        RevokeRequest {
            token: issued.access_token.clone(),
            ..RevokeRequest::default()
        },
        &worker,
    ))
    .await
    .unwrap();
    assert!(!active(&mut api, &api_server, &issued.access_token).await);
    assert!(active(&mut api, &worker, &whole.access_token).await);
    server.stop().await;
}

#[tokio::test]
async fn client_credentials_refusals() {
    let server = TestServer::temporary().await;
    let worker = server.register("worker", "jobs.read").await;
    let mut api = server.client().await;

    assert_refused(
        exchange(&mut api, &worker, client_credentials("jobs.write", &[])).await,
        Code::InvalidArgument,
        "invalid_scope",
    );
    assert_refused(
        exchange(
            &mut api,
            &worker,
            client_credentials("", &["00112233445566778899aabbccddeeff"]),
        )
        .await,
        Code::InvalidArgument,
        "invalid_request",
    );
    let mut wrong = worker.clone();
    wrong.client_secret = server.register("other", "").await.client_secret;
    assert_refused(
        exchange(&mut api, &wrong, client_credentials("", &[])).await,
        Code::Unauthenticated,
        "invalid_client",
    );

    // A public client cannot use the grant: it has nothing to authenticate with.
    let public = server
        .try_register(RegisterRequest {
            client_name: "spa".to_owned(),
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            scope: "jobs.read".to_owned(),
            public_client: true,
        })
        .await
        .unwrap();
    let mut request = client_credentials("", &[]);
    request.client_id = public.client_id.clone();
    assert_refused(
        api.exchange(request).await,
        Code::PermissionDenied,
        "unauthorized_client",
    );
    server.stop().await;
}
