"""Errors in the app become messages on the screen, and the screen goes on working.

Textual stops an app when a handler raises. Every handler, action and dialog callback of
an Otos screen is therefore wrapped in ``guarded`` (``tests/test_architecture.py`` checks
that none is missing): an ``OtosError`` (a mistake the user can fix, e.g. "choose a round
first") is shown as it is; any other error as one line naming its kind, because its text
could hold personal data. ``OTOS_DEBUG=1`` lets unexpected errors through to Textual's
traceback. Worker errors reach ``OtosApp.on_worker_state_changed`` and are shown the same way.
"""
from __future__ import annotations

import functools
import inspect
import os
from typing import Any, Callable, TypeVar

from pool.errors import OtosError
from pool.i18n import _

F = TypeVar("F", bound=Callable[..., Any])


def error_message(error: BaseException) -> str:
    """What the user is told about ``error``: the text of a user error, only the kind of
    any other (its text could carry a name or an address)."""
    if isinstance(error, OtosError):
        return str(error)
    return (_("Unexpected error ({name}); nothing more was saved. Run with OTOS_DEBUG=1 to see the details.").format(name=type(error).__name__))


def show_error(app, error: BaseException) -> None:
    """Show ``error`` as a message of the app, or re-raise it when debugging."""
    if not isinstance(error, OtosError) and os.environ.get("OTOS_DEBUG"):
        raise error
    app.notify(error_message(error), severity="error", timeout=12)


def _shielded(call: Callable[..., Any], app_of: Callable[[tuple], Any]) -> Callable[..., Any]:
    """``call`` with any error it raises shown as a message of the app ``app_of(args)``."""
    if inspect.iscoroutinefunction(call):
        @functools.wraps(call)
        async def run_async(*args, **kwargs):
            try:
                return await call(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 (shown, never swallowed silently)
                show_error(app_of(args), exc)
        return run_async

    @functools.wraps(call)
    def run(*args, **kwargs):
        try:
            return call(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            show_error(app_of(args), exc)
    return run


def guarded(handler: F) -> F:
    """Wrap a screen's method (handler, action, ``on_mount``): an error it raises becomes
    a message of ``self.app`` instead of ending the app."""
    return _shielded(handler, lambda args: args[0].app)  # type: ignore[return-value]


class Guarded:
    """Mixed into every Otos screen and dialog: ``self.guard(callback)`` wraps a callback
    (e.g. what a dialog's answer runs) the way ``guarded`` wraps a method."""

    def guard(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        app = self.app  # type: ignore[attr-defined]
        return _shielded(callback, lambda args: app)


def stop_work(screen, *groups: str) -> bool:
    """Cancel ``screen``'s running workers of ``groups``; whether any was running. A
    worker checks ``get_current_worker().is_cancelled`` before it saves or shows anything."""
    running = [w for w in screen.app.workers if w.node is screen and w.group in groups and w.is_running]
    for worker in running:
        worker.cancel()
    return bool(running)
