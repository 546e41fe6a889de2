"""Scan intake: watch the scan folders, normalise each scan to a PDF within its
size limit, store it encrypted, and file it to its usulan or to the Inbox.

The TUI and the CLI use `IntakeService` and `Watcher`; everything else here is how they
do it. The public names are listed once, in `__init__.pyi` (what type checkers read);
they load on first use (lazy_loader reads the same list), so conversion worker
processes, which import `client.intake.normalise`, do not pay for the store.
"""

from __future__ import annotations

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
