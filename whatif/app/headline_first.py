"""Headlines first: while any session of this process still waits for its headline, the parts
other sessions show after theirs (the levers, the open tab's charts) wait.

A page whose model is loaded carries its headline from the first byte (a fresh session's
headline is everyone's): it waits until its browser shows it, which takes the browser's
connection and its first pull of the page, or at most a second (with several server processes
that connection may reach another process, and this one never hears from it). Pages that opened
on the status page wait until their model is ready and their headline made. Twenty people
opening the planner at once thus all see their headline before anyone's levers and charts are
built (about half a second of one core each), instead of the late ones waiting behind them.
:data:`HEADLINES_FIRST` queues the later parts of pages until no session of the process is
waiting for its headline -- or at most :data:`MAX_WAIT_MS` -- and then lets them go in order, one
at a time, so that a page asked for meanwhile waits behind one of them at most.
Nothing is built for a page whose browser has gone (:func:`abandoned`). A person alone on the
server sees no difference: their own headline is the last one awaited.

A page counts as waiting from its request's arrival, not only once its session is made: the
server's one worker builds pages in order, and a planner scheduled while other requests were
still queued made them wait behind it (twenty pages asked for at once: the last headlines came
after 4-5 s instead of 2). :func:`wait_for_requests` follows the server's requests for that.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import panel as pn
from panel.io.state import set_curdoc

from whatif.app.request_hooks import follow_requests

__all__ = [
    "HEADLINES_FIRST",
    "MAX_PART_S",
    "MAX_REQUEST_WAIT_S",
    "MAX_WAIT_MS",
    "HeadlinesFirst",
    "abandoned",
    "wait_for_requests",
]

#: The longest a session's later parts wait for other sessions' headlines, in milliseconds.
MAX_WAIT_MS = 2500
#: The longest a request counts as a page on its way, in seconds (its client may have gone).
MAX_REQUEST_WAIT_S = 5.0
#: The longest one later part holds up the next, in seconds (its session may end before it runs).
MAX_PART_S = 2.0


def abandoned(doc) -> bool:
    """Whether the browser of a served page has gone (its websocket closed; a reload makes a new
    session): nobody will see what is made for it."""
    session = getattr(doc.session_context, "session", None)
    return session is not None and session.connection_count == 0


class _Later:
    """One session's later part: runs once, on its own page's next tick, if anybody still looks
    at that page; ``finished`` is told when it has run (or will not)."""

    def __init__(self, doc, callback: Callable[[], None], finished: Callable[[_Later], None]):
        self.doc, self.callback, self.finished = doc, callback, finished
        self.due = False  # waited its longest for others' headlines
        self.started = 0.0

    def schedule(self) -> None:
        self.started = time.monotonic()
        try:
            with set_curdoc(self.doc):
                pn.state.execute(self._run, schedule=True)
        except Exception:  # noqa: BLE001 - the session has ended meanwhile: nothing to show
            self.finished(self)

    def _run(self) -> None:
        try:
            if not abandoned(self.doc):
                self.callback()
        finally:
            self.finished(self)


class HeadlinesFirst:
    """The sessions of this process still waiting for their headline, and the later parts of
    others' pages that wait for them, let go one at a time."""

    def __init__(self):
        self._waiting: set[int] = set()
        self._queue: list[_Later] = []
        self._running: _Later | None = None
        # the server's loop (requests) and its session worker (pages) both come here
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        """How many sessions wait for their headline."""
        return len(self._waiting)

    def expect(self, session: object, within_ms: int | None = None) -> None:
        """A session was opened and will ask for its headline (awaited at most ``within_ms``,
        when given, from now)."""
        with self._lock:
            self._waiting.add(id(session))
        if within_ms is None:
            return
        try:
            pn.state.curdoc.add_timeout_callback(lambda: self.served(session), within_ms)
        except Exception:  # noqa: BLE001 - no loop to wait on: not awaited
            self.served(session)

    def served(self, session: object) -> None:
        """A session's headline is out (or the session ended, or shows a status page instead)."""
        with self._lock:
            self._waiting.discard(id(session))
        self._next()

    def later(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on this page's next tick once no session waits for its headline
        (at most :data:`MAX_WAIT_MS` from now) and no other page's later part is running; at
        once outside a server."""
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            callback()
            return
        part = _Later(doc, callback, self._finished)
        with self._lock:
            self._queue.append(part)
            waits = bool(self._waiting)
        if waits:
            try:
                doc.add_timeout_callback(lambda: self._due(part), MAX_WAIT_MS)
            except Exception:  # noqa: BLE001 - no loop to wait on: go now
                part.due = True
        self._next()

    def _due(self, part: _Later) -> None:
        part.due = True
        self._next()

    def _finished(self, part: _Later) -> None:
        with self._lock:
            if self._running is part:
                self._running = None
        self._next()

    def _next(self) -> None:
        """Let the next later part go, unless one is running or (before its time limit) a
        session waits for its headline.

        One at a time: the server's one worker runs what is let go in order, so parts let go
        together made a page asked for meanwhile wait behind all of them (twenty pages asked
        for at once: the last two headlines came after 5 s, behind a dozen charts)."""
        with self._lock:
            running = self._running
            if running is not None and time.monotonic() - running.started < MAX_PART_S:
                return
            ready = next((p for p in self._queue if p.due or not self._waiting), None)
            self._running = ready
            if ready is None:
                return
            self._queue.remove(ready)
        ready.schedule()


#: The one scheduler of this process.
HEADLINES_FIRST = HeadlinesFirst()


def wait_for_requests(server, scheduler: HeadlinesFirst = HEADLINES_FIRST) -> None:
    """Make every request the Bokeh ``server`` receives count as a page on its way for
    ``scheduler``, from its arrival until it is answered or its client has gone
    (:data:`MAX_REQUEST_WAIT_S` at most): requests for files and websockets' handshakes are
    answered at once, pages once built (:func:`~whatif.app.request_hooks.follow_requests`)."""
    loop = server.io_loop

    def arrived(request) -> None:
        scheduler.expect(request)
        loop.call_later(MAX_REQUEST_WAIT_S, scheduler.served, request)

    follow_requests(
        server,
        arrived,
        lambda handler: scheduler.served(handler.request.connection),
        scheduler.served,
    )
