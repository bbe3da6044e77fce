//! The transport around the API: request size limits, gRPC health and reflection.

use tessera_proto::v1::IntrospectRequest;
use tessera_testkit::server::*;
use tonic::Code;

fn assert_too_large(status: &tonic::Status) {
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(status.message(), tessera_service::limit::TOO_LARGE);
}

#[tokio::test]
async fn a_10_mb_token_is_refused_and_the_server_keeps_serving() {
    let server = TestServer::temporary().await;
    let app = server.register("app", "read").await;
    let mut api = server.client().await;
    let huge = IntrospectRequest {
        token: "a".repeat(10 * 1024 * 1024),
        token_type_hint: String::new(),
    };
    let status = api.introspect(basic(huge, &app)).await.unwrap_err();
    assert_too_large(&status);
    // The limit is ours (16 KiB), not tonic's default (4 MiB).
    let over = IntrospectRequest {
        token: "a".repeat(100 * 1024),
        token_type_hint: String::new(),
    };
    let status = api.introspect(basic(over, &app)).await.unwrap_err();
    assert_too_large(&status);
    // Just under the limit is still decoded (and is merely an inactive token).
    let big = IntrospectRequest {
        token: "a".repeat(15 * 1024),
        token_type_hint: String::new(),
    };
    assert!(
        !api.introspect(basic(big, &app))
            .await
            .unwrap()
            .into_inner()
            .active
    );
    server.stop().await;
}

#[tokio::test]
async fn health_reports_serving() {
    let server = TestServer::temporary().await;
    server.assert_serving().await;
    server.stop().await;
}

#[tokio::test]
async fn reflection_v1_and_v1alpha_list_the_token_service() {
    use tonic_reflection::pb::{v1, v1alpha};
    let server = TestServer::temporary().await;

    let mut client =
        v1::server_reflection_client::ServerReflectionClient::new(server.channel().await);
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut answers = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.message().await.unwrap().unwrap();
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        answer.message_response
    else {
        panic!("not a service list");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"tessera.v1.TokenService".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );

    let mut client =
        v1alpha::server_reflection_client::ServerReflectionClient::new(server.channel().await);
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut answers = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.message().await.unwrap().unwrap();
    let Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        answer.message_response
    else {
        panic!("not a service list");
    };
    assert!(
        list.service
            .iter()
            .any(|s| s.name == "tessera.v1.TokenService")
    );
    server.stop().await;
}
