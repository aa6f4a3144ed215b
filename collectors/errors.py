"""One exception tree for everything RouteLedger does.

::

    RouteLedgerError                 base; str(e) is one line a person can act on
    ├── ConfigError                  bad routeledger.toml / mapping / manifest value (file, key, expected)
    ├── InputError                   an input file cannot be read at all (missing, unknown format)
    ├── WarehouseError               the DuckDB file
    │   └── WarehouseBusy            another process held the lock past the retry budget
    └── SourceError                  an outside source (price API, pricing page, webhook, SMTP)
        ├── TransientSourceError     worth retrying: timeout, 429, 5xx, connection reset
        └── TerminalSourceError      not worth retrying: 4xx, changed page layout, unparseable body

Row-level problems in log files are not exceptions: they become quarantined rows
(:class:`collectors.records.Quarantined`) and the run goes on.
"""

from __future__ import annotations


class RouteLedgerError(Exception):
    """Base of every error RouteLedger raises on purpose."""


class ConfigError(RouteLedgerError):
    def __init__(self, file: str, key: str, expected: str, got: object = None) -> None:
        self.file, self.key, self.expected, self.got = file, key, expected, got
        shown = "" if got is None else f", got {got!r}"
        super().__init__(f"{file}: {key}: expected {expected}{shown}")


class InputError(RouteLedgerError):
    pass


class WarehouseError(RouteLedgerError):
    pass


class WarehouseBusy(WarehouseError):
    pass


class SourceError(RouteLedgerError):
    def __init__(self, source: str, url: str | None, message: str) -> None:
        self.source, self.url = source, url
        where = f" ({url})" if url else ""
        super().__init__(f"{source}{where}: {message}")


class TransientSourceError(SourceError):
    pass


class TerminalSourceError(SourceError):
    pass
