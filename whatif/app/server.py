"""Serving the planner (``whatif app``): start loading or fitting the model, then serve sessions.

:func:`serve` starts the model's :class:`~whatif.app.provider.ModelProvider` at once (fitting the
demo model in the background when it is missing) and serves one
:func:`~whatif.app.page.create_app` page per browser session until Ctrl+C.

Serving beyond this machine (an address other than loopback) needs sign-in, unless
``--no-auth`` says on purpose that it does not: :func:`server_options` turns the
:class:`Access` options into Panel's own basic-auth or OAuth settings, reading every secret from
a file or the environment (never from the command line, where other users of the machine can
read it in the process list). Messages from browsers are capped at
:data:`MAX_MESSAGE_BYTES`, so nobody can push a huge upload at the server. Browsers may reach a
server on a network address through this machine's host names, and through any ``host[:port]``
listed in ``WHATIF_ALLOW_ORIGIN`` (comma-separated, e.g. a reverse proxy's name).
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import secrets
import socket
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import panel as pn
from tornado import process
from tornado.ioloop import PeriodicCallback

from whatif.app.balance import SharedLoads, spread_sessions
from whatif.app.demo import DEMO_FIT, demo_paths
from whatif.app.headline_first import wait_for_requests
from whatif.app.page import create_app
from whatif.app.provider import get_provider
from whatif.errors import ArtefactError, WhatifError

__all__ = [
    "ClosedSocketFilter",
    "LOCAL_ADDRESSES",
    "MAX_MESSAGE_BYTES",
    "ENV",
    "OAUTH_PROVIDERS",
    "Access",
    "is_local",
    "serve",
    "server_options",
]

#: Addresses that serve this machine only: no sign-in needed.
LOCAL_ADDRESSES = frozenset({"127.0.0.1", "localhost", "::1"})
#: The largest message a browser may send (uploads are far smaller: a scenario is 64 kB at most).
MAX_MESSAGE_BYTES = 2 * 1024 * 1024
#: Panel's OAuth providers (``panel.auth.AUTH_PROVIDERS``), named without importing it.
OAUTH_PROVIDERS = (
    "auth0",
    "auth_code",
    "azure",
    "azurev2",
    "bitbucket",
    "generic",
    "github",
    "gitlab",
    "google",
    "okta",
    "password",
)
#: Environment variables the secrets may come from instead of a file.
ENV = {
    "basic_auth": "WHATIF_BASIC_AUTH",
    "cookie_secret": "WHATIF_COOKIE_SECRET",
    "oauth_key": "WHATIF_OAUTH_KEY",
    "oauth_secret": "WHATIF_OAUTH_SECRET",
    "oauth_encryption_key": "WHATIF_OAUTH_ENCRYPTION_KEY",
    "oauth_redirect_uri": "WHATIF_OAUTH_REDIRECT_URI",
}
_NOT_ON_THE_COMMAND_LINE = (
    "secrets never go on the command line, where other users of the machine can read them"
)


@dataclass(frozen=True)
class Access:
    """Who may open the planner (``whatif app``'s sign-in options).

    Attributes
    ----------
    no_auth
        Serve beyond this machine without sign-in, on purpose.
    basic_auth
        A file holding the users' passwords as JSON (``{"alice": "..."}``) or one shared
        password on one line; or set ``WHATIF_BASIC_AUTH`` to either.
    oauth_provider
        One of :data:`OAUTH_PROVIDERS`; its key and secret come from ``oauth_secrets`` or the
        ``WHATIF_OAUTH_*`` variables.
    oauth_secrets
        A TOML file with ``key``, ``secret`` and optionally ``encryption_key``, ``redirect_uri``
        and an ``[extra_params]`` table (e.g. a generic provider's endpoints).
    cookie_secret
        A file holding the secret that signs the sign-in cookies (or ``WHATIF_COOKIE_SECRET``;
        default: a random one per start, so signing in again after a restart).
    """

    no_auth: bool = False
    basic_auth: Path | None = None
    oauth_provider: str | None = None
    oauth_secrets: Path | None = None
    cookie_secret: Path | None = None


def is_local(address: str) -> bool:
    """Whether ``address`` serves this machine only (loopback)."""
    return address in LOCAL_ADDRESSES or address.startswith("127.")


def _read_secret(path: Path, option: str) -> str:
    """The text of a secrets file, without its trailing newline."""
    if not path.is_file():
        raise WhatifError(
            f"{option}: the file given does not exist; give a file holding the secret "
            f"({_NOT_ON_THE_COMMAND_LINE})"
        )
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise WhatifError(f"{option}: {path} cannot be read ({err})") from None
    if not text:
        raise WhatifError(f"{option}: {path} is empty; write the secret into it")
    return text


def _basic_auth(access: Access, environ) -> str | None:
    """Panel's ``basic_auth``: a users file's path, or the one shared password."""
    if access.basic_auth is not None:
        text = _read_secret(access.basic_auth, "--basic-auth")
        source, path = f"--basic-auth {access.basic_auth}", str(access.basic_auth)
    elif environ.get(ENV["basic_auth"]):
        text, source, path = environ[ENV["basic_auth"]].strip(), ENV["basic_auth"], None
    else:
        return None
    if not text.startswith("{"):
        if "\n" in text:
            raise WhatifError(
                f"{source}: one shared password on one line, or users as JSON "
                '{"alice": "password", ...}'
            )
        return text
    try:
        users = json.loads(text)
    except json.JSONDecodeError as err:
        raise WhatifError(f"{source}: not valid JSON ({err.msg}, line {err.lineno})") from None
    if not users or not all(
        isinstance(v, str) and v and isinstance(k, str) for k, v in users.items()
    ):
        raise WhatifError(
            f'{source}: users as JSON must map each name to a non-empty password, e.g. {{"alice": "..."}}'
        )
    return path or text


def _oauth(access: Access, environ) -> dict:
    """Panel's OAuth keyword arguments, from the secrets file or the environment."""
    provider = access.oauth_provider
    if provider not in OAUTH_PROVIDERS:
        raise WhatifError(
            f"--oauth-provider '{provider}' is not one of {', '.join(OAUTH_PROVIDERS)}"
        )
    values: dict = {}
    if access.oauth_secrets is not None:
        text = _read_secret(access.oauth_secrets, "--oauth-secrets")
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise WhatifError(f"{access.oauth_secrets}: not valid TOML ({err})") from None
        known = ("key", "secret", "encryption_key", "redirect_uri", "extra_params")
        unknown = [k for k in raw if k not in known]
        if unknown:
            raise WhatifError(
                f"{access.oauth_secrets}: unknown key '{unknown[0]}'; valid keys: {', '.join(known)}"
            )
        values = {f"oauth_{k}": v for k, v in raw.items()}
    for name in ("oauth_key", "oauth_secret", "oauth_encryption_key", "oauth_redirect_uri"):
        if name not in values and environ.get(ENV[name]):
            values[name] = environ[ENV[name]]
    missing = [n for n in ("oauth_key", "oauth_secret") if not values.get(n)]
    if missing:
        where = ", ".join(ENV[n] for n in missing)
        raise WhatifError(
            f"--oauth-provider {provider}: no {' or '.join(m[6:] for m in missing)}; put key and "
            f"secret in a TOML file given to --oauth-secrets, or set {where} "
            f"({_NOT_ON_THE_COMMAND_LINE})"
        )
    if "oauth_extra_params" in values and not isinstance(values["oauth_extra_params"], dict):
        raise WhatifError(f"{access.oauth_secrets}: extra_params must be a table")
    return {"oauth_provider": provider, **values}


def server_options(address: str, access: Access | None = None, environ=None) -> dict:
    """The sign-in and safety keyword arguments of ``pn.serve`` for ``address``.

    Parameters
    ----------
    address
        The address to listen on; anything but loopback serves other machines.
    access
        The sign-in options (default: none).
    environ
        Where secrets may come from instead of files (default: ``os.environ``).

    Raises
    ------
    WhatifError
        When a non-local address has no sign-in and no ``--no-auth``, the options contradict
        each other, or a secret is missing or malformed (one line naming the option or file).
    """
    access = access or Access()
    environ = os.environ if environ is None else environ
    options: dict = {"websocket_max_message_size": MAX_MESSAGE_BYTES}
    basic = _basic_auth(access, environ)
    if basic is not None and access.oauth_provider:
        raise WhatifError("--basic-auth and --oauth-provider are two ways to sign in; choose one")
    if access.oauth_secrets is not None and not access.oauth_provider:
        raise WhatifError("--oauth-secrets needs --oauth-provider NAME (e.g. github)")
    signed_in = basic is not None or bool(access.oauth_provider)
    if access.no_auth and signed_in:
        raise WhatifError("--no-auth serves without sign-in; leave out the sign-in options, or it")
    if not signed_in:
        if not is_local(address) and not access.no_auth:
            raise WhatifError(
                f"--address {address} serves the planner to other machines, so it needs sign-in: "
                "add --basic-auth FILE or --oauth-provider NAME (secrets from a file or the "
                "environment), or --no-auth to serve it open on purpose"
            )
        return options
    if basic is not None:
        options["basic_auth"] = basic
    else:
        options.update(_oauth(access, environ))
    if access.cookie_secret is not None:
        options["cookie_secret"] = _read_secret(access.cookie_secret, "--cookie-secret")
    else:
        options["cookie_secret"] = environ.get(ENV["cookie_secret"]) or secrets.token_urlsafe(32)
    return options


def _say(message: str) -> None:
    print(f"whatif: {message}", file=sys.stderr, flush=True)


class ClosedSocketFilter(logging.Filter):
    """Drop asyncio's report of a websocket write that found its browser gone (a tab closed
    while an update was on its way): nothing is wrong, and its traceback would read as a fault."""

    CLOSED = ("WebSocketClosedError", "StreamClosedError")

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        text = record.getMessage()
        closed = type(error).__name__ in self.CLOSED or any(name in text for name in self.CLOSED)
        return not (closed and "never retrieved" in text)


#: The most server processes ``whatif app`` starts by itself.
MAX_DEFAULT_PROCESSES = 4


def default_processes(fitting: bool) -> int:
    """Server processes when none are asked for: one per core this process may use (up to
    :data:`MAX_DEFAULT_PROCESSES`), or one while the model is still to be fitted (its page then
    shows the fit's progress; several processes would wait for the fit before serving)."""
    if fitting:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_PROCESSES))


