"""requests-oauthlib's OAuth2Session (oauthlib underneath), unmodified, against the real
`tessera serve`: endpoints from the metadata document alone, PKCE by the library
(`pkce="S256"`), the login step as conftest.py describes it. OAUTHLIB_INSECURE_TRANSPORT=1
(conftest.py) lets it use the plain-http loopback issuer.

What this file checks (see test_authlib.py for the whole list and where the rest is):
- authorization_code with PKCE S256 and client_secret_basic, then refresh_token:
  test_code_grant_basic_then_refresh
- client_secret_post: test_code_grant_client_secret_post
- none, a public client: test_public_client_uses_none
- client_credentials (BackendApplicationClient): test_client_credentials
- a replayed code: test_a_replayed_code_is_invalid_grant_and_revokes_its_tokens
- refresh reuse: test_refresh_reuse_revokes_the_family
- a wrong secret: 401 + WWW-Authenticate: test_a_wrong_secret_is_401_with_a_basic_challenge
- state and iss on the redirects; oauthlib itself checks state and raises the redirect's
  access_denied: test_reject_login_is_access_denied_for_oauthlib_too
"""

import pytest
import requests
from oauthlib.oauth2 import (
    AccessDeniedError,
    BackendApplicationClient,
    InvalidClientError,
    InvalidGrantError,
)
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from conftest import REDIRECT_URI


class Recorder(list):
    """A requests response hook: the HTTP answers oauthlib turns into exceptions."""

    def __call__(self, response, *args, **kwargs):
        self.append(response)
        return response


def session(client, scope=("read", "write"), **kwargs):
    oauth = OAuth2Session(
        client["client_id"],
        redirect_uri=REDIRECT_URI,
        scope=list(scope),
        pkce="S256",
        **kwargs,
    )
    oauth.recorded = Recorder()
    oauth.hooks["response"].append(oauth.recorded)
    return oauth


def front_channel(tessera, oauth, accept=True):
    url, state = oauth.authorization_url(tessera.metadata["authorization_endpoint"])
    assert "code_challenge_method=S256" in url
    challenge = tessera.login_challenge(url)
    redirect_to = tessera.accept(challenge) if accept else tessera.reject(challenge)
    tessera.redirect(redirect_to, state)
    return redirect_to


def basic(client):
    return HTTPBasicAuth(client["client_id"], client["client_secret"])


