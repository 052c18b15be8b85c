"""Serving the planner (``whatif app``): start loading or fitting the model, then serve sessions.

:func:`serve` starts the model's :class:`~whatif.app.provider.ModelProvider` at once (fitting the
demo model in the background when it is missing) and serves one
:func:`~whatif.app.page.create_app` page per browser session until Ctrl+C.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import panel as pn
from tornado import process

from whatif.app.demo import DEMO_FIT, demo_paths
from whatif.app.page import create_app
from whatif.app.provider import get_provider
from whatif.errors import ArtefactError, WhatifError

__all__ = ["serve"]


def _say(message: str) -> None:
    print(f"whatif: {message}", file=sys.stderr, flush=True)


def serve(
    model_path: str | Path | None = None,
    port: int = 5006,
    address: str = "127.0.0.1",
    show: bool = True,
    root: str | Path = ".",
    num_procs: int = 1,
    num_threads: int | None = None,
) -> None:
    """Serve the planner (``whatif app``): load or fit the model at start, then serve sessions.

    Parameters
    ----------
    num_procs
        Server processes (Bokeh's ``num_procs``): more than one serves sessions on several
        cores; the model is loaded (or fitted) before the processes fork, so they share it.
    num_threads
        Panel's thread pool (``pn.config.nthreads``) for session callbacks; ``None``: none.

    Raises
    ------
    ArtefactError
        If ``model_path`` is given and does not exist, or (with several processes) the model
        cannot be loaded.
    """
    root = Path(root)
    demo_model, survey, spec = demo_paths(root)
    path = Path(model_path) if model_path else demo_model
    if model_path is not None and not path.exists():
        raise ArtefactError(
            f"{path}: no such model; fit one with 'whatif fit DATA --spec SPEC --out {path}'"
        )
    is_demo = path.resolve() == demo_model.resolve()
    provider = get_provider(path, (survey, spec) if is_demo else None, DEMO_FIT).start()
    if provider.status == "fitting" or (is_demo and not path.exists()):
        _say(
            f"{path} is missing: fitting it in the background from {survey} (the page shows progress)"
        )
    if num_procs > 1:  # a loading thread does not survive the fork: load it first
        provider.wait()
        if provider.status != "ready":
            raise ArtefactError(provider.error)
    if num_threads:
        pn.config.nthreads = num_threads
    os.environ.setdefault("BOKEH_RESOURCES", "server")
    origins = [f"{host}:{port}" for host in {address, "localhost", "127.0.0.1"} if host]
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
            num_procs=num_procs,
        )
    except OSError as err:
        raise WhatifError(
            f"cannot serve on {address}:{port} ({err.strerror or err}); choose another --port"
        ) from None
    host = "localhost" if address in ("127.0.0.1", "0.0.0.0", "") else address
    if not process.task_id():  # the first (or only) process speaks for all
        _say(f"planner on http://{host}:{server.port}/ (model {path}); press Ctrl+C to stop")
    server.start()
    with contextlib.suppress(KeyboardInterrupt):
        server.io_loop.start()  # returns on Ctrl+C (Panel stops the loop on SIGINT)
    if not process.task_id():
        _say("planner stopped")