#: The garbage collector's thresholds while serving (Python's default: 700, 10, 10).
SERVER_GC_THRESHOLDS = (50_000, 50, 50)


def collect_less_often() -> None:
    """Run the garbage collector less often while serving: :data:`SERVER_GC_THRESHOLDS`.

    Each session's page makes some 27,000 objects that live as long as the session. With Python's
    default thresholds the collector ran hundreds of times while one page was built, and its
    older generations walked every open session's objects again: a fifth to a third of the
    server's time when twenty people opened the planner at once (``bench_load.py`` with the
    collector off, and with these thresholds). Cyclic garbage waits longer; Panel still collects
    after sessions end.
    """
    gc.set_threshold(*SERVER_GC_THRESHOLDS)


def skip_busy_bookkeeping() -> None:
    """Let Panel skip its process-wide count of running callbacks (``pn.state.busy``).

    Panel counts each callback of every session while it runs, so that a page may show a
    spinner; each count edits ``pn.state``'s read-only parameters, some 4 ms of a lever move's
    20-60 ms in the server (``bench_load.py``'s moves, timed there). The planner's page shows no
    such spinner (it is detached from ``pn.state.busy``), so nothing reads the count, and
    ``pn.state.busy`` stays False.
    """
    pn.state._add_busy_event = _skip_busy_event
    pn.state._remove_busy_event = _skip_busy_event


