"""Skip repeated work whose input has not changed: a hash of the payload, stored in a file.

Used for slash-command registration: Discord limits how many commands an application may create
per day, so registering on every start gets a crash-looping bot rate-limited.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def digest(payload: object) -> str:
    """A stable hash of any JSON-able payload (keys sorted, so dict order never matters)."""
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class Fingerprint:
    """The digest of what was last done, kept in one file; a missing or unreadable file matches nothing."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def matches(self, current: str) -> bool:
        """True when `current` is what was stored last time."""
        try:
            return self.path.read_text(encoding="utf-8").strip() == current
        except OSError:
            return False

    def store(self, current: str) -> None:
        """Remember `current`; a failure only costs doing the work again next time."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(current, encoding="utf-8")
        except OSError:
            log.warning("could not store a fingerprint in %s: the work will be done again", self.path)
