//! Client lifecycle (issue 15) against a real server: GetClient, ListClients, UpdateClient,
//! DeleteClient and RotateClientSecret over gRPC with their refusals; what deletion, narrowing
//! and rotation do to codes, refresh tokens and introspection; the RFC 7592-style HTTP routes;
//! and `tessera clients ...` through the real binary. The RPC tests run on both stores.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: a failure must fail the test"
)]

use std::process::Command;

use reqwest::StatusCode;
use tessera_proto::v1::{
    ClientMetadata, DeleteClientRequest, ExchangeRequest, GetClientRequest, ListClientsRequest,
    RegisterRequest, RegisterResponse, RotateClientSecretRequest, RotateClientSecretResponse,
    UpdateClientRequest,
};
use tessera_service::{Config, ManualClock};
use tessera_testkit::http::{Http, assert_error};
use tessera_testkit::server::*;
use tonic::{Code, Status};

async fn get(server: &TestServer, client_id: &str) -> Result<ClientMetadata, Status> {
    server
        .client()
        .await
        .get_client(server.operator(GetClientRequest {
            client_id: client_id.to_owned(),
        }))
        .await
        .map(|r| r.into_inner().client.unwrap())
}

fn update(client_id: &str, name: &str, redirect_uris: &[&str], scope: &str) -> UpdateClientRequest {
    UpdateClientRequest {
        client_id: client_id.to_owned(),
        client_name: name.to_owned(),
        redirect_uris: redirect_uris.iter().map(|&u| u.to_owned()).collect(),
        scope: scope.to_owned(),
    }
}

async fn try_update(
    server: &TestServer,
    request: UpdateClientRequest,
) -> Result<ClientMetadata, Status> {
    server
        .client()
        .await
        .update_client(server.operator(request))
        .await
        .map(|r| r.into_inner().client.unwrap())
}

async fn delete(server: &TestServer, client_id: &str) -> Result<(), Status> {
    server
        .client()
        .await
        .delete_client(server.operator(DeleteClientRequest {
            client_id: client_id.to_owned(),
        }))
        .await
        .map(|_| ())
}

async fn rotate(
    server: &TestServer,
    client_id: &str,
    grace_seconds: u64,
) -> Result<RotateClientSecretResponse, Status> {
    server
        .client()
        .await
        .rotate_client_secret(server.operator(RotateClientSecretRequest {
            client_id: client_id.to_owned(),
            grace_seconds,
        }))
        .await
        .map(tonic::Response::into_inner)
}

fn client_credentials() -> ExchangeRequest {
    ExchangeRequest {
        grant_type: "client_credentials".to_owned(),
        ..ExchangeRequest::default()
    }
}

/// `client` with another secret.
fn with_secret(client: &RegisterResponse, secret: &str) -> RegisterResponse {
    RegisterResponse {
        client_secret: secret.to_owned(),
        ..client.clone()
    }
}

/// A server on `on` (a new PostgreSQL database of the test kit's server, or redb in the data
/// directory) whose time is `clock`, and its data directory.
async fn start(on: On, clock: &ManualClock) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path());
    on.configure(&mut config);
    (
        TestServer::start_with_clock(config, clock.shared()).await,
        dir,
    )
}

/// Runs each test on both stores: `NAME::redb` and `NAME::postgres`.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn redb() {
                super::$name(super::On::Redb).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::On::Postgres).await;
            }
        }
    )*};
}

on_both_stores!(
    get_client_shows_rfc7591_metadata_and_list_clients_pages_in_id_order,
    client_rpcs_refuse_non_operators_unknown_and_malformed_clients,
    an_update_is_checked_as_a_registration_and_replaces_the_metadata,
    deleting_a_client_makes_its_tokens_inactive_at_once_and_its_codes_unredeemable,
    deleting_an_audience_client_leaves_the_holders_tokens_active,
    narrowing_scope_or_redirect_uris_applies_to_codes_and_refreshes_from_then_on,
    a_rotated_secret_replaces_the_old_one_at_once,
    a_rotated_secret_keeps_working_for_its_grace_period_only,
    tessera_clients_list_show_update_rotate_secret_and_delete,
    the_client_configuration_endpoint_reads_updates_and_deletes,
);

const UNKNOWN: &str = "00112233445566778899aabbccddeeff";