def introspect(tessera, caller, token):
    answer = requests.post(
        tessera.metadata["introspection_endpoint"],
        data={"token": token},
        auth=basic(caller),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def app(tessera):
    return tessera.register("requests-oauthlib photo printer", "read write")


def test_code_grant_basic_then_refresh(tessera, app):
    oauth = session(app)
    redirect_to = front_channel(tessera, oauth)
    token = oauth.fetch_token(
        tessera.metadata["token_endpoint"],
        authorization_response=redirect_to,
        client_secret=app["client_secret"],
    )
    request = oauth.recorded[-1].request
    assert request.headers["Authorization"].startswith("Basic ")
    assert "code_verifier=" in request.body
    assert token["token_type"] == "Bearer"
    assert token["scope"] == ["read", "write"]
    assert introspect(tessera, app, token["access_token"])["active"] is True

    refreshed = oauth.refresh_token(tessera.metadata["token_endpoint"], auth=basic(app))
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert introspect(tessera, app, refreshed["access_token"])["active"] is True
    # The old access token stays valid until it expires; the old refresh token is spent.
    assert introspect(tessera, app, token["refresh_token"]) == {"active": False}


def test_code_grant_client_secret_post(tessera, app):
    oauth = session(app, scope=["read"])
    redirect_to = front_channel(tessera, oauth)
    token = oauth.fetch_token(
        tessera.metadata["token_endpoint"],
        authorization_response=redirect_to,
        include_client_id=True,
        client_secret=app["client_secret"],
    )
    request = oauth.recorded[-1].request
    assert "Authorization" not in request.headers
    assert "client_secret=" in request.body
    assert token["scope"] == ["read"]


def test_public_client_uses_none(tessera, app):
    public = tessera.register("requests-oauthlib public app", "read", method="none")
    oauth = session(public, scope=["read"])
    redirect_to = front_channel(tessera, oauth)
    token = oauth.fetch_token(
        tessera.metadata["token_endpoint"],
        authorization_response=redirect_to,
        include_client_id=True,
    )
    request = oauth.recorded[-1].request
    assert "Authorization" not in request.headers
    assert "client_secret" not in request.body
    assert "refresh_token" in token
    refreshed = oauth.refresh_token(
        tessera.metadata["token_endpoint"], client_id=public["client_id"]
    )
    assert refreshed["access_token"] != token["access_token"]


def test_client_credentials(tessera, app):
    backend = BackendApplicationClient(client_id=app["client_id"])
    oauth = OAuth2Session(client=backend, scope=["read"])
    # BackendApplicationClient sends no scope of its own; without one the grant is the client's
    # whole scope (RFC 6749 §3.3), which oauthlib would refuse as a changed scope.
    token = oauth.fetch_token(
        tessera.metadata["token_endpoint"], client_secret=app["client_secret"], scope=["read"]
    )
    assert token["scope"] == ["read"]
    assert "refresh_token" not in token
    info = introspect(tessera, app, token["access_token"])
    assert (info["active"], info["sub"]) == (True, app["client_id"])


def test_a_replayed_code_is_invalid_grant_and_revokes_its_tokens(tessera, app):
    oauth = session(app)
    redirect_to = front_channel(tessera, oauth)
    endpoint = tessera.metadata["token_endpoint"]
    token = oauth.fetch_token(
        endpoint, authorization_response=redirect_to, client_secret=app["client_secret"]
    )
    with pytest.raises(InvalidGrantError):
        oauth.fetch_token(
            endpoint, authorization_response=redirect_to, client_secret=app["client_secret"]
        )
    assert oauth.recorded[-1].status_code == 400
    assert oauth.recorded[-1].json()["error"] == "invalid_grant"
    for kind in ("access_token", "refresh_token"):
        assert introspect(tessera, app, token[kind]) == {"active": False}, kind


def test_refresh_reuse_revokes_the_family(tessera, app):
    oauth = session(app)
    redirect_to = front_channel(tessera, oauth)
    endpoint = tessera.metadata["token_endpoint"]
    first = oauth.fetch_token(
        endpoint, authorization_response=redirect_to, client_secret=app["client_secret"]
    )
    second = oauth.refresh_token(endpoint, refresh_token=first["refresh_token"], auth=basic(app))
    with pytest.raises(InvalidGrantError):
        oauth.refresh_token(endpoint, refresh_token=first["refresh_token"], auth=basic(app))
    assert oauth.recorded[-1].status_code == 400
    assert introspect(tessera, app, second["access_token"]) == {"active": False}
    assert introspect(tessera, app, second["refresh_token"]) == {"active": False}


def test_a_wrong_secret_is_401_with_a_basic_challenge(tessera, app):
    oauth = session(app)
    redirect_to = front_channel(tessera, oauth)
    secret = app["client_secret"]
    wrong = secret[:-4] + ("BBBB" if secret.endswith("AAAA") else "AAAA")
    with pytest.raises(InvalidClientError):
        oauth.fetch_token(
            tessera.metadata["token_endpoint"],
            authorization_response=redirect_to,
            client_secret=wrong,
        )
    answer = oauth.recorded[-1]
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="tessera"'


def test_reject_login_is_access_denied_for_oauthlib_too(tessera, app):
    oauth = session(app)
    redirect_to = front_channel(tessera, oauth, accept=False)
    with pytest.raises(AccessDeniedError):
        oauth.fetch_token(
            tessera.metadata["token_endpoint"],
            authorization_response=redirect_to,
            client_secret=app["client_secret"],
        )
    # oauthlib refused on the redirect alone: no token request was sent.
    assert oauth.recorded == []