def _skip_busy_event(event_id: str) -> None:
    return None


def keep_loaded_objects() -> None:
    """Keep everything loaded so far (the libraries, the model and its tables) out of the garbage
    collector's sweeps, and shared by the server's processes after a fork.

    Sessions make many objects, so full sweeps are frequent, and Panel sweeps again after
    sessions end; each full sweep walked the model's hundreds of thousands of objects too.
    Python's own advice before forking (``gc.freeze``).
    """
    gc.collect()
    gc.freeze()


def do_session_work_in_order(server) -> None:
    """Give the server's session work to one worker thread, in the order it arrives.

    Bokeh 3.10 hands each session's document work (building a page, applying a browser's changes,
    serializing what changed, running a page's callbacks) to thread pools of 4 and 6 threads.
    Under the GIL these only take turns at Python work, so twenty pages asked for at once were
    all finished late, together; one worker finishes the first visitor's page first, while the
    server's own thread goes on answering the network. (Panel's ``--num-threads`` pool, when
    given, is used instead.)
    """
    pool = ThreadPoolExecutor(1, thread_name_prefix="whatif-session")
    responses = getattr(getattr(server, "_tornado", None), "_executor", None)
    if responses is not None and hasattr(responses, "_executor"):
        responses._executor = pool
    server.io_loop.asyncio_loop.set_default_executor(pool)


#: How often a forked serving process checks that the first one is still there, in milliseconds.
PARENT_CHECK_MS = 1000


def end_with_the_first_process(server, parent: int) -> None:
    """Stop this forked serving process once the first process (``parent``) has gone.

    With several processes the first one only forks the others and waits for them. A SIGTERM
    (a service manager, ``kill``) reaches it alone: it ended while the others went on serving,
    holding the port. (Ctrl+C reaches them all.)
    """

    def check() -> None:
        if os.getppid() != parent:
            server.io_loop.stop()

    PeriodicCallback(check, PARENT_CHECK_MS).start()


