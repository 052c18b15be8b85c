"""Headlines first (whatif.app.headline_first): while any session waits for its headline, the
later parts of other pages wait -- at most MAX_WAIT_MS -- and then run once each, one at a time,
on their own page."""

from __future__ import annotations

from types import SimpleNamespace

from panel.io.state import set_curdoc

from whatif.app.headline_first import (
    MAX_PART_S,
    MAX_REQUEST_WAIT_S,
    MAX_WAIT_MS,
    HeadlinesFirst,
    wait_for_requests,
)


class FakeDocument:
    """What the scheduler uses of a server session's Bokeh document: its browser connected."""

    def __init__(self):
        self.next_tick, self.timeouts = [], []
        self.session_context = SimpleNamespace(session=SimpleNamespace(connection_count=1))

    def add_next_tick_callback(self, callback):
        self.next_tick.append(callback)

    def add_timeout_callback(self, callback, milliseconds):
        self.timeouts.append((callback, milliseconds))

    def run(self):
        ticks, self.next_tick = self.next_tick, []
        for callback in ticks:
            callback()


def test_outside_a_server_later_parts_run_at_once():
    ran = []
    HeadlinesFirst().later(lambda: ran.append(1))
    assert ran == [1]


def test_later_parts_wait_for_every_headline_then_run_once_on_their_own_page():
    first, second = object(), object()
    scheduler, page, ran = HeadlinesFirst(), FakeDocument(), []
    scheduler.expect(first)
    scheduler.expect(second)
    with set_curdoc(page):
        scheduler.later(lambda: ran.append("levers"))
        scheduler.later(lambda: ran.append("charts"))
    page.run()
    assert ran == [] and scheduler.waiting == 2
    scheduler.served(first)
    page.run()
    assert ran == []  # the second session still waits for its headline
    scheduler.served(second)
    page.run()
    assert ran == ["levers"] and scheduler.waiting == 0  # one at a time
    page.run()
    assert ran == ["levers", "charts"]
    for callback, milliseconds in page.timeouts:  # the time limits that were set meanwhile
        assert milliseconds == MAX_WAIT_MS
        callback()
    page.run()
    assert ran == ["levers", "charts"]  # once each
    scheduler.served(first)  # served twice (a model switched): nothing changes
    assert scheduler.waiting == 0


def test_a_page_whose_browser_never_asks_holds_nobody_up_for_long():
    never, scheduler, page, ran = object(), HeadlinesFirst(), FakeDocument(), []
    scheduler.expect(never)
    with set_curdoc(page):
        scheduler.later(lambda: ran.append("levers"))
    ((callback, milliseconds),) = page.timeouts
    assert milliseconds == MAX_WAIT_MS
    callback()  # the time limit
    page.run()
    assert ran == ["levers"]
    scheduler.served(never)  # the session ends: nothing runs twice
    page.run()
    assert ran == ["levers"]


def test_later_parts_go_one_at_a_time_so_a_page_asked_for_meanwhile_goes_first():
    """The server's one worker runs what is let go in order: parts let go together would make a
    page asked for meanwhile wait behind all of them."""
    scheduler, page, ran, newcomer = HeadlinesFirst(), FakeDocument(), [], object()
    with set_curdoc(page):
        for part in ("levers", "tab", "influencers"):
            scheduler.later(lambda part=part: ran.append(part))
    assert len(page.next_tick) == 1  # only the first is let go
    page.run()
    assert ran == ["levers"] and len(page.next_tick) == 1  # the next goes once it has run
    scheduler.expect(newcomer)  # a page is asked for
    page.run()
    assert ran == ["levers", "tab"] and not page.next_tick  # the rest wait for its headline
    scheduler.served(newcomer)
    page.run()
    assert ran == ["levers", "tab", "influencers"]


def test_a_later_part_that_never_runs_holds_up_the_next_for_a_while(monkeypatch):
    """A part let go on a page whose session ends before its tick never runs: the next goes once
    it has been running MAX_PART_S (when anything next happens)."""
    import whatif.app.headline_first as headline_first

    now = [100.0]
    monkeypatch.setattr(headline_first.time, "monotonic", lambda: now[0])
    scheduler, gone, page, ran = HeadlinesFirst(), FakeDocument(), FakeDocument(), []
    with set_curdoc(gone):
        scheduler.later(lambda: ran.append("never"))
    gone.next_tick.clear()  # the session ended: its tick never comes
    with set_curdoc(page):
        scheduler.later(lambda: ran.append("levers"))
    page.run()
    assert ran == []
    now[0] += MAX_PART_S
    scheduler.served(object())  # anything next
    page.run()
    assert ran == ["levers"]


