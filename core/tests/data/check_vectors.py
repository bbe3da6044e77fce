#!/usr/bin/env python3
"""Recompute Tessera's format vectors from core/FORMAT.md alone, with the standard library.

An independent second implementation of the wire format: if it disagrees with
tests/data/vectors.txt (which the Rust core must reproduce), the document or the code is wrong.
Run: python3 core/tests/data/check_vectors.py
"""
import base64, hashlib, hmac, os, struct, sys, zlib

HERE = os.path.dirname(os.path.abspath(__file__))

def b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def subkey(master: bytes, purpose: str) -> bytes:           # FORMAT.md §1
    return hmac.new(master, b"tessera/v1 " + purpose.encode(), hashlib.sha256).digest()

def grant(client: bytes, subject: str, scope: str, aud: list) -> bytes:  # FORMAT.md §3
    s, sc = subject.encode(), scope.encode()
    return client + bytes([len(s)]) + s + bytes([len(sc)]) + sc + bytes([len(aud)]) + b"".join(aud)

def token(prefix: str, kind: int, kid: int, key: bytes, claims: bytes) -> str:  # FORMAT.md §2
    body = bytes([1, kind]) + struct.pack(">H", kid) + claims
    body += b"\0" * (-len(body) % 3)
    signed = prefix + b64(body)
    tag = hmac.new(key, signed.encode(), hashlib.sha256).digest()[:16]
    return signed + b64(tag)

def step(start: int, n: int) -> bytes:
    return bytes((start + i) & 0xFF for i in range(n))

NOW = 1767225600
master = bytes(range(32))
client = bytes.fromhex("00112233445566778899aabbccddeeff")
grant_id = bytes(range(15, -1, -1))
alice = grant(client, "alice", "openid profile email", [])
sub32 = "user-7f3a9c2e-41d6-4b8f-a0e5-19c"
challenge = base64.urlsafe_b64decode("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=")
redirect = hashlib.sha256(b"https://app.example/callback").digest()
times = lambda life: struct.pack(">QI", NOW, life)

k = {p: subkey(master, p) for p in ["authorization-code", "access-token", "refresh-token", "client-secret",
                                    "login-challenge"]}
v = {f"subkey.{p}": key.hex() for p, key in k.items()}
v["authorization-code"] = token("tsr_ac_", 1, 1, k["authorization-code"],
                                times(600) + step(0x20, 16) + redirect + challenge + alice)
v["access-token"] = token("tsr_at_", 2, 1, k["access-token"], times(3600) + step(0x10, 16) + grant_id + alice)
v["access-token.sized"] = token("tsr_at_", 2, 1, k["access-token"],
                                times(300) + step(0x50, 16) + grant_id + grant(client, sub32, "read write admin", []))
aud = [bytes.fromhex("ffeeddccbbaa99887766554433221100"), bytes.fromhex("0123456789abcdef0123456789abcdef")]
v["access-token.audience"] = token("tsr_at_", 2, 1, k["access-token"],
                                   times(300) + step(0x50, 16) + grant_id + grant(client, sub32, "read write admin", aud))
v["refresh-token"] = token("tsr_rt_", 3, 1, k["refresh-token"],
                           times(86400) + step(0x30, 16) + grant_id + struct.pack(">I", 7) + alice)
def login(life: int, rid: int, state: str, aud: list) -> str:  # FORMAT.md §3.4
    uri, scope, st = b"https://app.example/callback", b"openid profile email", state.encode()
    claims = (times(life) + step(rid, 16) + client + challenge + struct.pack(">H", len(uri)) + uri
              + bytes([len(scope)]) + scope + bytes([len(aud)]) + b"".join(aud) + struct.pack(">H", len(st)) + st)
    return token("tsr_lc_", 4, 1, k["login-challenge"], claims)
v["login-challenge"] = login(600, 0x60, "xyz", aud[:1])
v["login-challenge.no-state"] = login(300, 0x70, "", [])
secret = step(0x40, 32)                                      # FORMAT.md §5
v["client-secret"] = "tsr_cs_" + b64(secret + struct.pack(">I", zlib.crc32(secret)))
v["client-secret.verifier"] = (struct.pack(">H", 1) + hmac.new(k["client-secret"], client + secret, hashlib.sha256).digest()).hex()
gateway = b"tsrg" + bytes([1, 2])                             # FORMAT.md §7: keys 1 and 2
for kid, m in [(1, master), (2, bytes(range(0x20, 0x40)))]:
    gateway += bytes([2]) + struct.pack(">H", kid) + subkey(m, "access-token")
v["provisioning"] = (gateway + hashlib.sha256(gateway).digest()).hex()

expected = {}
for line in open(os.path.join(HERE, "vectors.txt")):
    if line.strip() and not line.startswith("#"):
        name, value = line.rstrip("\n").split(" = ")
        expected[name] = value
bad = [n for n in sorted(set(v) | set(expected)) if v.get(n) != expected.get(n)]
for n in bad:
    print(f"MISMATCH {n}:\n  python: {v.get(n)}\n  vectors.txt: {expected.get(n)}")
print(f"{len(v) - len(bad)} passed, {len(bad)} failed")
sys.exit(1 if bad else 0)
