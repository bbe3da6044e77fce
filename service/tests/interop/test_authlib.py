"""authlib's OAuth2Session, unmodified, against the real `tessera serve`: every endpoint from
the metadata document alone (RFC 8414), the login step as conftest.py describes it.

What this file checks (the rest of issue 13's list is in test_requests_oauthlib.py and
service/tests/oauth2_crate.rs; each item is covered at least once across the three):
- authorization_code grant with PKCE S256, the redirect's state and iss (RFC 9207):
  test_code_grant_basic_then_refresh_introspect_revoke (client_secret_basic),
  test_code_grant_client_secret_post, test_public_client_uses_none
- refresh_token grant, introspect_token, revoke_token:
  test_code_grant_basic_then_refresh_introspect_revoke
- client_credentials grant: test_client_credentials
- a replayed code: 400 invalid_grant, and the first tokens introspect inactive:
  test_a_replayed_code_is_invalid_grant_and_revokes_its_tokens
- refresh reuse revokes the family: test_refresh_reuse_revokes_the_family
- a wrong secret: 401 with WWW-Authenticate: test_a_wrong_secret_is_401_with_a_basic_challenge
- the authorization endpoint as a form POST, GetLoginRequest's consent data:
  test_the_authorization_endpoint_takes_a_form_post_too, test_public_client_uses_none
- every authorization endpoint error, state and iss checked on each redirect:
  test_an_unknown_client_is_an_html_400_without_redirect,
  test_an_unregistered_redirect_uri_is_an_html_400_without_redirect,
  test_a_missing_challenge_is_invalid_request, test_plain_pkce_is_invalid_request,
  test_response_type_token_is_unsupported_response_type,
  test_a_scope_beyond_the_clients_is_invalid_scope, test_reject_login_is_access_denied
"""

import time
import urllib.parse

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from conftest import REDIRECT_URI


class Recorder(list):
    """A requests response hook: every HTTP answer the session got, for status and headers
    authlib does not surface."""

    def __call__(self, response, *args, **kwargs):
        self.append(response)
        return response


def session(client, method, scope="read write"):
    oauth = OAuth2Session(
        client["client_id"],
        client.get("client_secret"),
        scope=scope,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method=method,
    )
    oauth.recorded = Recorder()
    oauth.hooks["response"].append(oauth.recorded)
    return oauth


def authorization_url(tessera, oauth, **extra):
    verifier = generate_token(48)
    url, state = oauth.create_authorization_url(
        tessera.metadata["authorization_endpoint"], code_verifier=verifier, **extra
    )
    return url, state, verifier


def sign_in(tessera, oauth, **extra):
    """The whole front channel: authorization URL (with `extra` parameters), login, the code
    back on the redirect URI, then authlib's own fetch_token. Returns the tokens and what
    fetch_token was given."""
    url, state, verifier = authorization_url(tessera, oauth, **extra)
    redirect_to = tessera.accept(tessera.login_challenge(url))
    params = tessera.redirect(redirect_to, state)
    assert params["code"].startswith("tsr_ac_"), params
    token = oauth.fetch_token(
        tessera.metadata["token_endpoint"],
        authorization_response=redirect_to,
        state=state,
        code_verifier=verifier,
    )
    return token, (redirect_to, state, verifier)


def introspect(tessera, oauth, token, hint="access_token"):
    answer = oauth.introspect_token(
        tessera.metadata["introspection_endpoint"], token=token, token_type_hint=hint
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def assert_bearer_tokens(token, scope, refresh=True):
    assert token["token_type"] == "Bearer"
    assert token["access_token"].startswith("tsr_at_")
    assert token["expires_in"] == 3600
    assert token["scope"] == scope
    assert ("refresh_token" in token) == refresh, token


@pytest.fixture(scope="module")
def app(tessera):
    return tessera.register("authlib photo printer", "read write")


@pytest.fixture(scope="module")
def resource(tessera):
    """A resource server: a confidential client that introspects the tokens meant for it."""
    return tessera.register("authlib photo api", "")


def test_the_metadata_document_is_all_a_client_needs(tessera):
    m = tessera.metadata
    assert m["issuer"] == tessera.issuer
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
        "registration_endpoint",
    ):
        assert m[name].startswith(tessera.issuer + "/"), name
    assert m["code_challenge_methods_supported"] == ["S256"]
    assert m["authorization_response_iss_parameter_supported"] is True


