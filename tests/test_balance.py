"""Sessions spread evenly over the planner's processes (:mod:`whatif.app.balance`): the rule, the
table the processes share, a process that stops and starts listening, and a real planner of two
processes."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from bokeh.server.views.doc_handler import DocHandler
from planner_processes import children, planner_of_two_processes
from tornado.ioloop import IOLoop

from whatif.app.balance import (
    PAGE_WAIT_S,
    RECENT_S,
    STALE_S,
    SharedLoads,
    _Listener,
    may_accept,
)


def test_the_least_loaded_process_accepts_and_ties_all_accept():
    loads, now = np.array([2.0, 1.0, 1.0]), 100.0
    refreshed = np.full(3, now)
    assert not may_accept(loads, refreshed.copy(), 0, now)
    assert may_accept(loads, refreshed.copy(), 1, now)
    assert may_accept(loads, refreshed.copy(), 2, now)


def test_a_process_that_stopped_refreshing_its_row_is_left_out():
    loads, now = np.array([3.0, 0.0]), 100.0
    refreshed = np.array([now, now - STALE_S - 0.1])  # the second one has ended
    assert may_accept(loads, refreshed.copy(), 0, now)
    # a process reads its own row as running, however old
    assert may_accept(np.array([0.0, 5.0]), np.array([0.0, now]), 0, now)


def test_the_processes_forked_after_the_table_share_it():
    shared = SharedLoads(2)
    shared.write(0, 4.0)
    pid = os.fork()
    if pid == 0:  # the forked process writes its row and ends
        shared.write(1, 1.0)
        os._exit(0)
    os.waitpid(pid, 0)
    assert shared.loads.tolist() == [4.0, 1.0]
    assert not shared.may_accept(0) and shared.may_accept(1)


class _Loop:
    """The loop's handlers, recorded."""

    def __init__(self):
        self.handlers = {}

    def add_handler(self, sock, callback, events):
        self.handlers[sock.fileno()] = callback

    def remove_handler(self, sock):
        del self.handlers[sock.fileno()]


class _Server:
    """What the listener hands accepted connections to."""

    def __init__(self):
        self.connections = []

    def _handle_connection(self, connection, address):
        self.connections.append(connection)


@pytest.fixture
def listening():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def _connect(sock) -> socket.socket:
    client = socket.create_connection(sock.getsockname(), timeout=5)
    time.sleep(0.05)  # in the listening socket's queue
    return client


class _Handler:
    """A request handler as Tornado's application logs it."""

    def __init__(self, request, status: int = 200):
        self.request = type("Request", (), {"connection": request})()
        self.status = status
        self.ws_connection = object() if status == 101 else None

    def get_status(self) -> int:
        return self.status


def test_a_process_above_the_least_loaded_stops_listening_until_it_is_not(listening):
    loop, server, shared = _Loop(), _Server(), SharedLoads(2)
    listener = _Listener(loop, server, shared, 0)
    loop.add_handler(listening, listener.on_readable, IOLoop.READ)
    websockets = [_Handler(request, 101) for request in ("a", "b")]  # Tornado holds them
    for websocket in websockets:  # two websockets open here, none in the other process
        listener.request_started()
        listener.request_logged(websocket)
    shared.write(1, 0.0)
    client = _connect(listening)
    listener.on_readable(listening, IOLoop.READ)
    assert not server.connections and listening.fileno() not in loop.handlers  # paused
    listener.refresh()
    assert listening.fileno() not in loop.handlers  # the other process is still less loaded
    shared.write(1, 3.0)  # the other process now serves three sessions
    listener.refresh()
    assert listening.fileno() in loop.handlers  # listening again
    listener.on_readable(listening, IOLoop.READ)
    assert len(server.connections) == 1  # the waiting connection, accepted
    assert shared.loads[0] == 3.0  # two websockets and the connection just accepted
    for s in (client, *server.connections):
        s.close()