async fn get_client_shows_rfc7591_metadata_and_list_clients_pages_in_id_order(on: On) {
    let (server, _dir) = start(on, &ManualClock::starting_now()).await;
    let app = server.register("app", "read write").await;
    let public = server
        .try_register(RegisterRequest {
            client_name: "spa".to_owned(),
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            scope: "read".to_owned(),
            public_client: true,
        })
        .await
        .unwrap();
    let third = server.register("third", "").await;
    let got = get(&server, &app.client_id).await.unwrap();
    assert_eq!(got.client_id, app.client_id);
    assert_eq!(got.client_name, "app");
    assert_eq!(got.redirect_uris, [REDIRECT_URI]);
    assert_eq!(got.scope, "read write");
    assert_eq!(got.token_endpoint_auth_method, "client_secret_basic");
    assert_eq!(got.client_id_issued_at, app.client_id_issued_at);
    let spa = get(&server, &public.client_id).await.unwrap();
    assert_eq!(spa.token_endpoint_auth_method, "none");

    let mut sorted = [app.client_id, public.client_id, third.client_id];
    sorted.sort();
    let mut api = server.client().await;
    let list = |page_size, page_token: &str| {
        server.operator(ListClientsRequest {
            page_size,
            page_token: page_token.to_owned(),
        })
    };
    let first = api.list_clients(list(2, "")).await.unwrap().into_inner();
    let ids: Vec<_> = first.clients.iter().map(|c| c.client_id.clone()).collect();
    assert_eq!(ids, sorted[..2]);
    assert_eq!(first.next_page_token, sorted[1]);
    let second = api
        .list_clients(list(2, &first.next_page_token))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<_> = second.clients.iter().map(|c| c.client_id.clone()).collect();
    assert_eq!(ids, sorted[2..]);
    assert!(second.next_page_token.is_empty(), "the last page says so");
    // 0 is the default size, and a size past the cap is cut, not refused.
    let all = api.list_clients(list(0, "")).await.unwrap().into_inner();
    assert_eq!(all.clients.len(), 3);
    assert!(all.next_page_token.is_empty());
    assert_eq!(
        api.list_clients(list(u32::MAX, ""))
            .await
            .unwrap()
            .into_inner()
            .clients
            .len(),
        3
    );
    assert_refused(
        api.list_clients(list(2, "not-a-token")).await,
        Code::InvalidArgument,
        "invalid_request",
    );
    server.stop().await;
}

