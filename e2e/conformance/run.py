#!/usr/bin/env python3
"""The API against its own OpenAPI document, with Schemathesis: a fresh `sealpost serve`
(SQLite, a temporary directory), an account made with the CLI and signed in, then every
documented operation driven with generated valid and invalid input, as that account and as
nobody. Checked: no 5xx, every status documented, every body in its documented content type
and schema. Bounded (a fixed seed and a fixed number of examples per operation), so a run
takes seconds and a failure can be replayed.

Usage: run.py SEALPOST_BINARY SCHEMATHESIS_CLI
Prints `conformance: N passed, M failed` (N, M: schemathesis runs) and exits non-zero on any
failure.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

PASSWORD = "correct horse battery staple"
EMAIL = "conformance@testshire.gov.uk"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
EXAMPLES = "25"
SEED = "20261204"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base, server):
    deadline = time.time() + 30
    while time.time() < deadline:
        if server.poll() is not None:
            sys.exit("sealpost serve exited before it was ready")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("sealpost serve was not ready within 30 s")


def sign_in(base):
    body = json.dumps({"email": EMAIL, "password": PASSWORD}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/auth/login",
        data=body,
        headers={"content-type": "application/json", "x-sealpost-csrf": "1"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        for header in r.headers.get_all("set-cookie"):
            pair = header.split(";", 1)[0]
            if pair.startswith("__Host-sealpost_session="):
                return pair
    sys.exit("signing in gave no session cookie")


def schemathesis(st, base, headers, work):
    args = [st, "run", f"{base}/api/v1/openapi.json", "--checks", CHECKS, "--max-examples", EXAMPLES,
            "--seed", SEED, "--phases", "coverage,fuzzing", "--workers", "1", "--no-color",
            # Signing out would end the account's session half-way through the run.
            "--exclude-path", "/api/v1/auth/logout",
            "--warnings", "off"]
    for h in headers:
        args += ["-H", h]
    # Run from the scratch directory: Schemathesis keeps a cache where it runs.
    return subprocess.run(args, check=False, cwd=work).returncode == 0


def main():
    binary, st = os.path.abspath(sys.argv[1]), sys.argv[2]
    work = tempfile.mkdtemp(prefix="sealpost-conformance-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, SEALPOST_MFA_REQUIRED="none", SEALPOST_LISTEN=f"127.0.0.1:{port}", SEALPOST_DATA_DIR=os.path.join(work, "data"),
               SEALPOST_PUBLIC_URL=base, SEALPOST_ORG_NAME="Testshire County Council", RUST_LOG="warn")
    env.pop("SEALPOST_DATABASE_URL", None)
    env.pop("SEALPOST_CONFIG", None)
    server = subprocess.Popen([binary, "serve"], env=env, cwd=work, stdout=subprocess.DEVNULL)
    try:
        wait_ready(base, server)
        subprocess.run([binary, "user", "add", "--email", EMAIL, "--name", "Conformance Check", "--password-stdin"],
                       input=PASSWORD, text=True, env=env, cwd=work, check=True, stdout=subprocess.DEVNULL)
        cookie = sign_in(base)
        runs = {
            "signed in as staff": schemathesis(st, base, ["x-sealpost-csrf: 1", f"Cookie: {cookie}"], work),
            "not signed in": schemathesis(st, base, ["x-sealpost-csrf: 1"], work),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    for name, ok in runs.items():
        print(f"conformance ({name}): {'ok' if ok else 'FAILED'}")
    passed = sum(runs.values())
    failed = len(runs) - passed
    print(f"conformance: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