def test_with_nobody_waiting_later_parts_go_on_the_next_tick():
    scheduler, page, ran = HeadlinesFirst(), FakeDocument(), []
    with set_curdoc(page):
        scheduler.later(lambda: ran.append("charts"))
    assert ran == [] and not page.timeouts
    page.run()
    assert ran == ["charts"]


def test_a_page_whose_browser_has_gone_gets_nothing_more():
    scheduler, page, ran = HeadlinesFirst(), FakeDocument(), []
    with set_curdoc(page):
        scheduler.later(lambda: ran.append("levers"))
    page.session_context.session.connection_count = 0  # the tab was closed before the tick
    page.run()
    assert ran == []


def test_a_page_with_its_headline_is_awaited_until_shown_or_for_a_while():
    """A page that carries its headline waits for its browser's first pull; with several server
    processes that browser may connect to another process, so only for ``within_ms``."""
    shown, elsewhere = object(), object()
    scheduler, page, ran = HeadlinesFirst(), FakeDocument(), []
    with set_curdoc(page):
        scheduler.expect(shown, within_ms=1000)
        scheduler.expect(elsewhere, within_ms=1000)
        scheduler.later(lambda: ran.append("levers"))
    assert [ms for _, ms in page.timeouts] == [1000, 1000, MAX_WAIT_MS]
    scheduler.served(shown)  # its browser pulled it
    page.run()
    assert ran == [] and scheduler.waiting == 1
    page.timeouts[1][0]()  # a second later: the other one's browser never came here
    page.run()
    assert ran == ["levers"] and scheduler.waiting == 0


def test_a_page_with_its_headline_is_not_awaited_outside_a_server():
    scheduler = HeadlinesFirst()
    scheduler.expect(object(), within_ms=1000)
    assert scheduler.waiting == 0


class _Delegate:
    """A request's handler as Tornado's server drives it."""

    def __init__(self):
        self.calls = []

    def headers_received(self, start_line, headers):
        self.calls.append("headers")

    def on_connection_close(self):
        self.calls.append("closed")


def test_a_requested_page_waits_from_its_arrival_until_it_is_answered():
    """The server's requests count as pages on their way before their session is made: a
    planner built meanwhile would make them wait behind it (the server builds pages in order).
    A connection's next request, which Tornado gets ready before any byte of it, does not."""
    scheduler, page, ran, logged, timers = HeadlinesFirst(), FakeDocument(), [], [], []
    delegates = []

    def start_request(connection, request):
        delegates.append(_Delegate())
        return delegates[-1]

    http = SimpleNamespace(start_request=start_request)
    app = SimpleNamespace(log_request=logged.append)
    loop = SimpleNamespace(call_later=lambda delay, *callback: timers.append((delay, callback)))
    wait_for_requests(SimpleNamespace(_http=http, _tornado=app, io_loop=loop), scheduler)
    request = object()
    followed = http.start_request("connection", request)
    assert scheduler.waiting == 0  # no byte of it yet
    followed.headers_received("GET / HTTP/1.1", {})
    assert scheduler.waiting == 1 and delegates[0].calls == ["headers"]
    with set_curdoc(page):
        scheduler.later(lambda: ran.append("levers"))
    page.run()
    assert ran == []  # another page is on its way
    handler = SimpleNamespace(request=SimpleNamespace(connection=request))
    app.log_request(handler)  # answered (its session, when a page, now waits for its pull)
    page.run()
    assert ran == ["levers"] and logged == [handler] and scheduler.waiting == 0
    gone = http.start_request("connection", object())
    gone.headers_received("GET / HTTP/1.1", {})
    gone.on_connection_close()  # its client went away before the answer
    assert scheduler.waiting == 0 and delegates[1].calls == ["headers", "closed"]
    http.start_request("connection", request).headers_received("GET / HTTP/1.1", {})
    assert scheduler.waiting == 1  # a request that is never answered nor closed
    delay, (callback, *args) = timers[-1]
    assert delay == MAX_REQUEST_WAIT_S
    callback(*args)
    assert scheduler.waiting == 0
