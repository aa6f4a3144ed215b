"""The routing-table tuner: regenerate the routing manifest from evidence, show the diff and the
savings, write it only on approval.

Public surface: :func:`app.tuner.proposal.propose` (a :class:`~app.tuner.proposal.Proposal`:
per-task results, savings, the proposed text and diff, ``as_json()`` for ``routeledger tune
--json``), :mod:`app.tuner.approvals` (approve, reject, history, rollback), :mod:`app.tuner.exports`
(LiteLLM, Portkey, OpenRouter) and :mod:`app.tuner.manifest` (load, render, diff). The method is
described in docs/tuner.md.
"""
