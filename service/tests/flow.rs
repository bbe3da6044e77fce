//! The authorization-code flow end to end, single use under concurrency, replay revocation,
//! refresh rotation and reuse, introspection access control and revocation.

use tessera_proto::v1::{IntrospectRequest, RegisterRequest, RevokeRequest};
use tessera_testkit::server::*;
use tonic::Code;

#[tokio::test]
async fn full_flow_with_audience_introspection() {
    let server = TestServer::temporary().await;
    let app = server.register("app", "read write profile").await;
    assert!(app.client_secret.starts_with("tsr_cs_"));
    assert_eq!(app.client_id.len(), 32);
    let resource = server.register("api", "").await;
    let stranger = server.register("stranger", "").await;

    let code = server
        .code(&app.client_id, "read profile", &[&resource.client_id])
        .await;
    assert!(code.starts_with("tsr_ac_"));
    let mut api = server.client().await;
    let tokens = exchange(&mut api, &app, code_exchange(&code))
        .await
        .unwrap();
    assert!(tokens.access_token.starts_with("tsr_at_"));
    assert!(tokens.refresh_token.starts_with("tsr_rt_"));
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.scope, "read profile");
    assert_eq!(tokens.expires_in, 3600);

    for caller in [&app, &resource] {
        let seen = introspect(&mut api, caller, &tokens.access_token).await;
        assert!(seen.active);
        assert_eq!(seen.sub, "alice");
        assert_eq!(seen.scope, "read profile");
        assert_eq!(seen.client_id, app.client_id);
        assert_eq!(seen.aud, vec![resource.client_id.clone()]);
        assert_eq!(seen.iss, server.issuer());
        assert_eq!(seen.jti.len(), 32);
        assert_eq!(seen.exp - seen.iat, 3600);
    }
    // Wrong audience: a valid client, but the token is not meant for it (RFC 7662 §4).
    let seen = introspect(&mut api, &stranger, &tokens.access_token).await;
    assert_eq!(seen, Default::default());
    // Forged and garbage tokens are inactive, never errors.
    let mut forged = tokens.access_token.clone().into_bytes();
    forged[20] ^= 1;
    let seen = introspect(&mut api, &app, core::str::from_utf8(&forged).unwrap()).await;
    assert_eq!(seen, Default::default());
    assert_eq!(
        introspect(&mut api, &app, "nonsense").await,
        Default::default()
    );
    server.stop().await;
}

