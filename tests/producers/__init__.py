"""Real producers of gateway logs for the acceptance tests, and the fake upstream they call.

Nothing here runs in ``make test``: the recordings these scripts made are kept under
``tests/fixtures/logs/`` and the comparisons with their truth files are the tests.
"""
