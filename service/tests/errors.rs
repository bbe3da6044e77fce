//! Every refusal of the contract, with its gRPC code and RFC 6749 §5.2 error code.

use tessera_proto::v1::{
    ExchangeRequest, IntrospectRequest, IssueCodeRequest, RegisterRequest, RevokeRequest,
};
use tessera_service::{Config, ManualClock};
use tessera_testkit::server::*;
use tonic::{Code, Request};

/// A change to a valid request.
type Change = Box<dyn Fn(&mut IssueCodeRequest)>;

fn register_request(redirect_uri: &str, scope: &str) -> RegisterRequest {
    RegisterRequest {
        client_name: "app".to_owned(),
        redirect_uris: vec![redirect_uri.to_owned()],
        scope: scope.to_owned(),
        public_client: false,
    }
}

#[tokio::test]
async fn operator_rpcs_need_the_operator_token() {
    let server = TestServer::temporary().await;
    let mut api = server.client().await;
    let request = register_request(REDIRECT_URI, "read");
    assert_refused(
        api.register(request.clone()).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    assert_refused(
        api.register(with_auth(request.clone(), "Bearer tsr_op_wrong"))
            .await,
        Code::Unauthenticated,
        "invalid_client",
    );
    let app = server.register("app", "read").await;
    // A client's own credentials are not the operator's.
    assert_refused(
        api.register(basic(request, &app)).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    assert_refused(
        api.issue_code(basic(code_request(&app.client_id, "read", &[]), &app))
            .await,
        Code::Unauthenticated,
        "invalid_client",
    );
    server.stop().await;
}

#[tokio::test]
async fn register_validates_its_input() {
    let server = TestServer::temporary().await;
    for uri in [
        "http://app.example/cb",
        "https://app.example/cb#fragment",
        "/relative",
        "https://app.example/a b",
    ] {
        assert_refused(
            server.try_register(register_request(uri, "read")).await,
            Code::InvalidArgument,
            "invalid_request",
        );
    }
    assert_refused(
        server
            .try_register(register_request(REDIRECT_URI, "read  write"))
            .await,
        Code::InvalidArgument,
        "invalid_scope",
    );
    let mut no_uris = register_request(REDIRECT_URI, "read");
    no_uris.redirect_uris.clear();
    assert_refused(
        server.try_register(no_uris).await,
        Code::InvalidArgument,
        "invalid_request",
    );
    let mut no_name = register_request(REDIRECT_URI, "read");
    no_name.client_name.clear();
    assert_refused(
        server.try_register(no_name).await,
        Code::InvalidArgument,
        "invalid_request",
    );
    server.stop().await;
}

#[tokio::test]
async fn issue_code_validates_client_uri_scope_and_pkce() {
    let server = TestServer::temporary().await;
    let app = server.register("app", "read").await;
    let good = code_request(&app.client_id, "read", &[]);
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "unknown client",
            Box::new(|r| r.client_id = "00112233445566778899aabbccddeeff".to_owned()),
            "invalid_request",
        ),
        (
            "malformed client",
            Box::new(|r| r.client_id = "app".to_owned()),
            "invalid_request",
        ),
        (
            "unregistered redirect",
            Box::new(|r| r.redirect_uri = "https://app.example/other".to_owned()),
            "invalid_request",
        ),
        (
            "wider scope",
            Box::new(|r| r.scope = "read admin".to_owned()),
            "invalid_scope",
        ),
        (
            "plain method",
            Box::new(|r| r.code_challenge_method = "plain".to_owned()),
            "invalid_request",
        ),
        (
            "no method",
            Box::new(|r| r.code_challenge_method.clear()),
            "invalid_request",
        ),
        (
            "no challenge",
            Box::new(|r| r.code_challenge.clear()),
            "invalid_request",
        ),
        (
            "short challenge",
            Box::new(|r| r.code_challenge.truncate(42)),
            "invalid_request",
        ),
        (
            "no subject",
            Box::new(|r| r.subject.clear()),
            "invalid_request",
        ),
        (
            "bad audience",
            Box::new(|r| r.audience = vec!["api".to_owned()]),
            "invalid_request",
        ),
        (
            "unregistered audience",
            Box::new(|r| r.audience = vec!["00112233445566778899aabbccddeeff".to_owned()]),
            "invalid_request",
        ),
        (
            "too many audiences",
            Box::new(|r| r.audience = vec!["00112233445566778899aabbccddeeff".to_owned(); 5]),
            "invalid_request",
        ),
    ];
    for (name, change, oauth) in cases {
        let mut request = good.clone();
        change(&mut request);
        let status = server.try_code(request).await.unwrap_err();
        assert!(
            status.message().starts_with(oauth),
            "{name}: {}",
            status.message()
        );
        let expected = if oauth == "invalid_scope" || oauth == "invalid_request" {
            Code::InvalidArgument
        } else {
            Code::PermissionDenied
        };
        assert_eq!(status.code(), expected, "{name}");
    }
    server.try_code(good).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn exchange_refusals() {
    let server = TestServer::temporary().await;
    let app = server.register("app", "read").await;
    let mut api = server.client().await;
    let code = server.code(&app.client_id, "read", &[]).await;
    let request = code_exchange(&code);

    // Client authentication.
    assert_refused(
        api.exchange(request.clone()).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    let mut wrong = app.clone();
    wrong.client_secret = server.register("other", "").await.client_secret;
    assert_refused(
        exchange(&mut api, &wrong, request.clone()).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    assert_refused(
        api.exchange(with_auth(request.clone(), "Basic not-base64!"))
            .await,
        Code::Unauthenticated,
        "invalid_client",
    );
    // A confidential client cannot pass as public.
    let mut as_public = request.clone();
    as_public.client_id = app.client_id.clone();
    assert_refused(
        api.exchange(as_public).await,
        Code::Unauthenticated,
        "invalid_client",
    );

    // Request shape.
    let with = |f: &dyn Fn(&mut ExchangeRequest)| {
        let mut r = request.clone();
        f(&mut r);
        r
    };
    let shape_cases: [(ExchangeRequest, Code, &str); 5] = [
        (
            with(&|r| r.grant_type = "password".to_owned()),
            Code::InvalidArgument,
            "unsupported_grant_type",
        ),
        (
            with(&|r| r.grant_type.clear()),
            Code::InvalidArgument,
            "invalid_request",
        ),
        (
            with(&|r| r.code.clear()),
            Code::InvalidArgument,
            "invalid_request",
        ),
        (
            with(&|r| r.code_verifier.clear()),
            Code::InvalidArgument,
            "invalid_request",
        ),
        (
            with(&|r| r.code_verifier = "short".to_owned()),
            Code::InvalidArgument,
            "invalid_request",
        ),
    ];
    for (r, code, oauth) in shape_cases {
        assert_refused(exchange(&mut api, &app, r).await, code, oauth);
    }

    // The grant itself.
    let grant_cases = [
        with(&|r| r.code_verifier = "a".repeat(43)),
        with(&|r| r.redirect_uri = "https://app.example/other".to_owned()),
        with(&|r| r.code = "tsr_ac_forged".to_owned()),
        with(&|r| {
            // Alter one character in the middle of the body.
            let i = r.code.len() / 2;
            let flipped = if &r.code[i..=i] == "A" { "B" } else { "A" };
            r.code.replace_range(i..=i, flipped);
        }),
    ];
    for r in grant_cases {
        assert_refused(
            exchange(&mut api, &app, r).await,
            Code::PermissionDenied,
            "invalid_grant",
        );
    }
    // None of those spent the code.
    let tokens = exchange(&mut api, &app, request).await.unwrap();
    // A token of another kind is not a code.
    assert_refused(
        exchange(&mut api, &app, code_exchange(&tokens.access_token)).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    assert_refused(
        exchange(&mut api, &app, refresh_exchange(&tokens.access_token, "")).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    assert_refused(
        exchange(&mut api, &app, refresh_exchange("", "")).await,
        Code::InvalidArgument,
        "invalid_request",
    );
    assert_refused(
        exchange(
            &mut api,
            &app,
            refresh_exchange(&tokens.refresh_token, "read  x"),
        )
        .await,
        Code::InvalidArgument,
        "invalid_scope",
    );
    server.stop().await;
}

#[tokio::test]
async fn an_expired_code_is_an_invalid_grant() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path());
    config.code_lifetime = 1;
    let clock = ManualClock::starting_now();
    let server = TestServer::start_with_clock(config, clock.shared()).await;
    let app = server.register("app", "read").await;
    let code = server.code(&app.client_id, "read", &[]).await;
    clock.advance(2);
    let mut api = server.client().await;
    assert_refused(
        exchange(&mut api, &app, code_exchange(&code)).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    server.stop().await;
}

#[tokio::test]
async fn introspection_and_revocation_need_client_credentials() {
    let server = TestServer::temporary().await;
    let app = server.register("app", "read").await;
    let mut api = server.client().await;
    let tokens = server.tokens(&app, "read").await;
    let request = IntrospectRequest {
        token: tokens.access_token.clone(),
        token_type_hint: String::new(),
    };
    assert_refused(
        api.introspect(request.clone()).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    let mut wrong = app.clone();
    wrong.client_secret = server.register("other", "").await.client_secret;
    assert_refused(
        api.introspect(basic(request.clone(), &wrong)).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    assert_refused(
        api.introspect(with_auth(request, &format!("Bearer {}", server.operator)))
            .await,
        Code::Unauthenticated,
        "invalid_client",
    );
    assert_refused(
        api.revoke(Request::new(RevokeRequest {
            token: tokens.access_token.clone(),
            ..RevokeRequest::default()
        }))
        .await,
        Code::Unauthenticated,
        "invalid_client",
    );
    // Nothing was revoked by the refused calls.
    assert!(active(&mut api, &app, &tokens.access_token).await);
    server.stop().await;
}

#[tokio::test]
async fn refusals_name_the_limit_or_what_to_do() {
    let server = TestServer::temporary().await;
    let refused = |result: Result<_, tonic::Status>| result.unwrap_err().message().to_owned();
    let mut many = register_request(REDIRECT_URI, "read");
    many.redirect_uris = (0..17).map(|i| format!("{REDIRECT_URI}/{i}")).collect();
    let mut long = register_request(REDIRECT_URI, "read");
    long.client_name = "n".repeat(129);
    let mut control = register_request(REDIRECT_URI, "read");
    control.client_name = "a\nb".to_owned();
    for (request, expected) in [
        (many, "invalid_request: redirect_uris: too many, at most 16"),
        (
            long,
            "invalid_request: client_name is longer than 128 bytes",
        ),
        (
            control,
            "invalid_request: client_name has control characters",
        ),
        (
            register_request("http://app.example/cb", "read"),
            "invalid_request: redirect_uris: an entry is not a redirect URI a client may register",
        ),
    ] {
        let message = refused(server.try_register(request).await);
        assert!(message.starts_with(expected), "{message}");
    }
    let mut api = server.client().await;
    let message = api
        .introspect(IntrospectRequest::default())
        .await
        .unwrap_err()
        .message()
        .to_owned();
    assert!(
        message.starts_with("invalid_client: ")
            && message.contains("public clients cannot introspect"),
        "{message}"
    );
    server.stop().await;
}
