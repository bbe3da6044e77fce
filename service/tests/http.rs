//! The OAuth HTTP endpoints against the real server on 127.0.0.1:0, called with a real HTTP
//! client (reqwest): metadata (RFC 8414), the token endpoint's grants and client
//! authentication methods (RFC 6749 §2.3, §3.2, §5), introspection (RFC 7662), revocation
//! (RFC 7009), registration (RFC 7591), liveness (`/health`), and the framing errors (404, 405,
//! 413).

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, PRAGMA, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use tessera_testkit::http::*;
use tessera_testkit::server::*;

#[tokio::test]
async fn the_metadata_document_names_every_endpoint_and_capability() {
    let server = TestServer::temporary().await;
    let http = Http::new(&server);
    let doc = http.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(doc.status, StatusCode::OK);
    let issuer = server.issuer();
    let m = &doc.body;
    assert_eq!(m["issuer"], issuer);
    for (field, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("introspection_endpoint", "/introspect"),
        ("revocation_endpoint", "/revoke"),
        ("registration_endpoint", "/register"),
    ] {
        assert_eq!(m[field], format!("{issuer}{path}"), "{field}");
    }
    assert_eq!(m["response_types_supported"], json!(["code"]));
    assert_eq!(
        m["grant_types_supported"],
        json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        m["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(
        m["introspection_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
    assert_eq!(
        m["revocation_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
    server.stop().await;
}

#[tokio::test]
async fn the_code_grant_with_basic_and_post_authentication_then_refresh() {
    let server = TestServer::temporary().await;
    let http = Http::new(&server);
    let app = server.register("app", "read write").await;

    for auth in [Auth::Basic(&app), Auth::Post(&app)] {
        let code = server.code(&app.client_id, "read write", &[]).await;
        let mut fields = code_fields(&code);
        fields.push(("unknown_extra", "ignored")); // RFC 6749 §3.2
        let tokens = http.form("/token", auth, &fields).await;
        assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
        assert_eq!(tokens.headers[CACHE_CONTROL], "no-store");
        assert_eq!(tokens.headers[PRAGMA], "no-cache");
        let t = &tokens.body;
        assert!(t["access_token"].as_str().unwrap().starts_with("tsr_at_"));
        assert!(t["refresh_token"].as_str().unwrap().starts_with("tsr_rt_"));
        assert_eq!(t["token_type"], "Bearer");
        assert_eq!(t["expires_in"], 3600);
        assert_eq!(t["scope"], "read write");

        let refreshed = http
            .form(
                "/token",
                Auth::Basic(&app),
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", t["refresh_token"].as_str().unwrap()),
                    ("scope", "read"),
                ],
            )
            .await;
        assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
        assert_eq!(refreshed.body["scope"], "read");
        // The old refresh token again: reuse, and the family is revoked.
        let reused = http
            .form(
                "/token",
                Auth::Basic(&app),
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", t["refresh_token"].as_str().unwrap()),
                ],
            )
            .await;
        assert_error(&reused, StatusCode::BAD_REQUEST, "invalid_grant");
        let newest = refreshed.body["refresh_token"].as_str().unwrap();
        let after = http
            .form(
                "/token",
                Auth::Basic(&app),
                &[("grant_type", "refresh_token"), ("refresh_token", newest)],
            )
            .await;
        assert_error(&after, StatusCode::BAD_REQUEST, "invalid_grant");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_replayed_code_is_invalid_grant_and_revokes_its_tokens() {
    let server = TestServer::temporary().await;
    let http = Http::new(&server);
    let app = server.register("app", "read").await;
    let code = server.code(&app.client_id, "read", &[]).await;
    let first = http
        .form("/token", Auth::Basic(&app), &code_fields(&code))
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let access = first.body["access_token"].as_str().unwrap();
    let seen = http
        .form("/introspect", Auth::Basic(&app), &[("token", access)])
        .await;
    assert_eq!(seen.body["active"], true);

    let replay = http
        .form("/token", Auth::Basic(&app), &code_fields(&code))
        .await;
    assert_error(&replay, StatusCode::BAD_REQUEST, "invalid_grant");
    let seen = http
        .form("/introspect", Auth::Basic(&app), &[("token", access)])
        .await;
    assert_eq!(seen.body, json!({ "active": false }));
    server.stop().await;
}

#[tokio::test]
async fn client_authentication_failures_and_their_status_codes() {
    let server = TestServer::temporary().await;
    let http = Http::new(&server);
    let app = server.register("app", "read").await;
    let code = server.code(&app.client_id, "read", &[]).await;
    let fields = code_fields(&code);

    // A wrong secret in the header: 401 with the Basic challenge (RFC 6749 §5.2).
    let mut wrong = app.clone();
    wrong.client_secret = server.register("other", "").await.client_secret;
    let answer = http.form("/token", Auth::Basic(&wrong), &fields).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "invalid_client");
    assert_eq!(answer.headers[WWW_AUTHENTICATE], "Basic realm=\"tessera\"");
    let answer = http.form("/token", Auth::Post(&wrong), &fields).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "invalid_client");
    // No credentials for a confidential client.
    let answer = http.form("/token", Auth::None, &fields).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "invalid_client");
    // Two methods in one request.
    let answer = http.form("/token", Auth::Both(&app), &fields).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    // A repeated parameter (RFC 6749 §3.1).
    let mut twice = fields.clone();
    twice.push(("code", "again"));
    let answer = http.form("/token", Auth::Basic(&app), &twice).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    let answer = http
        .form("/token", Auth::Basic(&app), &[("grant_type", "password")])
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "unsupported_grant_type");
    // None of these spent the code.
    let tokens = http.form("/token", Auth::Basic(&app), &fields).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);

    // Introspection without credentials is 401; a public client cannot introspect.
    let answer = http
        .form("/introspect", Auth::None, &[("token", "x")])
        .await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "invalid_client");
    server.stop().await;
}

