"""Safe to share on a network: sign-in before serving other machines, secrets only from files or
the environment, browser messages size-limited. The argument checks and the serve options are
unit-tested; one test starts a server with basic auth, on 127.0.0.1 only."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import typing
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from whatif.app.server import MAX_MESSAGE_BYTES, Access, is_local, server_options
from whatif.cli import app, app_command
from whatif.errors import WhatifError

ROOT = Path(__file__).resolve().parents[1]


def test_local_addresses_need_no_sign_in_and_messages_are_capped():
    for address in ("127.0.0.1", "localhost", "::1", "127.0.1.1"):
        assert is_local(address)
        assert server_options(address, environ={}) == {
            "websocket_max_message_size": MAX_MESSAGE_BYTES
        }
    assert not is_local("0.0.0.0") and not is_local("192.168.1.20")


@pytest.mark.parametrize("address", ["0.0.0.0", "192.168.1.20", "::"])
def test_serving_other_machines_without_sign_in_is_refused(address):
    with pytest.raises(WhatifError, match="needs sign-in: add --basic-auth FILE") as err:
        server_options(address, Access(), environ={})
    assert "--no-auth" in str(err.value) and "\n" not in str(err.value)
    assert "basic_auth" not in server_options(address, Access(no_auth=True), environ={})


def test_basic_auth_from_a_users_file_or_one_password(tmp_path):
    users = tmp_path / "users.json"
    users.write_text(json.dumps({"alice": "wonder", "bob": "builder"}))
    options = server_options("0.0.0.0", Access(basic_auth=users), environ={})
    assert options["basic_auth"] == str(users)  # Panel reads the file at each sign-in
    assert len(options["cookie_secret"]) >= 32
    shared = tmp_path / "password"
    shared.write_text("correct horse\n")
    assert server_options("0.0.0.0", Access(basic_auth=shared), environ={})["basic_auth"] == (
        "correct horse"
    )
    from_env = server_options("0.0.0.0", Access(), environ={"WHATIF_BASIC_AUTH": "s3cret"})
    assert from_env["basic_auth"] == "s3cret"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "the file given does not exist"),
        ("", "is empty"),
        ("{not json", "not valid JSON"),
        ('{"alice": ""}', "must map each name to a non-empty password"),
        ("two\nlines", "one shared password on one line"),
    ],
)
def test_bad_password_files_are_one_line_errors_that_never_echo_a_secret(
    tmp_path, content, message
):
    path = tmp_path / "hunter2"
    if content is not None:
        path.write_text(content)
    with pytest.raises(WhatifError, match=message) as err:
        server_options("0.0.0.0", Access(basic_auth=path), environ={})
    text = str(err.value)
    assert "\n" not in text
    if content is None:
        assert "hunter2" not in text and "never go on the command line" in text


def test_oauth_secrets_come_from_a_file_or_the_environment(tmp_path):
    secrets = tmp_path / "oauth.toml"
    secrets.write_text(
        'key = "client-id"\nsecret = "client-secret"\nencryption_key = "k"\n'
        '[extra_params]\nTOKEN_URL = "https://id.example/token"\n'
    )
    options = server_options(
        "0.0.0.0", Access(oauth_provider="generic", oauth_secrets=secrets), environ={}
    )
    assert options["oauth_provider"] == "generic"
    assert (options["oauth_key"], options["oauth_secret"]) == ("client-id", "client-secret")
    assert options["oauth_extra_params"] == {"TOKEN_URL": "https://id.example/token"}
    assert options["oauth_encryption_key"] == "k"
    env = {"WHATIF_OAUTH_KEY": "id", "WHATIF_OAUTH_SECRET": "shh", "WHATIF_COOKIE_SECRET": "c" * 40}
    options = server_options("0.0.0.0", Access(oauth_provider="github"), environ=env)
    assert (options["oauth_key"], options["oauth_secret"]) == ("id", "shh")
    assert options["cookie_secret"] == "c" * 40
    cookie = tmp_path / "cookie"
    cookie.write_text("d" * 40)
    options = server_options(
        "0.0.0.0", Access(oauth_provider="github", cookie_secret=cookie), environ=env
    )
    assert options["cookie_secret"] == "d" * 40


@pytest.mark.parametrize(
    ("access", "env", "message"),
    [
        (Access(oauth_provider="myspace"), {}, "is not one of"),
        (Access(oauth_provider="github"), {}, "set WHATIF_OAUTH_KEY, WHATIF_OAUTH_SECRET"),
        (Access(oauth_provider="github"), {"WHATIF_BASIC_AUTH": "x"}, "choose one"),
        (Access(oauth_secrets=Path("oauth.toml")), {}, "needs --oauth-provider"),
        (Access(no_auth=True), {"WHATIF_BASIC_AUTH": "x"}, "--no-auth serves without sign-in"),
    ],
)
def test_contradicting_or_incomplete_sign_in_options(access, env, message):
    with pytest.raises(WhatifError, match=message):
        server_options("0.0.0.0", access, environ=env)


def test_no_option_takes_a_secret_itself():
    """Every sign-in option is a flag, a provider name or a file: none takes a secret's value."""
    hints = typing.get_type_hints(app_command)
    names = [n for n in hints if any(w in n for w in ("auth", "secret", "password", "key"))]
    assert names == ["no_auth", "basic_auth", "oauth_provider", "oauth_secrets", "cookie_secret"]
    for name in names:
        allowed = (
            {bool}
            if name == "no_auth"
            else {str | None}
            if name == "oauth_provider"
            else {Path | None}
        )
        assert hints[name] in allowed, name


