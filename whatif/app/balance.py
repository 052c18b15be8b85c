"""Sessions spread evenly over the server's processes.

With several processes (``whatif app --num-procs``) every process listens on the same socket,
and Tornado lets whichever wakes first accept every connection waiting: when ten people opened
the planner at once, one process often got seven, eight or nine of them and then answered
70-90% of their lever moves while the other core idled (``benchmarks/bench_load.py``).

Here each process accepts one connection at a time, and only while it is among the least loaded:
its load is its open websockets (the sessions it serves), and of processes equally loaded, the
one that just sent a page takes that page's websocket. The loads live in a small table in memory
shared by the processes (:class:`SharedLoads`, made before they fork); a process above the least
loaded stops listening and looks again every :data:`CHECK_MS`. The least loaded always listens,
so a connection never waits for a process to look again; a process that stopped refreshing its
row for :data:`STALE_S` (it has ended) is left out.
"""

from __future__ import annotations

import mmap
import time
import weakref
from collections import deque

import numpy as np
from bokeh.server.views.doc_handler import DocHandler
from tornado.ioloop import IOLoop, PeriodicCallback

from whatif.app.request_hooks import follow_requests

__all__ = [
    "CHECK_MS",
    "PAGE_WAIT_S",
    "RECENT_S",
    "STALE_S",
    "SharedLoads",
    "may_accept",
    "spread_sessions",
]

#: How long an accepted connection counts towards its process's load before its request is read,
#: in seconds (a client that connects and sends nothing counts no longer).
RECENT_S = 0.5
#: How long a page sent waits for its websocket, in seconds: meanwhile its process is preferred
#: among the least loaded, so the websocket comes to the process that built the page.
PAGE_WAIT_S = 3.0
#: How often each process refreshes its row and a process that stopped listening looks again (ms).
CHECK_MS = 25
#: A row not refreshed for this long is a process that has ended, in seconds.
STALE_S = 2.0


def may_accept(loads: np.ndarray, refreshed: np.ndarray, me: int, now: float) -> bool:
    """Whether process ``me`` may accept a connection: its load is the least of the processes
    still running (ties all accept).

    Parameters
    ----------
    loads, refreshed
        Each process's load and when it last refreshed it (``time.monotonic``).
    me
        This process's row.
    now
        The time (``time.monotonic``).
    """
    running = now - refreshed < STALE_S
    running[me] = True
    return bool(loads[me] <= loads[running].min())


class SharedLoads:
    """Each server process's load and when it refreshed it, in anonymous shared memory: made
    before the processes fork, every one of them reads and writes the same table (each writes
    its own row only).

    Parameters
    ----------
    n
        The number of processes.
    """

    def __init__(self, n: int):
        self._memory = mmap.mmap(-1, 16 * n)
        table = np.frombuffer(self._memory, dtype=np.float64).reshape(n, 2)
        self.loads, self.refreshed = table[:, 0], table[:, 1]

    def write(self, me: int, load: float) -> None:
        """Record process ``me``'s load now."""
        self.loads[me] = load
        self.refreshed[me] = time.monotonic()

    def may_accept(self, me: int) -> bool:
        """:func:`may_accept` on the table as it is now."""
        return may_accept(self.loads.copy(), self.refreshed.copy(), me, time.monotonic())