#[tokio::test]
async fn public_client_flow_uses_pkce_without_a_secret() {
    let server = TestServer::temporary().await;
    let app = server
        .try_register(RegisterRequest {
            client_name: "spa".to_owned(),
            redirect_uris: vec!["http://127.0.0.1:8080/cb".to_owned()],
            scope: "read".to_owned(),
            public_client: true,
        })
        .await
        .unwrap();
    assert!(app.client_secret.is_empty());
    let mut request = code_request(&app.client_id, "read", &[]);
    request.redirect_uri = "http://127.0.0.1:8080/cb".to_owned();
    let code = server.try_code(request).await.unwrap();
    let mut api = server.client().await;
    let mut exchange = code_exchange(&code);
    exchange.redirect_uri = "http://127.0.0.1:8080/cb".to_owned();
    exchange.client_id = app.client_id.clone();
    let mut wrong_verifier = exchange.clone();
    wrong_verifier.code_verifier = "x".repeat(43);
    assert_refused(
        api.exchange(wrong_verifier).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    let tokens = api.exchange(exchange).await.unwrap().into_inner();
    assert!(tokens.access_token.starts_with("tsr_at_"));
    // A public client cannot authenticate, so it cannot introspect.
    assert_refused(
        api.introspect(IntrospectRequest {
            token: tokens.access_token.clone(),
            token_type_hint: String::new(),
        })
        .await,
        Code::Unauthenticated,
        "invalid_client",
    );
    // It can revoke its own refresh token with its id alone (RFC 7009 §2.1).
    api.revoke(RevokeRequest {
        token: tokens.refresh_token.clone(),
        token_type_hint: "refresh_token".to_owned(),
        client_id: app.client_id.clone(),
    })
    .await
    .unwrap();
    let mut refresh = refresh_exchange(&tokens.refresh_token, "");
    refresh.client_id = app.client_id.clone();
    assert_refused(
        api.exchange(refresh).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    server.stop().await;
}

#[tokio::test]
async fn of_64_concurrent_exchanges_of_one_code_exactly_one_wins() {
    let server = TestServer::temporary().await;
    let app = server.register("app", "read").await;
    let code = server.code(&app.client_id, "read", &[]).await;
    let channel = server.channel().await;
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let mut api =
            tessera_proto::v1::token_service_client::TokenServiceClient::new(channel.clone());
        let app = app.clone();
        let code = code.clone();
        tasks.push(tokio::spawn(async move {
            exchange(&mut api, &app, code_exchange(&code)).await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => winners += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::PermissionDenied);
                assert_eq!(
                    status.message(),
                    "invalid_grant: code was already used; the tokens issued from it are revoked"
                );
            }
        }
    }
    assert_eq!(winners, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_what_it_issued() {
    let server = TestServer::temporary().await;
    let app = server.register("app", "read").await;
    let code = server.code(&app.client_id, "read", &[]).await;
    let mut api = server.client().await;
    let tokens = exchange(&mut api, &app, code_exchange(&code))
        .await
        .unwrap();
    assert!(active(&mut api, &app, &tokens.access_token).await);
    assert!(active(&mut api, &app, &tokens.refresh_token).await);

    assert_refused(
        exchange(&mut api, &app, code_exchange(&code)).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    assert!(!active(&mut api, &app, &tokens.access_token).await);
    assert!(!active(&mut api, &app, &tokens.refresh_token).await);
    assert_refused(
        exchange(&mut api, &app, refresh_exchange(&tokens.refresh_token, "")).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    server.stop().await;
}

#[tokio::test]
async fn refresh_rotates_narrows_and_reuse_revokes_the_family() {
    let server = TestServer::temporary().await;
    let app = server.register("app", "read write").await;
    let mut api = server.client().await;
    let first = server.tokens(&app, "read write").await;

    // Widening is refused, and does not spend the refresh token.
    assert_refused(
        exchange(
            &mut api,
            &app,
            refresh_exchange(&first.refresh_token, "read admin"),
        )
        .await,
        Code::InvalidArgument,
        "invalid_scope",
    );
    let second = exchange(
        &mut api,
        &app,
        refresh_exchange(&first.refresh_token, "read"),
    )
    .await
    .unwrap();
    assert_eq!(second.scope, "read");
    assert_ne!(second.refresh_token, first.refresh_token);
    // Only the newest refresh token of a family is active.
    assert!(!active(&mut api, &app, &first.refresh_token).await);
    let newest = introspect(&mut api, &app, &second.refresh_token).await;
    assert!(newest.active);
    assert_eq!(newest.token_type, "refresh_token");
    assert_eq!(newest.scope, "read write");
    assert_eq!(
        introspect(&mut api, &app, &second.access_token).await.scope,
        "read"
    );
    // The rotated refresh token keeps the full grant.
    let third = exchange(&mut api, &app, refresh_exchange(&second.refresh_token, ""))
        .await
        .unwrap();
    assert_eq!(third.scope, "read write");

    // Reuse of an old generation: refused, and the whole family is revoked.
    assert_refused(
        exchange(&mut api, &app, refresh_exchange(&first.refresh_token, "")).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    for token in [
        &first.access_token,
        &second.access_token,
        &third.access_token,
    ] {
        assert!(!active(&mut api, &app, token).await);
    }
    assert_refused(
        exchange(&mut api, &app, refresh_exchange(&third.refresh_token, "")).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    server.stop().await;
}

#[tokio::test]
async fn another_client_cannot_use_or_revoke_a_grant() {
    let server = TestServer::temporary().await;
    let app = server.register("app", "read").await;
    let other = server.register("other", "read").await;
    let code = server.code(&app.client_id, "read", &[]).await;
    let mut api = server.client().await;
    assert_refused(
        exchange(&mut api, &other, code_exchange(&code)).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    // The failed attempt did not spend the code.
    let tokens = exchange(&mut api, &app, code_exchange(&code))
        .await
        .unwrap();
    assert_refused(
        exchange(
            &mut api,
            &other,
            refresh_exchange(&tokens.refresh_token, ""),
        )
        .await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    assert_refused(
        api.revoke(basic(
            RevokeRequest {
                token: tokens.access_token.clone(),
                ..RevokeRequest::default()
            },
            &other,
        ))
        .await,
        Code::PermissionDenied,
        "unauthorized_client",
    );
    assert!(active(&mut api, &app, &tokens.access_token).await);
    server.stop().await;
}

#[tokio::test]
async fn revocation_of_access_and_refresh_tokens() {
    let server = TestServer::temporary().await;
    let app = server.register("app", "read").await;
    let mut api = server.client().await;
    let revoke = |token: &str| {
        basic(
            RevokeRequest {
                token: token.to_owned(),
                ..RevokeRequest::default()
            },
            &app,
        )
    };

    // Unknown and invalid tokens: success, nothing learned (RFC 7009 §2.2).
    api.revoke(revoke("tsr_at_unknown")).await.unwrap();
    api.revoke(revoke("")).await.unwrap();

    // An access token alone.
    let one = server.tokens(&app, "read").await;
    api.revoke(revoke(&one.access_token)).await.unwrap();
    assert!(!active(&mut api, &app, &one.access_token).await);
    let rotated = exchange(&mut api, &app, refresh_exchange(&one.refresh_token, ""))
        .await
        .unwrap();
    assert!(active(&mut api, &app, &rotated.access_token).await);

    // A refresh token takes its whole grant with it.
    api.revoke(revoke(&rotated.refresh_token)).await.unwrap();
    assert!(!active(&mut api, &app, &rotated.access_token).await);
    assert_refused(
        exchange(&mut api, &app, refresh_exchange(&rotated.refresh_token, "")).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    server.stop().await;
}