def test_code_grant_basic_then_refresh_introspect_revoke(tessera, app):
    oauth = session(app, "client_secret_basic")
    token, _ = sign_in(tessera, oauth)
    assert_bearer_tokens(token, "read write")
    assert oauth.recorded[-1].request.headers["Authorization"].startswith("Basic ")
    assert oauth.recorded[-1].headers["Cache-Control"] == "no-store"

    info = introspect(tessera, oauth, token["access_token"])
    assert info["active"] is True
    assert (info["sub"], info["client_id"], info["scope"]) == (
        "alice",
        app["client_id"],
        "read write",
    )
    assert info["iss"] == tessera.metadata["issuer"]

    refreshed = oauth.refresh_token(
        tessera.metadata["token_endpoint"], refresh_token=token["refresh_token"], scope="read"
    )
    assert_bearer_tokens(refreshed, "read")
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert introspect(tessera, oauth, refreshed["access_token"])["scope"] == "read"

    answer = oauth.revoke_token(
        tessera.metadata["revocation_endpoint"],
        token=refreshed["refresh_token"],
        token_type_hint="refresh_token",
    )
    assert answer.status_code == 200, answer.text
    assert introspect(tessera, oauth, refreshed["refresh_token"], "refresh_token") == {
        "active": False
    }
    # RFC 7009 §2.2: an unknown token is revoked "successfully" too.
    answer = oauth.revoke_token(tessera.metadata["revocation_endpoint"], token="no-such-token")
    assert answer.status_code == 200, answer.text


def test_code_grant_client_secret_post(tessera, app):
    oauth = session(app, "client_secret_post", scope="read")
    token, _ = sign_in(tessera, oauth)
    assert_bearer_tokens(token, "read")
    request = oauth.recorded[-1].request
    assert "Authorization" not in request.headers
    assert "client_secret=" in request.body
    assert introspect(tessera, oauth, token["access_token"])["active"] is True


def test_public_client_uses_none(tessera, resource):
    public = tessera.register("authlib public app", "read", method="none")
    oauth = session(public, "none", scope="read")
    # The audience comes from the request's RFC 8707 `resource` (AcceptLogin leaves it empty).
    url, _, _ = authorization_url(tessera, oauth, resource=resource["client_id"])
    shown = tessera.login_request(tessera.login_challenge(url))
    assert (shown.client_id, shown.client_name) == (public["client_id"], "authlib public app")
    assert (shown.redirect_uri, shown.scope) == (REDIRECT_URI, "read")
    assert list(shown.audience) == [resource["client_id"]]
    assert 0 < shown.expires_at - time.time() <= 600
    token, _ = sign_in(tessera, oauth, resource=resource["client_id"])
    assert_bearer_tokens(token, "read")
    request = oauth.recorded[-1].request
    assert "Authorization" not in request.headers
    assert "client_secret" not in request.body
    # A public client cannot introspect (RFC 7662 §2.1): the resource server it is meant for does.
    info = introspect(tessera, session(resource, "client_secret_basic"), token["access_token"])
    assert info["active"] is True, info
    assert (info["client_id"], info["aud"]) == (public["client_id"], [resource["client_id"]])
    refreshed = oauth.refresh_token(
        tessera.metadata["token_endpoint"], refresh_token=token["refresh_token"]
    )
    assert_bearer_tokens(refreshed, "read")


def test_client_credentials(tessera, app, resource):
    oauth = session(app, "client_secret_basic", scope="read")
    token = oauth.fetch_token(
        tessera.metadata["token_endpoint"],
        grant_type="client_credentials",
        resource=resource["client_id"],
    )
    assert_bearer_tokens(token, "read", refresh=False)
    info = introspect(tessera, session(resource, "client_secret_basic"), token["access_token"])
    assert info["active"] is True, info
    assert (info["sub"], info["client_id"]) == (app["client_id"], app["client_id"])
    assert info["aud"] == [resource["client_id"]]


def test_a_replayed_code_is_invalid_grant_and_revokes_its_tokens(tessera, app):
    oauth = session(app, "client_secret_basic")
    token, (redirect_to, state, verifier) = sign_in(tessera, oauth)
    with pytest.raises(OAuthError) as refused:
        oauth.fetch_token(
            tessera.metadata["token_endpoint"],
            authorization_response=redirect_to,
            state=state,
            code_verifier=verifier,
        )
    assert refused.value.error == "invalid_grant"
    assert oauth.recorded[-1].status_code == 400
    for kind in ("access_token", "refresh_token"):
        assert introspect(tessera, oauth, token[kind], kind) == {"active": False}, kind


