"""Interrupts of a command that writes: Ctrl-C and SIGTERM become one exception, and are remembered.

The command line wraps ``whatif fit``, ``refit`` and ``demo``'s fit in :func:`handling_signals`:
SIGINT and SIGTERM then raise :class:`Interrupted` (a :class:`KeyboardInterrupt`, so everything
that cleans up after Ctrl-C cleans up after SIGTERM too) and are recorded, so that an interrupt
whose exception a library swallowed (in a finalizer, or a sampler returning the draws so far) is
still seen: :func:`check` raises it again, and :func:`~whatif.fitting.artefact.save_model` calls
it, inside :func:`deferred`, right before it swaps an artefact into place.

Outside :func:`handling_signals` (a library, the planner's background fits) nothing is installed:
:func:`check` never raises and :func:`deferred` only blocks the signals at the OS level.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Interrupted", "InterruptedFit", "check", "deferred", "handling_signals"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; handled wherever Ctrl-C is.

    Parameters
    ----------
    signum
        The signal (its exit code is 128 + the signal number: 130 for SIGINT, 143 for SIGTERM).
    message
        What was interrupted, if more than the signal's name says.
    """

    def __init__(self, signum: int = signal.SIGINT, message: str = ""):
        self.signum = signal.Signals(signum)
        super().__init__(message or self.signum.name)

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum)


class InterruptedFit(Interrupted):
    """The sampler returned fewer chains or draws than asked for, as nutpie does on an interrupt."""


# Process-wide by nature: signals are delivered to the process, and their Python handlers run in
# the main thread only.
_received: list[int] = []
_deferring = 0
_installed = False


def _handler(signum: int, _frame) -> None:
    _received.append(signum)
    if not _deferring:
        raise Interrupted(signum)


def _unraisable_unless_interrupted(previous):
    """``sys.unraisablehook`` that drops :class:`Interrupted` raised where Python cannot raise
    (a finalizer, a weakref callback in the garbage collector): the signal is remembered and
    :func:`check` raises it in time, so Python's "Exception ignored" traceback is only noise."""

    def hook(unraisable) -> None:
        if not isinstance(unraisable.exc_value, Interrupted):
            previous(unraisable)

    return hook


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def handling_signals() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise :class:`Interrupted` and are remembered.

    An :class:`Interrupted` that Python cannot raise (it landed in a finalizer) is not reported
    as "Exception ignored": it is remembered, and :func:`check` raises it. Any other error that
    leaves the block after a signal is the interrupt too (numba's dispatcher, for one, turns an
    exception raised in its Python callbacks into ``SystemError``). The previous handlers
    are restored on leaving. Outside the main thread (where Python cannot install handlers) the
    block changes nothing.
    """
    global _installed
    if not _main_thread() or _installed:
        yield
        return
    _received.clear()
    previous = {sig: signal.signal(sig, _handler) for sig in SIGNALS}
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _unraisable_unless_interrupted(previous_hook)
    _installed = True
    try:
        yield
    except Exception as err:
        if _received:  # a library turned the interrupt into its own error on the way up
            raise Interrupted(_received[0]) from err
        raise
    finally:
        with _blocked():
            for sig, handler in previous.items():
                # None: a handler installed from C, which Python cannot reinstate
                signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
            sys.unraisablehook = previous_hook
            _installed = False
            _received.clear()


def check() -> None:
    """Raise :class:`Interrupted` if a signal arrived since :func:`handling_signals` began.

    Raises even when the first exception was swallowed on its way up, so that nothing is written
    after an interrupt. Never raises outside :func:`handling_signals`.
    """
    if _received:
        raise Interrupted(_received[0])


@contextmanager
def _blocked() -> Iterator[None]:
    """Hold SIGINT and SIGTERM at the OS level in this (main) thread until the block ends."""
    if not _main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


@contextmanager
def deferred() -> Iterator[None]:
    """Run the block uninterrupted: a signal arriving meanwhile is raised when it ends.

    For steps that must not be cut in two, such as the two renames that swap an artefact into
    place. Signals are blocked at the OS level in the main thread (a default SIGTERM cannot kill
    the process halfway) and, for one landing in another thread, :func:`handling_signals`'
    handler holds its exception back.
    """
    global _deferring
    if not _main_thread():
        yield
        return
    _deferring += 1
    try:
        with _blocked():
            yield
    finally:
        _deferring -= 1
    check()
