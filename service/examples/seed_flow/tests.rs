//! The demo without a browser: the photo API's refusals, and the whole flow over plain
//! HTTP (flow.mjs walks it in Chromium).

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE, WWW_AUTHENTICATE};
use tessera_testkit::server::{REDIRECT_URI, code_exchange, code_request, exchange};

use super::*;

fn operator(demo: &Demo) -> String {
    let path = demo.dir.path().join("operator_token");
    std::fs::read_to_string(path).unwrap().trim().to_owned()
}

/// A token for a client of its own with `scope`, for `audience`.
async fn token(demo: &Demo, scope: &str, audience: &[&str]) -> String {
    let mut api = TokenServiceClient::connect(format!("http://{}", demo.grpc))
        .await
        .unwrap();
    let request = RegisterRequest {
        client_name: "Another app".to_owned(),
        redirect_uris: vec![REDIRECT_URI.to_owned()],
        scope: "photos.read profile".to_owned(),
        public_client: false,
    };
    let client = api
        .register(with_operator(request, &operator(demo)).unwrap())
        .await
        .unwrap()
        .into_inner();
    let code = code_request(&client.client_id, scope, audience);
    let code = api
        .issue_code(with_operator(code, &operator(demo)).unwrap())
        .await
        .unwrap()
        .into_inner()
        .code;
    exchange(&mut api, &client, code_exchange(&code))
        .await
        .unwrap()
        .access_token
}

#[tokio::test]
async fn the_photo_api_serves_only_tokens_for_it_with_its_scope() {
    let demo = Demo::start().await.unwrap();
    let photos = format!("http://{}/photos", demo.api);
    let http = reqwest::Client::new();
    let get = |token: Option<String>| {
        let request = http.get(&photos);
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        async move { request.send().await.unwrap() }
    };
    let challenge = |answer: &reqwest::Response| {
        answer.headers()[WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .to_owned()
    };

    let answer = get(None).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&answer), r#"Bearer realm="photos""#);
    let invalid = r#"Bearer realm="photos", error="invalid_token""#;
    for token in [
        "tsr_at_forged".to_owned(),
        // Active, but for no API: the photo API is not its audience.
        token(&demo, "photos.read", &[]).await,
    ] {
        let answer = get(Some(token)).await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(challenge(&answer), invalid);
    }
    let answer = get(Some(token(&demo, "profile", &[&demo.api_client_id]).await)).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert!(challenge(&answer).contains(r#"error="insufficient_scope""#));
    let answer = get(Some(
        token(&demo, "photos.read", &[&demo.api_client_id]).await,
    ))
    .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let album: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(album["sub"], "alice");
    assert_eq!(album["photos"].as_array().unwrap().len(), 3);
    demo.stop().await.unwrap();
}

/// The browser's part: follows nothing by itself, keeps each app's cookie.
struct Browser {
    cookies: Vec<String>,
}

impl Browser {
    async fn send(&mut self, request: reqwest::RequestBuilder) -> (StatusCode, String, String) {
        let answer = request
            .header(COOKIE, self.cookies.join("; "))
            .send()
            .await
            .unwrap();
        for cookie in answer.headers().get_all(SET_COOKIE) {
            let pair = cookie
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned();
            self.cookies.push(pair);
        }
        let location = answer
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        (
            answer.status(),
            location.unwrap_or_default(),
            answer.text().await.unwrap(),
        )
    }
}

/// The value of the hidden field `name` in a page.
fn hidden(page: &str, name: &str) -> String {
    let start = format!("name=\"{name}\" value=\"");
    let rest = &page[page.find(&start).unwrap() + start.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn the_flow_over_http_ends_on_alices_photos_and_forms_are_single_use() {
    let demo = Demo::start().await.unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut browser = Browser {
        cookies: Vec::new(),
    };
    let printer = format!("http://{}", demo.printer);

    let (status, authorize, _) = browser.send(http.post(format!("{printer}/login"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        authorize.starts_with(&format!("{}/authorize?", demo.issuer)),
        "{authorize}"
    );
    let (status, login, _) = browser.send(http.get(&authorize)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, page) = browser.send(http.get(&login)).await;
    assert_eq!(status, StatusCode::OK);
    let challenge = hidden(&page, "login_challenge");
    let csrf = hidden(&page, "csrf");
    let form = |csrf: &str, extra: &[(&str, &str)]| {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("login_challenge", &challenge)
            .append_pair("csrf", csrf);
        for (name, value) in extra {
            form.append_pair(name, value);
        }
        form.finish()
    };
    let login_app = format!("http://{}", demo.login);
    let post = |path: &str, body: String| {
        http.post(format!("{login_app}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    };
    let alice = [("username", "alice"), ("password", "wonderland")];

    // From another browser (no cookie), the form is refused, and spent.
    let stranger = post("/login", form(&csrf, &alice)).send().await.unwrap();
    assert_eq!(stranger.status(), StatusCode::BAD_REQUEST);
    let (status, _, _) = browser.send(post("/login", form(&csrf, &alice))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, _, page) = browser.send(http.get(&login)).await;
    let (status, _, page) = browser
        .send(post("/login", form(&hidden(&page, "csrf"), &alice)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Allow access?"), "{page}");
    let csrf = hidden(&page, "csrf");
    let (status, callback, _) = browser
        .send(post("/consent", form(&csrf, &[("decision", "allow")])))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        callback.starts_with(&format!("{printer}/callback?")),
        "{callback}"
    );
    let (status, _, _) = browser
        .send(post("/consent", form(&csrf, &[("decision", "allow")])))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a consent form is single use"
    );

    let (status, photos, _) = browser.send(http.get(&callback)).await;
    assert_eq!(
        (status, photos.as_str()),
        (StatusCode::SEE_OTHER, "/photos")
    );
    let (status, _, page) = browser.send(http.get(format!("{printer}/photos"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("The Cheshire Cat&#39;s grin"), "{page}");
    // The callback is single use too: its session moved on.
    let (status, _, _) = browser.send(http.get(&callback)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    demo.stop().await.unwrap();
}
