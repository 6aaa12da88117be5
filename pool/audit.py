"""The append-only, keyed, hash-chained audit log.

Each entry stores who, when, what, with counts and hashes (never personal data), the
hash of the previous entry and its own hash over all of that:

    hash = HMAC-SHA256(key, JSON [prev_hash, at, actor, action, details])

Changing, removing or reordering any entry breaks the chain, which ``verify`` finds;
the database also refuses UPDATE and DELETE on the table (triggers). The key lives
outside the database (``audit_key``), so someone with only database access cannot
write entries that verify. What the chain alone cannot show is the newest entries cut
off, or a whole chain rewritten by someone who holds the key: for that the official
files an anchor (``anchor``: entry count and head hash) outside the database, and
``verify(anchor=...)`` fails when any entry up to it was removed or changed.

Entries written before keys existed (migration 0005) have no key id and are checked
with plain SHA-256; they may only open the chain, never follow a keyed entry.
"""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select, text
from sqlmodel import Session

from pool.errors import OtosError
from pool.models import AuditEntry
from pool.i18n import _

GENESIS = "0" * 64
KEY_ENV = "OTOS_AUDIT_KEY"
KEY_FILE_ENV = "OTOS_AUDIT_KEY_FILE"
_ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


def actor() -> str:
    """Who acts: ``OTOS_USER`` when set (a configured name), else the OS user."""
    name = os.environ.get("OTOS_USER")
    if name:
        return name[:100]
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers)
        return "unknown"


def key_file() -> Path:
    """``$OTOS_AUDIT_KEY_FILE``, else ``audit.key`` beside the user's Otos config."""
    given = os.environ.get(KEY_FILE_ENV)
    if given:
        return Path(given)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "otos" / "audit.key"


def audit_key(create: bool = True) -> bytes:
    """The key that signs audit entries: ``$OTOS_AUDIT_KEY`` (a team's shared secret for
    PostgreSQL), else the user's owner-only key file, made with 32 random bytes on first
    use. A key file others can read is refused: its key could forge entries."""
    given = os.environ.get(KEY_ENV)
    if given is not None:
        if len(given.strip()) < 16:
            raise OtosError(_("{key_env} is too short to be a key.").format(key_env=KEY_ENV),
                            hint=_("Use at least 16 random characters, the same for everyone on the team."))
        return given.strip().encode("utf-8")
    path = key_file()
    if not path.exists():
        if not create:
            raise OtosError(_("There is no audit key at {path}.").format(path=path),
                            hint=_("Give the key that signed the log in {key_env} or {key_file_env}.").format(key_env=KEY_ENV, key_file_env=KEY_FILE_ENV))
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except FileExistsError:
            pass  # another Otos process made it just now
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    if path.stat().st_mode & 0o077:
        raise OtosError(_("The audit key file {path} can be read by other users.").format(path=path),
                        hint=_("Make it owner-only (chmod 600 {path}); if others may have read it, make a new key and file an anchor of the log now.").format(path=path))
    key = path.read_text("utf-8").strip()
    if len(key) < 16:
        raise OtosError(_("The audit key file {path} holds no usable key.").format(path=path), hint=_("Restore it from its backup."))
    return key.encode("utf-8")


def key_id(key: bytes) -> str:
    """A public name for a key (it reveals nothing of the key)."""
    return hmac.new(key, b"otos audit key id", hashlib.sha256).hexdigest()[:16]


def entry_hash(prev_hash: str, at: str, who: str, action: str, details: str, key: bytes | None = None) -> str:
    payload = json.dumps([prev_hash, at, who, action, details], ensure_ascii=False).encode("utf-8")
    if key is None:  # entries from before keyed hashes
        return hashlib.sha256(payload).hexdigest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def take_write_lock(session: Session) -> None:
    """Hold the database's write lock from here to the end of the transaction, so the
    chain head read next cannot change before this entry is written.

    PostgreSQL: a table lock. SQLite: a statement that writes nothing still takes the
    write lock (and waits for it, see ``pool.db``); SQLite reads outside a write
    transaction run on their own, so a head read before this could be stale.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE audit_entry IN EXCLUSIVE MODE"))
    else:
        session.execute(text("DELETE FROM audit_entry WHERE 0"))


def record(session: Session, action: str, **details: object) -> AuditEntry:
    """Append an entry in the caller's transaction, so it lands only if the action does."""
    key = audit_key()
    take_write_lock(session)
    last = session.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
    prev = last or GENESIS
    at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    who = actor()
    body = json.dumps(details, sort_keys=True, ensure_ascii=False, default=str)
    entry = AuditEntry(at=at, actor=who, action=action, details=body, prev_hash=prev,
                       hash=entry_hash(prev, at, who, action, body, key), key_id=key_id(key))
    session.add(entry)
    session.flush()
    return entry


