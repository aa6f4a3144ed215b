"""Price sources and the price history.

One module per source, each with ``fetch(client, ...)`` (I/O only, through :mod:`collectors.http`)
and a pure ``parse(payload, observed_at) -> list[PriceObservation]``:

* :mod:`.openrouter` (API), :mod:`.litellm_map` (LiteLLM's JSON map),
  :mod:`.pages.openai`, :mod:`.pages.anthropic`, :mod:`.pages.deepseek` (pricing pages),
* :mod:`.catalog` (bundled offline catalog, genai-prices) and :mod:`.overrides` (YAML).

Shared: :mod:`.naming` (canonical provider/model identity), :mod:`.common` (exact money parsing,
skips, duplicates). History: :mod:`.store` (warehouse I/O), :mod:`.history` (rebuild), :mod:`.versions` (validity periods
and reviews, pure), :mod:`.match` (logged names -> priced models), :mod:`.refresh` and
:mod:`.api` (what the CLI and the scheduler call).

Conventions: prices are Decimal USD per 1M tokens (per request / per image: USD per unit);
``None`` is "not charged / not offered", never "unknown"; a model that cannot be priced
correctly is emitted as a *skip* (every price None, a ``note``), never with a guessed price.
"""