def serve(
    model_path: str | Path | None = None,
    port: int = 5006,
    address: str = "127.0.0.1",
    show: bool = True,
    root: str | Path = ".",
    access: Access | None = None,
    num_procs: int | None = None,
    num_threads: int | None = None,
) -> None:
    """Serve the planner (``whatif app``): load or fit the model at start, then serve sessions.

    Parameters
    ----------
    num_procs
        Server processes (Bokeh's ``num_procs``): more than one serves sessions on several
        cores; the model is loaded (or fitted) before the processes fork, so they share it.
        ``None``: :func:`default_processes`.
    num_threads
        Panel's thread pool (``pn.config.nthreads``) for session callbacks; ``None``: none.

    Raises
    ------
    ArtefactError
        If ``model_path`` is given and does not exist, or (with several processes) the model
        cannot be loaded.
    WhatifError
        If the sign-in options do not fit the address (see :func:`server_options`).
    """
    options = server_options(address, access)
    logging.getLogger("asyncio").addFilter(ClosedSocketFilter())
    root = Path(root)
    demo_model, survey, spec = demo_paths(root)
    path = Path(model_path) if model_path else demo_model
    if model_path is not None and not path.exists():
        raise ArtefactError(
            f"{path}: no such model; fit one with 'whatif fit DATA --spec SPEC --out {path}'"
        )
    is_demo = path.resolve() == demo_model.resolve()
    provider = get_provider(path, (survey, spec) if is_demo else None, DEMO_FIT).start()
    fitting = provider.status == "fitting" or (is_demo and not path.exists())
    if num_procs is None:
        num_procs = default_processes(fitting)
    if fitting and num_procs == 1:
        _say(
            f"{path} is missing: fitting it in the background from {survey} (the page shows progress)"
        )
    elif fitting:
        _say(
            f"{path} is missing: fitting it from {survey} first; the planner opens when it is done"
        )
    else:
        _say(f"loading the model {path} (a few seconds)")
    if num_procs > 1 or not fitting:
        # loaded before serving: a loading thread does not survive the fork, and what is loaded
        # once is kept out of the garbage collector's sweeps (below)
        provider.wait()
        if num_procs > 1 and provider.status != "ready":
            raise ArtefactError(provider.error)
        if provider.status == "ready":
            keep_loaded_objects()
    collect_less_often()
    skip_busy_bookkeeping()
    if num_threads:
        pn.config.nthreads = num_threads
    os.environ.setdefault("BOKEH_RESOURCES", "server")
    # Bokeh re-inspects every callback's signature as Panel links each widget (a tenth of a
    # session's build); Panel's are right, so served sessions skip that check
    os.environ.setdefault("BOKEH_PERFORM_ERROR_DIAGNOSTICS", "false")
    origins = [f"{host}:{port}" for host in {address, "localhost", "127.0.0.1"} if host]
    if not is_local(address):  # other machines reach it by this machine's names
        names = {socket.gethostname(), socket.getfqdn()}
        extra = [o.strip() for o in os.environ.get("WHATIF_ALLOW_ORIGIN", "").split(",")]
        origins += [f"{name}:{port}" for name in names if name]
        origins += [o if ":" in o else f"{o}:{port}" for o in extra if o]
    first = os.getpid()
    # made before the fork: the processes' loads, which spread the sessions evenly over them
    loads = SharedLoads(num_procs) if num_procs > 1 else None
    try:
        server = pn.serve(
            lambda: create_app(path, root),
            port=port,
            address=address,
            show=show,
            start=False,
            title="whatif planner",
            websocket_origin=origins,
            verbose=False,
            **options,
            num_procs=num_procs,
        )
    except OSError as err:
        raise WhatifError(
            f"cannot serve on {address}:{port} ({err.strerror or err}); choose another --port"
        ) from None
    except KeyboardInterrupt:
        # with several processes the first one waits here for the others, which stop on Ctrl+C
        # themselves and say so; an interrupt is how a planner stops, not a failure
        if process.task_id() is None:
            return
        raise
    host = "localhost" if address in ("127.0.0.1", "0.0.0.0", "") else address
    if not process.task_id():  # the first (or only) process speaks for all
        _say(f"planner on http://{host}:{server.port}/ (model {path}); press Ctrl+C to stop")
    if not num_threads:
        do_session_work_in_order(server)
    wait_for_requests(server)  # pages asked for count as awaiting their headline at once
    if process.task_id() is not None:
        end_with_the_first_process(server, first)
        spread_sessions(server, loads, process.task_id())
    server.start()
    with contextlib.suppress(KeyboardInterrupt):
        server.io_loop.start()  # returns on Ctrl+C (Panel stops the loop on SIGINT)
    if not process.task_id():
        _say("planner stopped")
