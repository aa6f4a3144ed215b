"""The providers' bills: their usage and cost exports imported or fetched, for reconciling what
RouteLedger computed with what the providers billed.

==============  ===============================================================================
``common``      the bill line, exact money, UTC days, checks and their quarantine reasons
``openai``      OpenAI's Costs and Usage API pages and the cost CSV → bill lines
``anthropic``   Anthropic's cost and usage reports (Admin API) and the Console's cost CSV
``load``        which export a file is, and its landing in ``provider_bills`` as one import
``fetch``       the reports fetched with admin keys from environment variables, page by page
``api``         import, fetch: what the CLI and the scheduler call
==============  ===============================================================================
"""