class _Listener:
    """One process's side: accepts a connection at a time, while it is among the least loaded.

    Its load is the sessions it serves, as open websockets (from the handshake's answer on: the
    session's page may still be being built), and the connections it accepted whose request has
    not come yet (for :data:`RECENT_S` at most): a websocket's handshake is on its way. A page
    request being answered is not counted: pages are quick and bursty, and counting them sent
    websockets to whichever process happened to have no page to build at that moment, so the
    sessions ended unevenly spread. A process that sent a page whose websocket has not come yet
    (for :data:`PAGE_WAIT_S` at most) counts half a session less: of processes equally loaded,
    it alone listens, so a browser's websocket comes to the process that built its page, and
    no other builds it again (a tenth of a second before the headline).
    """

    def __init__(self, loop: IOLoop, http, shared: SharedLoads, me: int):
        self.loop, self.http, self.shared, self.me = loop, http, shared, me
        self.accepted: deque[float] = deque()  # when connections with no request yet came
        self.websockets: weakref.WeakSet = weakref.WeakSet()  # handlers of opened websockets
        self.pages: deque[float] = deque()  # when pages whose websocket has not come were sent
        self.paused: dict[int, object] = {}  # file descriptor -> listening socket

    def load(self) -> float:
        now = time.monotonic()
        while self.accepted and self.accepted[0] < now - RECENT_S:
            self.accepted.popleft()
        while self.pages and self.pages[0] < now - PAGE_WAIT_S:
            self.pages.popleft()
        open_websockets = sum(1 for h in list(self.websockets) if h.ws_connection is not None)
        # half a session less with a page waiting for its websocket: among equally loaded
        # processes, the one that built the page takes it (otherwise another builds it again)
        return len(self.accepted) + open_websockets - 0.5 * bool(self.pages)

    def publish(self) -> None:
        """Write this process's load to the shared table, now."""
        self.shared.write(self.me, self.load())

    def request_started(self) -> None:
        """A request has arrived: one accepted connection has sent one."""
        if self.accepted:
            self.accepted.popleft()

    def request_logged(self, handler) -> None:
        """Tornado's application has answered a request (a websocket: its handshake)."""
        if handler.get_status() == 101 and getattr(handler, "ws_connection", None) is not None:
            self.websockets.add(handler)
            if self.pages:
                self.pages.popleft()
        elif isinstance(handler, DocHandler) and handler.get_status() == 200:
            self.pages.append(time.monotonic())
        else:
            return
        self.publish()  # at once: the browser may connect right away

    def refresh(self) -> None:
        self.publish()
        if self.paused and self.shared.may_accept(self.me):
            for fd, sock in list(self.paused.items()):
                del self.paused[fd]
                self.loop.add_handler(sock, self.on_readable, IOLoop.READ)

    def on_readable(self, sock, events: int) -> None:
        self.publish()
        if not self.shared.may_accept(self.me):
            self.loop.remove_handler(sock)
            self.paused[sock.fileno()] = sock
            return
        try:
            connection, address = sock.accept()
        except (BlockingIOError, ConnectionAbortedError):
            return  # another process took it, or the client gave up
        self.accepted.append(time.monotonic())
        self.publish()
        self.http._handle_connection(connection, address)


def spread_sessions(server, shared: SharedLoads, me: int) -> None:
    """Make server process ``me`` (Tornado's ``task_id``) accept connections only while it is
    among the least loaded of the processes sharing ``shared``; call it in every process after
    the fork, before the server starts.

    Replaces Tornado's accept handlers on the listening sockets (which accept every waiting
    connection at once) with :class:`_Listener`'s, follows the requests and websockets the
    server answers (:func:`~whatif.app.request_hooks.follow_requests`), and refreshes the
    process's row every :data:`CHECK_MS`.
    """
    http = server._http
    listener = _Listener(server.io_loop, http, shared, me)
    follow_requests(server, lambda request: listener.request_started(), listener.request_logged)
    for fd, sock in http._sockets.items():
        http._handlers.pop(fd)()  # Tornado's own handler: removed from the loop
        listener.loop.add_handler(sock, listener.on_readable, IOLoop.READ)
        http._handlers[fd] = lambda sock=sock: _stop_listening(listener, sock)
    listener.refresh()
    PeriodicCallback(listener.refresh, CHECK_MS).start()


def _stop_listening(listener: _Listener, sock) -> None:
    """What Tornado calls when the server stops: no more accepting on ``sock``."""
    if listener.paused.pop(sock.fileno(), None) is None:
        listener.loop.remove_handler(sock)