#[tokio::test]
async fn a_public_client_uses_none_and_client_credentials_is_for_confidential_ones() {
    let server = TestServer::temporary().await;
    let http = Http::new(&server);
    let token = server.operator.clone();
    let registered = reqwest::Client::new()
        .post(format!("{}/register", server.issuer()))
        .bearer_auth(&token)
        .json(&json!({
            "client_name": "spa",
            "redirect_uris": [REDIRECT_URI],
            "scope": "read",
            "token_endpoint_auth_method": "none",
            "logo_uri": "https://app.example/logo.png",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let spa: Value = registered.json().await.unwrap();
    assert!(spa.get("client_secret").is_none(), "{spa}");
    assert_eq!(spa["token_endpoint_auth_method"], "none");
    let spa_id = spa["client_id"].as_str().unwrap();

    let code = server.code(spa_id, "read", &[]).await;
    let mut fields = code_fields(&code);
    fields.push(("client_id", spa_id));
    let tokens = http.form("/token", Auth::None, &fields).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    let answer = http
        .form(
            "/token",
            Auth::None,
            &[("grant_type", "client_credentials"), ("client_id", spa_id)],
        )
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "unauthorized_client");
    // Revocation by a public client naming itself; an unknown token is 200 too.
    let revoked = http
        .form(
            "/revoke",
            Auth::None,
            &[
                ("token", tokens.body["refresh_token"].as_str().unwrap()),
                ("client_id", spa_id),
            ],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    let unknown = http
        .form(
            "/revoke",
            Auth::None,
            &[("token", "tsr_at_nonsense"), ("client_id", spa_id)],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::OK);

    let worker = server.register("worker", "jobs").await;
    let api = server.register("api", "").await;
    let issued = http
        .form(
            "/token",
            Auth::Post(&worker),
            &[
                ("grant_type", "client_credentials"),
                ("resource", &api.client_id),
            ],
        )
        .await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    assert!(issued.body.get("refresh_token").is_none());
    assert_eq!(issued.body["scope"], "jobs");
    let seen = http
        .form(
            "/introspect",
            Auth::Basic(&api),
            &[("token", issued.body["access_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(seen.body["active"], true);
    assert_eq!(seen.body["sub"], worker.client_id);
    assert_eq!(seen.body["aud"], json!([api.client_id]));
    assert_eq!(seen.body["iss"], server.issuer());
    assert_eq!(seen.body["token_type"], "Bearer");
    server.stop().await;
}

#[tokio::test]
async fn a_token_from_one_transport_introspects_on_the_other() {
    let server = TestServer::temporary().await;
    let http = Http::new(&server);
    let app = server.register("app", "read").await;
    let mut api = server.client().await;

    // HTTP-issued, gRPC-introspected.
    let code = server.code(&app.client_id, "read", &[]).await;
    let over_http = http
        .form("/token", Auth::Basic(&app), &code_fields(&code))
        .await;
    let access = over_http.body["access_token"].as_str().unwrap();
    let seen = introspect(&mut api, &app, access).await;
    assert!(seen.active);
    assert_eq!(seen.scope, "read");
    // gRPC-issued, HTTP-introspected, HTTP-revoked, gRPC sees it revoked.
    let over_grpc = server.tokens(&app, "read").await;
    let seen = http
        .form(
            "/introspect",
            Auth::Basic(&app),
            &[("token", &over_grpc.access_token)],
        )
        .await;
    assert_eq!(seen.body["active"], true);
    assert_eq!(seen.body["jti"].as_str().unwrap().len(), 32);
    let revoked = http
        .form(
            "/revoke",
            Auth::Basic(&app),
            &[
                ("token", &over_grpc.access_token),
                ("token_type_hint", "access_token"),
            ],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert!(!active(&mut api, &app, &over_grpc.access_token).await);
    server.stop().await;
}

#[tokio::test]
async fn registration_needs_the_operator_token_and_names_rfc_7591_errors() {
    let server = TestServer::temporary().await;
    let url = format!("{}/register", server.issuer());
    let client = reqwest::Client::new();
    let metadata =
        json!({ "client_name": "app", "redirect_uris": [REDIRECT_URI], "scope": "read" });

    for token in [None, Some("tsr_op_wrong")] {
        let mut request = client.post(&url).json(&metadata);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let answer = Http::answer(request.send().await.unwrap()).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "invalid_token");
        assert!(
            answer.headers[WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
    }
    let send = |body: Value| {
        client
            .post(&url)
            .bearer_auth(&server.operator)
            .json(&body)
            .send()
    };
    let created = Http::answer(send(metadata.clone()).await.unwrap()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let c = &created.body;
    assert!(c["client_secret"].as_str().unwrap().starts_with("tsr_cs_"));
    assert_eq!(c["client_secret_expires_at"], 0);
    assert!(c["client_id_issued_at"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(c["redirect_uris"], json!([REDIRECT_URI]));
    assert_eq!(c["token_endpoint_auth_method"], "client_secret_basic");

    for (body, error) in [
        (
            json!({ "client_name": "app", "redirect_uris": ["http://evil.example/cb"] }),
            "invalid_redirect_uri",
        ),
        (
            json!({ "client_name": "app", "redirect_uris": [] }),
            "invalid_redirect_uri",
        ),
        (
            json!({ "client_name": "", "redirect_uris": [REDIRECT_URI] }),
            "invalid_client_metadata",
        ),
        (
            json!({ "client_name": "app", "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "private_key_jwt" }),
            "invalid_client_metadata",
        ),
        (
            json!({ "client_name": "app", "redirect_uris": [REDIRECT_URI], "scope": "bad\u{1}" }),
            "invalid_client_metadata",
        ),
        (json!(["not", "an", "object"]), "invalid_client_metadata"),
    ] {
        let answer = Http::answer(send(body.clone()).await.unwrap()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, error);
    }
    server.stop().await;
}

#[tokio::test]
async fn unknown_paths_wrong_methods_large_bodies_and_wrong_media_types() {
    let server = TestServer::temporary().await;
    let http = Http::new(&server);
    let answer = http.get("/nowhere").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(answer.body["error"].is_string());
    let answer = http.get("/token").await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.headers["allow"], "POST");
    assert!(answer.body["error"].is_string());

    let big = "a".repeat(17 * 1024);
    let answer = http.form("/token", Auth::None, &[("code", &big)]).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.body["error"], "invalid_request");

    let answer = Http::answer(
        http.client
            .post(format!("{}/token", http.base))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    server.stop().await;
}

#[tokio::test]
async fn health_is_a_tiny_uncached_200_and_only_for_get() {
    let server = TestServer::temporary().await;
    let http = Http::new(&server);
    let answer = http
        .client
        .get(format!("{}/health", http.base))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(
        answer.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(answer.text().await.unwrap(), "ok\n");

    let answer = Http::answer(
        http.client
            .post(format!("{}/health", http.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.headers["allow"], "GET");
    server.stop().await;
}