def test_a_process_accepts_one_connection_at_a_time(listening):
    loop, server, shared = _Loop(), _Server(), SharedLoads(1)
    listener = _Listener(loop, server, shared, 0)
    clients = [_connect(listening) for _ in range(3)]
    listener.on_readable(listening, IOLoop.READ)
    assert len(server.connections) == 1  # Tornado's own handler took all three at once
    assert listener.load() == 1
    listener.accepted[0] -= RECENT_S + 0.01  # a client that sends nothing counts no longer
    assert listener.load() == 0
    for s in (*clients, *server.connections):
        s.close()


def test_the_load_is_open_websockets_and_connections_yet_to_send_their_request():
    listener = _Listener(_Loop(), _Server(), SharedLoads(1), 0)
    listener.accepted.extend([time.monotonic()] * 2)
    assert listener.load() == 2
    listener.request_started()  # a page requested on one of them: no load once answered
    listener.request_started()  # a websocket's handshake on the other
    listener.request_logged(_Handler("page"))
    websocket = _Handler("websocket", 101)
    listener.request_logged(websocket)  # the handshake answered: open until closed
    assert listener.load() == 1
    websocket.ws_connection = None  # closed, as Tornado marks it
    assert listener.load() == 0


class _Page(DocHandler):
    """A planner page request, answered (Bokeh's document handler, as Tornado logs it)."""

    def __init__(self):  # no server: only what the listener reads
        self.request = type("Request", (), {"connection": "page"})()

    def get_status(self) -> int:
        return 200


def test_a_process_that_sent_a_page_takes_its_websocket_among_the_equally_loaded():
    shared = SharedLoads(2)
    listener = _Listener(_Loop(), _Server(), shared, 0)
    shared.write(1, 0.0)
    listener.request_started()
    listener.request_logged(_Page())
    assert shared.loads[0] == -0.5  # written at once: the browser may connect right away
    assert shared.may_accept(0) and not shared.may_accept(1)  # the page's websocket comes here
    websocket = _Handler("websocket", 101)
    listener.request_logged(websocket)
    assert listener.load() == 1 and not listener.pages  # the page's websocket came
    listener.request_logged(_Page())
    listener.pages[0] -= PAGE_WAIT_S + 0.01  # a page whose websocket never came
    assert listener.load() == 1


def _established(pid: int, port: int) -> int:
    """Connections process ``pid`` holds open on ``port`` (Linux's /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            inodes.update(re.findall(r"socket:\[(\d+)\]", os.readlink(fd)))
        except OSError:
            continue
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01" and fields[9] in inodes:
                count += 1
    return count


async def _split_of_sessions(pid: int, port: int, n: int) -> list[int]:
    """How ``n`` planner sessions, opened one after another as browsers do (the page, then its
    websocket; each once the one before is connected and its page request forgotten), fall to
    the processes of the planner ``pid``: the connections each holds open, fewest first."""
    from tornado.httpclient import AsyncHTTPClient
    from tornado.websocket import websocket_connect

    sockets = []
    for _ in range(n):
        page = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}/", request_timeout=60)
        token = re.search(r'"token":"([^"]+)"', page.body.decode()).group(1)
        await asyncio.sleep(RECENT_S + 0.2)
        ws = await websocket_connect(
            f"ws://127.0.0.1:{port}/ws", subprotocols=["bokeh", token], connect_timeout=60
        )
        await asyncio.wait_for(ws.read_message(), 60)  # the server's first message: connected
        sockets.append(ws)
        await asyncio.sleep(RECENT_S + 0.2)
    try:
        return sorted(_established(child, port) for child in children(pid))
    finally:
        for ws in sockets:
            ws.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")
def test_a_planner_of_two_processes_gives_each_half_of_the_sessions(tiny_model_path):
    # the clients in a thread of their own: a browser test before this one may leave an event
    # loop running in this thread
    with planner_of_two_processes(tiny_model_path) as (proc, port), ThreadPoolExecutor(1) as thread:
        split = thread.submit(asyncio.run, _split_of_sessions(proc.pid, port, 6)).result()
    assert split == [3, 3]
