"""Following the requests a Bokeh server receives: when each one arrives and when it is answered.

Tornado's HTTP server asks its delegate for a request's handler as soon as a connection can
carry one, before any byte of it (a new connection, and a kept-alive one after each answer);
most of those never come. A request has arrived once its headers have: that is when the
delegate's ``headers_received`` runs. It is answered when the application logs it (a page sent,
a file, a websocket's handshake), or gone when its connection closes first.
"""

from __future__ import annotations

from collections.abc import Callable

from tornado import httputil

__all__ = ["follow_requests"]


class _Followed(httputil.HTTPMessageDelegate):
    """A request's delegate that says when the request arrives and when its client goes."""

    def __init__(self, delegate, request, arrived: Callable, gone: Callable):
        self.delegate, self.request, self.arrived, self.gone = delegate, request, arrived, gone

    def headers_received(self, start_line, headers):
        self.arrived(self.request)
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk):
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        self.delegate.finish()

    def on_connection_close(self) -> None:
        self.gone(self.request)
        self.delegate.on_connection_close()


def follow_requests(
    server,
    arrived: Callable[[object], None],
    answered: Callable[[object], None],
    gone: Callable[[object], None] | None = None,
) -> None:
    """Call ``arrived(request)`` when a request's headers reach the Bokeh ``server``,
    ``answered(handler)`` when the server has answered it (``handler.request.connection`` is
    the request) and ``gone(request)`` when its connection closed before (default: nothing)."""
    http, app = server._http, server._tornado
    start_request, log_request = http.start_request, app.log_request
    gone = gone or (lambda request: None)

    def started(server_connection, request):
        return _Followed(start_request(server_connection, request), request, arrived, gone)

    def logged(handler):
        answered(handler)
        log_request(handler)

    http.start_request, app.log_request = started, logged