def test_the_command_refuses_an_open_network_address_before_serving(monkeypatch):
    monkeypatch.delenv("WHATIF_BASIC_AUTH", raising=False)
    result = CliRunner().invoke(app, ["app", "--address", "0.0.0.0", "--no-show"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --address 0.0.0.0 serves the planner")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.timeout(300)
def test_a_server_with_basic_auth_asks_for_a_password(tiny_model_path, tmp_path):
    model = tmp_path / "models" / "tiny"
    shutil.copytree(tiny_model_path, model)
    users = tmp_path / "users.json"
    users.write_text(json.dumps({"alice": "wonder"}))
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "whatif.cli", "app", str(model), "--port", str(port), "--no-show",
         "--basic-auth", str(users)],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    opener = urllib.request.build_opener(_NoRedirect)
    url = f"http://127.0.0.1:{port}"
    location = ""
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                opener.open(f"{url}/", timeout=30)
                status = 200
            except urllib.error.HTTPError as err:
                status = err.code
                location = err.headers.get("Location", "")
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.5)
                continue
            break
        assert status == 302 and "login" in location, "the planner opened without sign-in"
        form = urllib.parse.urlencode({"username": "alice", "password": "wrong"}).encode()
        with pytest.raises(urllib.error.HTTPError) as wrong:
            opener.open(f"{url}/login", data=form, timeout=30)
        assert "error=" in wrong.value.headers.get("Location", "")
        form = urllib.parse.urlencode({"username": "alice", "password": "wonder"}).encode()
        with pytest.raises(urllib.error.HTTPError) as right:
            opener.open(f"{url}/login", data=form, timeout=30)
        cookies = right.value.headers.get_all("Set-Cookie") or []
        assert any(c.startswith("user=") for c in cookies), cookies
        assert "error=" not in right.value.headers.get("Location", "")
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def test_a_write_to_a_closed_browser_is_not_logged_as_a_fault():
    """asyncio reports a websocket write that found its tab closed as an unretrieved task
    exception; the server drops that report and keeps every other."""
    import logging

    from tornado.websocket import WebSocketClosedError

    from whatif.app.server import ClosedSocketFilter

    def record(message, error):
        exc_info = (type(error), error, None) if error else None
        return logging.LogRecord("asyncio", logging.ERROR, "x", 1, message, (), exc_info)

    quiet = ClosedSocketFilter()
    gone = "Task exception was never retrieved\nfuture: <Task exception=WebSocketClosedError()>"
    assert not quiet.filter(record(gone, WebSocketClosedError()))
    assert quiet.filter(record("Task exception was never retrieved", ValueError("boom")))
    assert quiet.filter(record("something else", None))
