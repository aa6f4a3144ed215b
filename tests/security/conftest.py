"""Fixtures shared with the report tests (a built home, a loopback webhook server) and the tuner
tests (a home with a routing manifest and enough evidence for a proposal)."""

from tests.reports.conftest import built_home, make_cfg, webhook  # noqa: F401
from tests.tuner.conftest import fresh_home, tuner_home  # noqa: F401
