"""User errors in a screen's handlers become messages, and the screen goes on working.

Textual stops a screen's message loop when a handler raises, so an ``OtosError`` (a
mistake the user can fix, e.g. "choose a round first") must be caught before that:
every Otos screen and dialog mixes in ``Guarded``; key-bound actions are guarded in
``OtosApp._dispatch_action``.
"""
from __future__ import annotations

from pool.errors import OtosError


class Guarded:
    async def _dispatch_message(self, message) -> None:  # noqa: D401 (textual's hook)
        try:
            await super()._dispatch_message(message)  # type: ignore[misc]
        except OtosError as exc:
            self.app.notify(str(exc), severity="error", timeout=10)  # type: ignore[attr-defined]
