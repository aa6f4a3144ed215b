"""The loopback webhook server of the report tests, shared with the scheduler tests."""

from tests.reports.conftest import webhook  # noqa: F401
