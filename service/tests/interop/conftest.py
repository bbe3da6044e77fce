"""The real `tessera serve` binary for the interop tests, and the login step a browser and a
login app would do.

One server per test session on loopback ports with a temporary data directory, stopped by its
pid. The binary is $TESSERA_BIN (service/tests/interop/run sets it); nothing here skips: a
missing binary, library or proto file fails the run.

The login step: there is no browser and no login app, so a test reads the authorization
endpoint's 303 itself (the login URL is a loopback port nothing listens on, only its query
matters), takes the `login_challenge`, and accepts or rejects it over gRPC with stubs that
grpcio-tools generates from proto/tessera/v1/tessera.proto at session start.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field

import grpc
import pytest
import requests
from grpc_tools import protoc

# requests-oauthlib refuses plain-http endpoints without it; the server has no TLS inside.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PROTO_ROOT = os.path.join(REPO, "proto")
PROTO = os.path.join("tessera", "v1", "tessera.proto")

# Registered for every client; nothing listens there: the tests read redirects, never follow them.
REDIRECT_URI = "https://app.example/callback"
# The login app's URL; nothing listens there either.
LOGIN_URL = "http://127.0.0.1:9/login"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generate_stubs(out_dir):
    """tessera_pb2 and tessera_pb2_grpc from the repository's proto file, imported."""
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"--python_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            os.path.join(PROTO_ROOT, PROTO),
        ]
    )
    assert code == 0, f"grpc_tools.protoc failed on {PROTO} ({code})"
    sys.path.insert(0, str(out_dir))
    from tessera.v1 import tessera_pb2, tessera_pb2_grpc  # noqa: E402

    return tessera_pb2, tessera_pb2_grpc


@dataclass
class Tessera:
    """A running `tessera serve` and what its clients need to know about it."""

    process: subprocess.Popen
    issuer: str
    grpc_addr: str
    operator: str
    metadata: dict
    pb2: object
    stub: object
    log: str
    clients: list = field(default_factory=list)

    def operator_metadata(self):
        return (("authorization", f"Bearer {self.operator}"),)

    def register(self, name, scope, method="client_secret_basic", redirect_uris=None):
        """A client registered at the discovered registration endpoint (RFC 7591)."""
        answer = requests.post(
            self.metadata["registration_endpoint"],
            headers={"Authorization": f"Bearer {self.operator}"},
            json={
                "client_name": name,
                "redirect_uris": redirect_uris or [REDIRECT_URI],
                "scope": scope,
                "token_endpoint_auth_method": method,
            },
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        client = answer.json()
        assert ("client_secret" in client) == (method != "none"), client
        return client

    def login_challenge(self, authorization_url):
        """Follows the authorization URL as a browser would, up to the login app: the
        `login_challenge` of the 303 to the login URL."""
        return self.login_challenge_from(
            requests.get(authorization_url, allow_redirects=False, timeout=10)
        )

    def login_challenge_from(self, answer):
        """The `login_challenge` of an authorization endpoint's 303 to the login URL."""
        assert answer.status_code == 303, (answer.status_code, answer.text)
        location = answer.headers["Location"]
        assert location.startswith(LOGIN_URL + "?"), location
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        (challenge,) = query["login_challenge"]
        assert challenge.startswith("tsr_lc_"), challenge
        return challenge

    def login_request(self, challenge):
        """What the login app shows on its consent screen (GetLoginRequest)."""
        return self.stub.GetLoginRequest(
            self.pb2.GetLoginRequestRequest(login_challenge=challenge),
            metadata=self.operator_metadata(),
            timeout=10,
        )

    def accept(self, challenge, subject="alice", scope="", audience=()):
        """The login app accepts: the `redirect_to` that sends the browser back to the client."""
        answer = self.stub.AcceptLogin(
            self.pb2.AcceptLoginRequest(
                login_challenge=challenge,
                subject=subject,
                scope=scope,
                audience=list(audience),
            ),
            metadata=self.operator_metadata(),
            timeout=10,
        )
        return answer.redirect_to

    def reject(self, challenge, error="access_denied", description="the user said no"):
        answer = self.stub.RejectLogin(
            self.pb2.RejectLoginRequest(
                login_challenge=challenge,
                error=error,
                error_description=description,
            ),
            metadata=self.operator_metadata(),
            timeout=10,
        )
        return answer.redirect_to

    def redirect(self, url, state):
        """The query of a redirect to the client, after checking that it goes to the registered
        redirect URI and carries `state` and `iss` (RFC 6749 §4.1.2, RFC 9207)."""
        parts = urllib.parse.urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT_URI, url
        query = urllib.parse.parse_qs(parts.query)
        assert query.get("state") == [state], url
        assert query.get("iss") == [self.metadata["issuer"]], url
        return {k: v[0] for k, v in query.items()}


def wait_for_grpc_addr(process, log_path, deadline):
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with open(log_path, encoding="utf-8", errors="replace") as log:
            for line in log:
                marker = "serving tessera.v1.TokenService addr="
                if marker in line:
                    return line.split(marker, 1)[1].split()[0]
        time.sleep(0.05)
    with open(log_path, encoding="utf-8", errors="replace") as log:
        pytest.fail(f"tessera serve did not start (exit {process.poll()}):\n{log.read()}")


@pytest.fixture(scope="session")
def tessera(tmp_path_factory):
    binary = os.environ.get("TESSERA_BIN")
    assert binary, "set TESSERA_BIN to the tessera binary (service/tests/interop/run does)"
    assert os.access(binary, os.X_OK), f"no tessera binary at {binary}"
    pb2, pb2_grpc = generate_stubs(tmp_path_factory.mktemp("stubs"))

    work = tmp_path_factory.mktemp("tessera")
    data_dir = work / "data"
    log_path = work / "tessera.log"
    http_port = free_port()
    issuer = f"http://127.0.0.1:{http_port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                binary,
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--http-listen",
                f"127.0.0.1:{http_port}",
                "--issuer",
                issuer,
                "--login-url",
                LOGIN_URL,
                "--data-dir",
                str(data_dir),
                "--log-level",
                "info",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
    try:
        deadline = time.monotonic() + 30
        grpc_addr = wait_for_grpc_addr(process, log_path, deadline)
        # Endpoints are discovered from the metadata document alone (RFC 8414 §3).
        metadata = None
        while time.monotonic() < deadline:
            try:
                answer = requests.get(
                    f"{issuer}/.well-known/oauth-authorization-server", timeout=2
                )
                metadata = answer.json()
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        assert metadata is not None, "the HTTP endpoints do not answer"
        assert metadata["issuer"] == issuer, json.dumps(metadata)
        with open(data_dir / "operator_token", encoding="utf-8") as f:
            operator = f.read().strip()
        channel = grpc.insecure_channel(grpc_addr)
        grpc.channel_ready_future(channel).result(timeout=10)
        yield Tessera(
            process=process,
            issuer=issuer,
            grpc_addr=grpc_addr,
            operator=operator,
            metadata=metadata,
            pb2=pb2,
            stub=pb2_grpc.TokenServiceStub(channel),
            log=str(log_path),
        )
        channel.close()
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            code = process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            pytest.fail("tessera serve did not stop on SIGTERM")
        assert code == 0, f"tessera serve exited {code}; log in {log_path}"