@dataclass
class ChainReport:
    entries: int
    ok: bool
    broken_at: int | None = None
    reason: str = ""
    unkeyed: int = 0  # entries from before keyed hashes, at the start of the chain


def parse_anchor(anchor: str) -> tuple[int, str]:
    """``COUNT:HEADHASH`` as printed by ``otos audit anchor``."""
    m = _ANCHOR.match(anchor.strip().lower())
    if not m or int(m.group(1)) < 1:
        raise OtosError(_("{anchor!r} is not an audit anchor.").format(anchor=anchor),
                        hint=_("An anchor looks like 181:1f0c…(64 hex digits), as otos audit anchor prints it."))
    return int(m.group(1)), m.group(2)


def verify(source: Engine | Session, anchor: str | None = None) -> ChainReport:
    """Recompute the chain from the first entry; say where it first breaks. With an
    ``anchor``, also that the first COUNT entries end in the anchored head. ``source``:
    an engine, or a session to read inside its transaction."""
    from pool.db import reading

    with reading(source) as session:
        return _verify(session, anchor)


def _verify(session: Session, anchor: str | None) -> ChainReport:
    want = parse_anchor(anchor) if anchor else None
    key = audit_key(create=False) if _has_keyed(session) else None
    mine = key_id(key) if key else None
    prev, n, unkeyed = GENESIS, 0, 0
    for e in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars():
        n += 1
        if e.prev_hash != prev:
            return ChainReport(n, False, e.id, _("its link to the previous entry does not match (an entry was removed or reordered)"), unkeyed)
        if e.key_id is None:
            if n != unkeyed + 1:
                return ChainReport(n, False, e.id, _("it is an unkeyed entry after keyed ones (forged)"), unkeyed)
            unkeyed += 1
            use = None
        elif e.key_id != mine:
            return ChainReport(n, False, e.id, _("it was signed with another audit key (id {key_id}, this key is {mine}); verify with the key that signed the log").format(key_id=e.key_id, mine=mine), unkeyed)
        else:
            use = key
        if entry_hash(e.prev_hash, e.at, e.actor, e.action, e.details, use) != e.hash:
            return ChainReport(n, False, e.id, _("its content does not match its hash (the entry was changed)"), unkeyed)
        if want and n == want[0] and e.hash != want[1]:
            return ChainReport(n, False, e.id, _("it differs from the anchor: the log up to the anchor was rewritten"),
                               unkeyed)
        prev = e.hash
    if want and n < want[0]:
        return ChainReport(n, False, None, _("the anchor covers {value} entries but only {n} remain: entries were removed").format(value=want[0], n=n), unkeyed)
    return ChainReport(n, True, unkeyed=unkeyed)


def _has_keyed(session: Session) -> bool:
    return session.execute(select(func.count()).select_from(AuditEntry)
                           .where(AuditEntry.key_id.is_not(None))).scalar_one() > 0


def anchor(source: Engine | Session) -> str:
    """``COUNT:HEADHASH`` of the log as it stands, to be filed outside the database."""
    from pool.db import reading

    with reading(source) as session:
        return _anchor(session)


def _anchor(session: Session) -> str:
    count = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    head = session.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
    if not count:
        raise OtosError(_("The audit log is empty; there is nothing to anchor yet."))
    return f"{count}:{head}"


def entries(source: Engine | Session, limit: int = 50) -> list[AuditEntry]:
    """The newest entries first."""
    from pool.db import reading

    with reading(source) as session:
        return list(session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)).scalars())