def test_refresh_reuse_revokes_the_family(tessera, app):
    oauth = session(app, "client_secret_basic")
    token, _ = sign_in(tessera, oauth)
    endpoint = tessera.metadata["token_endpoint"]
    second = oauth.refresh_token(endpoint, refresh_token=token["refresh_token"])
    with pytest.raises(OAuthError) as refused:
        oauth.refresh_token(endpoint, refresh_token=token["refresh_token"])
    assert refused.value.error == "invalid_grant"
    assert oauth.recorded[-1].status_code == 400
    # The reuse revoked what the old token's successor had: the thief and the victim both lose.
    assert introspect(tessera, oauth, second["access_token"]) == {"active": False}
    with pytest.raises(OAuthError) as refused:
        oauth.refresh_token(endpoint, refresh_token=second["refresh_token"])
    assert refused.value.error == "invalid_grant"


def test_a_wrong_secret_is_401_with_a_basic_challenge(tessera, app):
    secret = app["client_secret"]
    wrong = dict(app, client_secret=secret[:-4] + ("BBBB" if secret.endswith("AAAA") else "AAAA"))
    oauth = session(wrong, "client_secret_basic", scope="read")
    with pytest.raises(OAuthError) as refused:
        oauth.fetch_token(tessera.metadata["token_endpoint"], grant_type="client_credentials")
    assert refused.value.error == "invalid_client"
    answer = oauth.recorded[-1]
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="tessera"'


def test_the_authorization_endpoint_takes_a_form_post_too(tessera, app):
    """RFC 6749 §3.1: GET and POST; the same request as a form body reaches the login app."""
    url, state, _ = authorization_url(tessera, session(app, "client_secret_basic"))
    endpoint, query = url.split("?", 1)
    assert endpoint == tessera.metadata["authorization_endpoint"]
    answer = requests.post(
        endpoint, data=dict(urllib.parse.parse_qsl(query)), allow_redirects=False, timeout=10
    )
    assert answer.status_code == 303, answer.text
    redirect_to = tessera.accept(tessera.login_challenge_from(answer))
    assert tessera.redirect(redirect_to, state)["code"].startswith("tsr_ac_")


def get(url):
    return requests.get(url, allow_redirects=False, timeout=10)


def assert_error_page(answer):
    assert answer.status_code == 400, answer.text
    assert "Location" not in answer.headers
    assert answer.headers["Content-Type"].startswith("text/html"), answer.headers


def assert_redirected_error(tessera, answer, state, error):
    assert answer.status_code == 303, (answer.status_code, answer.text)
    params = tessera.redirect(answer.headers["Location"], state)
    assert params["error"] == error, params
    assert params.get("error_description"), params
    assert "code" not in params
    return params


def test_an_unknown_client_is_an_html_400_without_redirect(tessera, app):
    stranger = dict(app, client_id="tsr_ci_unknown")
    url, _, _ = authorization_url(tessera, session(stranger, "client_secret_basic"))
    assert_error_page(get(url))


def test_an_unregistered_redirect_uri_is_an_html_400_without_redirect(tessera, app):
    oauth = session(app, "client_secret_basic")
    url, _, _ = authorization_url(tessera, oauth, redirect_uri="https://evil.example/callback")
    assert_error_page(get(url))


def test_a_missing_challenge_is_invalid_request(tessera, app):
    oauth = session(app, "client_secret_basic")
    url, state = oauth.create_authorization_url(tessera.metadata["authorization_endpoint"])
    assert "code_challenge" not in url
    assert_redirected_error(tessera, get(url), state, "invalid_request")


def test_plain_pkce_is_invalid_request(tessera, app):
    oauth = session(app, "client_secret_basic")
    verifier = generate_token(48)
    url, state = oauth.create_authorization_url(
        tessera.metadata["authorization_endpoint"],
        code_challenge=verifier,
        code_challenge_method="plain",
    )
    assert_redirected_error(tessera, get(url), state, "invalid_request")


def test_response_type_token_is_unsupported_response_type(tessera, app):
    oauth = session(app, "client_secret_basic")
    url, state, _ = authorization_url(tessera, oauth, response_type="token")
    assert "response_type=token" in url
    assert_redirected_error(tessera, get(url), state, "unsupported_response_type")


def test_a_scope_beyond_the_clients_is_invalid_scope(tessera, app):
    oauth = session(app, "client_secret_basic", scope="read admin")
    url, state, _ = authorization_url(tessera, oauth)
    assert_redirected_error(tessera, get(url), state, "invalid_scope")


def test_reject_login_is_access_denied(tessera, app):
    oauth = session(app, "client_secret_basic")
    url, state, _ = authorization_url(tessera, oauth)
    redirect_to = tessera.reject(tessera.login_challenge(url))
    params = tessera.redirect(redirect_to, state)
    assert params["error"] == "access_denied", params
    assert "code" not in params