async fn client_rpcs_refuse_non_operators_unknown_and_malformed_clients(on: On) {
    let (server, _dir) = start(on, &ManualClock::starting_now()).await;
    let app = server.register("app", "read").await;
    let mut api = server.client().await;
    let get_as = |auth: Option<&str>, id: &str| {
        let message = GetClientRequest {
            client_id: id.to_owned(),
        };
        match auth {
            Some(auth) => with_auth(message, auth),
            None => tonic::Request::new(message),
        }
    };
    // No credential, a client's own Basic credentials, a wrong operator token.
    for auth in [None, Some("Bearer wrong")] {
        assert_refused(
            api.get_client(get_as(auth, &app.client_id)).await,
            Code::Unauthenticated,
            "invalid_client",
        );
    }
    let own = GetClientRequest {
        client_id: app.client_id.clone(),
    };
    assert_refused(
        api.get_client(basic(own, &app)).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    assert_refused(
        api.list_clients(basic(ListClientsRequest::default(), &app))
            .await,
        Code::Unauthenticated,
        "invalid_client",
    );
    assert_refused(
        api.update_client(basic(
            update(&app.client_id, "x", &[REDIRECT_URI], ""),
            &app,
        ))
        .await,
        Code::Unauthenticated,
        "invalid_client",
    );
    assert_refused(
        api.delete_client(basic(
            DeleteClientRequest {
                client_id: app.client_id.clone(),
            },
            &app,
        ))
        .await,
        Code::Unauthenticated,
        "invalid_client",
    );
    assert_refused(
        api.rotate_client_secret(basic(
            RotateClientSecretRequest {
                client_id: app.client_id.clone(),
                grace_seconds: 0,
            },
            &app,
        ))
        .await,
        Code::Unauthenticated,
        "invalid_client",
    );
    // Unknown: NOT_FOUND from every RPC; malformed: INVALID_ARGUMENT.
    assert_refused(get(&server, UNKNOWN).await, Code::NotFound, "not_found");
    assert_refused(
        try_update(&server, update(UNKNOWN, "x", &[REDIRECT_URI], "")).await,
        Code::NotFound,
        "not_found",
    );
    assert_refused(delete(&server, UNKNOWN).await, Code::NotFound, "not_found");
    assert_refused(
        rotate(&server, UNKNOWN, 0).await,
        Code::NotFound,
        "not_found",
    );
    assert_refused(
        get(&server, "nope").await,
        Code::InvalidArgument,
        "invalid_request",
    );
    // Still there, unchanged.
    assert_eq!(
        get(&server, &app.client_id).await.unwrap().client_name,
        "app"
    );
    server.stop().await;
}

async fn an_update_is_checked_as_a_registration_and_replaces_the_metadata(on: On) {
    let (server, _dir) = start(on, &ManualClock::starting_now()).await;
    let app = server.register("app", "read").await;
    let id = &app.client_id;
    let long = "n".repeat(129);
    for (request, oauth) in [
        (update(id, "", &[REDIRECT_URI], "read"), "invalid_request"),
        (
            update(id, &long, &[REDIRECT_URI], "read"),
            "invalid_request",
        ),
        (
            update(id, "a\nb", &[REDIRECT_URI], "read"),
            "invalid_request",
        ),
        (update(id, "app", &[], "read"), "invalid_request"),
        (
            update(id, "app", &["https://app.example/cb#frag"], "read"),
            "invalid_request",
        ),
        (
            update(id, "app", &["http://app.example/cb"], "read"),
            "invalid_request",
        ),
        (
            update(id, "app", &[REDIRECT_URI], "bad\"scope"),
            "invalid_scope",
        ),
    ] {
        assert_refused(
            try_update(&server, request).await,
            Code::InvalidArgument,
            oauth,
        );
    }
    let before = get(&server, id).await.unwrap();
    assert_eq!(
        before.client_name, "app",
        "a refused update changes nothing"
    );
    let updated = try_update(
        &server,
        update(
            id,
            "renamed",
            &["https://new.example/cb", REDIRECT_URI],
            "read write",
        ),
    )
    .await
    .unwrap();
    assert_eq!(updated.client_name, "renamed");
    assert_eq!(
        updated.redirect_uris,
        ["https://new.example/cb", REDIRECT_URI]
    );
    assert_eq!(updated.scope, "read write");
    assert_eq!(updated.client_id_issued_at, before.client_id_issued_at);
    assert_eq!(get(&server, id).await.unwrap(), updated);
    // The secret is untouched, and the wider scope is usable at once.
    let tokens = server.tokens(&app, "read write").await;
    assert_eq!(tokens.scope, "read write");
    server.stop().await;
}

async fn deleting_a_client_makes_its_tokens_inactive_at_once_and_its_codes_unredeemable(on: On) {
    let (server, _dir) = start(on, &ManualClock::starting_now()).await;
    let app = server.register("app", "read").await;
    let api_server = server.register("photo api", "").await;
    let mut api = server.client().await;
    let code = server
        .code(&app.client_id, "read", &[&api_server.client_id])
        .await;
    let tokens = exchange(&mut api, &app, code_exchange(&code))
        .await
        .unwrap();
    let unredeemed = server.code(&app.client_id, "read", &[]).await;
    assert!(active(&mut api, &api_server, &tokens.access_token).await);
    delete(&server, &app.client_id).await.unwrap();
    // The resource server sees the access token inactive at once.
    assert!(!active(&mut api, &api_server, &tokens.access_token).await);
    // The client is gone: its code, its refresh token and its own introspection are refused.
    assert_refused(
        exchange(&mut api, &app, code_exchange(&unredeemed)).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    assert_refused(
        exchange(&mut api, &app, refresh_exchange(&tokens.refresh_token, "")).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    assert_refused(
        try_introspect(&mut api, &app, &tokens.access_token).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    assert_refused(
        get(&server, &app.client_id).await,
        Code::NotFound,
        "not_found",
    );
    assert_refused(
        delete(&server, &app.client_id).await,
        Code::NotFound,
        "not_found",
    );
    // A code for it cannot be issued either.
    assert_refused(
        server
            .try_code(code_request(&app.client_id, "read", &[]))
            .await,
        Code::InvalidArgument,
        "invalid_request",
    );
    server.stop().await;
}

async fn deleting_an_audience_client_leaves_the_holders_tokens_active(on: On) {
    let (server, _dir) = start(on, &ManualClock::starting_now()).await;
    let app = server.register("app", "read").await;
    let api_server = server.register("photo api", "").await;
    let mut api = server.client().await;
    let code = server
        .code(&app.client_id, "read", &[&api_server.client_id])
        .await;
    let tokens = exchange(&mut api, &app, code_exchange(&code))
        .await
        .unwrap();
    delete(&server, &api_server.client_id).await.unwrap();
    assert!(active(&mut api, &app, &tokens.access_token).await);
    let refreshed = exchange(&mut api, &app, refresh_exchange(&tokens.refresh_token, ""))
        .await
        .unwrap();
    assert!(active(&mut api, &app, &refreshed.access_token).await);
    server.stop().await;
}

async fn narrowing_scope_or_redirect_uris_applies_to_codes_and_refreshes_from_then_on(on: On) {
    let (server, _dir) = start(on, &ManualClock::starting_now()).await;
    let app = server.register("app", "read write").await;
    let mut api = server.client().await;
    let wide = server.tokens(&app, "read write").await;
    let narrow = server.tokens(&app, "read").await;
    let wide_code = server.code(&app.client_id, "read write", &[]).await;
    let narrow_code = server.code(&app.client_id, "read", &[]).await;
    try_update(
        &server,
        update(&app.client_id, "app", &[REDIRECT_URI], "read"),
    )
    .await
    .unwrap();
    // A grant wider than the client's scope now: refused, even narrowed at the refresh.
    for scope in ["", "read"] {
        assert_refused(
            exchange(&mut api, &app, refresh_exchange(&wide.refresh_token, scope)).await,
            Code::PermissionDenied,
            "invalid_grant",
        );
    }
    assert_refused(
        exchange(&mut api, &app, code_exchange(&wide_code)).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    // Within it: still fine.
    exchange(&mut api, &app, refresh_exchange(&narrow.refresh_token, ""))
        .await
        .unwrap();
    let from_code = exchange(&mut api, &app, code_exchange(&narrow_code))
        .await
        .unwrap();
    assert_eq!(from_code.scope, "read");
    assert_refused(
        server
            .try_code(code_request(&app.client_id, "read write", &[]))
            .await,
        Code::InvalidArgument,
        "invalid_scope",
    );
    // A redirect URI removed: its codes are refused at the exchange.
    let code = server.code(&app.client_id, "read", &[]).await;
    try_update(
        &server,
        update(&app.client_id, "app", &["https://other.example/cb"], "read"),
    )
    .await
    .unwrap();
    assert_refused(
        exchange(&mut api, &app, code_exchange(&code)).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    server.stop().await;
}

async fn a_rotated_secret_replaces_the_old_one_at_once(on: On) {
    let (server, _dir) = start(on, &ManualClock::starting_now()).await;
    let app = server.register("app", "read").await;
    let mut api = server.client().await;
    let rotated = rotate(&server, &app.client_id, 0).await.unwrap();
    assert!(rotated.client_secret.starts_with("tsr_cs_"));
    assert_ne!(rotated.client_secret, app.client_secret);
    assert_eq!(rotated.client_secret_expires_at, 0);
    assert_refused(
        exchange(&mut api, &app, client_credentials()).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    let new = with_secret(&app, &rotated.client_secret);
    exchange(&mut api, &new, client_credentials())
        .await
        .unwrap();
    // The debug form never shows the secret.
    assert!(!format!("{rotated:?}").contains(&rotated.client_secret));
    server.stop().await;
}

async fn a_rotated_secret_keeps_working_for_its_grace_period_only(on: On) {
    let clock = ManualClock::starting_now();
    let (server, _dir) = start(on, &clock).await;
    let app = server.register("app", "read").await;
    let mut api = server.client().await;
    let rotated = rotate(&server, &app.client_id, 60).await.unwrap();
    let new = with_secret(&app, &rotated.client_secret);
    assert!(rotated.previous_secret_expires_at > 0);
    exchange(&mut api, &app, client_credentials())
        .await
        .unwrap();
    exchange(&mut api, &new, client_credentials())
        .await
        .unwrap();
    clock.advance(59);
    exchange(&mut api, &app, client_credentials())
        .await
        .unwrap();
    clock.advance(1);
    assert_refused(
        exchange(&mut api, &app, client_credentials()).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    exchange(&mut api, &new, client_credentials())
        .await
        .unwrap();
    // Another rotation during a grace period ends the older secret at once.
    let second = rotate(&server, &app.client_id, 600).await.unwrap();
    let third = rotate(&server, &app.client_id, 600).await.unwrap();
    assert_refused(
        exchange(&mut api, &new, client_credentials()).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    exchange(
        &mut api,
        &with_secret(&app, &second.client_secret),
        client_credentials(),
    )
    .await
    .unwrap();
    exchange(
        &mut api,
        &with_secret(&app, &third.client_secret),
        client_credentials(),
    )
    .await
    .unwrap();
    // Refusals: past 7 days, and a public client.
    assert_refused(
        rotate(&server, &app.client_id, 7 * 24 * 3600 + 1).await,
        Code::InvalidArgument,
        "invalid_request",
    );
    rotate(&server, &app.client_id, 7 * 24 * 3600)
        .await
        .unwrap();
    let public = server
        .try_register(RegisterRequest {
            client_name: "spa".to_owned(),
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            scope: "read".to_owned(),
            public_client: true,
        })
        .await
        .unwrap();
    assert_refused(
        rotate(&server, &public.client_id, 0).await,
        Code::InvalidArgument,
        "invalid_request",
    );
    server.stop().await;
}

async fn the_client_configuration_endpoint_reads_updates_and_deletes(on: On) {
    let server = TestServer::temporary_on(on).await;
    let app = server.register("app", "read").await;
    let http = Http::new(&server);
    let url = |id: &str| format!("{}/register/{id}", http.base);
    let bearer = format!("Bearer {}", server.operator);
    let send = |request: reqwest::RequestBuilder| async move {
        Http::answer(request.send().await.unwrap()).await
    };
    let read = send(
        http.client
            .get(url(&app.client_id))
            .header("authorization", &bearer),
    )
    .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["client_id"], app.client_id.as_str());
    assert_eq!(read.body["client_name"], "app");
    assert_eq!(read.body["redirect_uris"][0], REDIRECT_URI);
    assert_eq!(read.body["scope"], "read");
    assert_eq!(
        read.body["token_endpoint_auth_method"],
        "client_secret_basic"
    );
    assert_eq!(read.body["client_id_issued_at"], app.client_id_issued_at);
    assert!(read.body.get("client_secret").is_none(), "never the secret");
    assert_eq!(read.headers["cache-control"], "no-store");
    // Without the operator token: 401 with a Bearer challenge.
    let anonymous = send(http.client.get(url(&app.client_id))).await;
    assert_error(&anonymous, StatusCode::UNAUTHORIZED, "invalid_token");
    assert!(anonymous.headers.contains_key("www-authenticate"));
    let unknown = send(
        http.client
            .get(url(UNKNOWN))
            .header("authorization", &bearer),
    )
    .await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");

    let put = |body: serde_json::Value| {
        http.client
            .put(url(&app.client_id))
            .header("authorization", &bearer)
            .json(&body)
    };
    let updated = send(put(serde_json::json!({
        "client_id": app.client_id,
        "client_name": "renamed",
        "redirect_uris": [REDIRECT_URI],
        "scope": "read write",
        "token_endpoint_auth_method": "client_secret_basic",
    })))
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["client_name"], "renamed");
    assert_eq!(updated.body["scope"], "read write");
    assert_eq!(
        get(&server, &app.client_id).await.unwrap().client_name,
        "renamed"
    );
    let bad_uri = send(put(serde_json::json!({
        "client_name": "x", "redirect_uris": ["https://a.example/#f"], "scope": "",
    })))
    .await;
    assert_error(&bad_uri, StatusCode::BAD_REQUEST, "invalid_redirect_uri");
    let other_id = send(put(serde_json::json!({
        "client_id": UNKNOWN, "client_name": "x", "redirect_uris": [REDIRECT_URI],
    })))
    .await;
    assert_error(
        &other_id,
        StatusCode::BAD_REQUEST,
        "invalid_client_metadata",
    );
    let to_public = send(put(serde_json::json!({
        "client_name": "x", "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none",
    })))
    .await;
    assert_error(
        &to_public,
        StatusCode::BAD_REQUEST,
        "invalid_client_metadata",
    );
    let unknown_put = send(
        http.client
            .put(url(UNKNOWN))
            .header("authorization", &bearer)
            .json(&serde_json::json!({"client_name": "x", "redirect_uris": [REDIRECT_URI]})),
    )
    .await;
    assert_error(&unknown_put, StatusCode::NOT_FOUND, "not_found");

    let mut api = server.client().await;
    let tokens = server.tokens(&app, "read").await;
    let deleted = send(
        http.client
            .delete(url(&app.client_id))
            .header("authorization", &bearer),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.body.is_null());
    assert_refused(
        try_introspect(&mut api, &app, &tokens.access_token).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    let again = send(
        http.client
            .delete(url(&app.client_id))
            .header("authorization", &bearer),
    )
    .await;
    assert_error(&again, StatusCode::NOT_FOUND, "not_found");
    let post = send(
        http.client
            .post(url(UNKNOWN))
            .header("authorization", &bearer),
    )
    .await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    server.stop().await;
}

fn tessera(server: &TestServer, dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
    command
        .env_clear()
        .env("TESSERA_SERVER", format!("http://{}", server.addr))
        .env(
            "TESSERA_OPERATOR_TOKEN_FILE",
            dir.join("operator_token").as_os_str(),
        );
    command
}

fn run_json(command: &mut Command) -> serde_json::Value {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn tessera_clients_list_show_update_rotate_secret_and_delete(on: On) {
    let (server, dir) = start(on, &ManualClock::starting_now()).await;
    let app = server.register("app", "read").await;
    let other = server.register("other", "").await;
    let cli = |args: &[&str]| {
        let mut command = tessera(&server, dir.path());
        command.args(args);
        command
    };
    let id = app.client_id.as_str();
    let listed = run_json(&mut cli(&["clients", "list", "--json", "--page-size", "1"]));
    let mut ids: Vec<_> = listed["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap().to_owned())
        .collect();
    let mut expected = vec![app.client_id.clone(), other.client_id.clone()];
    expected.sort();
    assert_eq!(ids, expected, "every page, in id order");
    let text = cli(&["clients", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains(id));

    let shown = run_json(&mut cli(&["clients", "show", id, "--json"]));
    assert_eq!(shown["client_name"], "app");
    assert_eq!(shown["token_endpoint_auth_method"], "client_secret_basic");

    let updated = run_json(&mut cli(&[
        "clients",
        "update",
        id,
        "--scope",
        "read write",
        "--json",
    ]));
    assert_eq!(updated["scope"], "read write");
    assert_eq!(updated["client_name"], "app", "what is not given stays");
    assert_eq!(updated["redirect_uris"][0], REDIRECT_URI);
    let renamed = run_json(&mut cli(&[
        "clients",
        "update",
        id,
        "--name",
        "renamed",
        "--redirect-uri",
        "https://a.example/cb",
        "--redirect-uri",
        REDIRECT_URI,
        "--json",
    ]));
    assert_eq!(renamed["client_name"], "renamed");
    assert_eq!(renamed["redirect_uris"].as_array().unwrap().len(), 2);
    assert_eq!(renamed["scope"], "read write");
    let refused = cli(&["clients", "update", id, "--name", ""])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("invalid_request"));

    let rotated = run_json(&mut cli(&[
        "clients",
        "rotate-secret",
        id,
        "--grace",
        "0",
        "--json",
    ]));
    let secret = rotated["client_secret"].as_str().unwrap();
    let mut api = server.client().await;
    exchange(&mut api, &with_secret(&app, secret), client_credentials())
        .await
        .unwrap();
    assert_refused(
        exchange(&mut api, &app, client_credentials()).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    let graced = run_json(&mut cli(&[
        "clients",
        "rotate-secret",
        id,
        "--grace",
        "3600",
        "--json",
    ]));
    assert!(graced["previous_secret_expires_at"].as_i64().unwrap() > 0);
    exchange(&mut api, &with_secret(&app, secret), client_credentials())
        .await
        .unwrap();
    let text = cli(&["clients", "rotate-secret", id]).output().unwrap();
    assert!(text.status.success());
    assert!(String::from_utf8_lossy(&text.stdout).contains("client_secret: tsr_cs_"));

    let deleted = run_json(&mut cli(&["clients", "delete", id, "--json"]));
    assert_eq!(deleted["deleted"], true);
    let gone = cli(&["clients", "show", id]).output().unwrap();
    assert!(!gone.status.success());
    assert!(String::from_utf8_lossy(&gone.stderr).contains("not_found"));
    ids = run_json(&mut cli(&["clients", "list", "--json"]))["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [other.client_id]);
    server.stop().await;
}
