"""Real OpenTelemetry producers: the official ``opentelemetry-instrumentation-openai-v2`` and
OpenInference's ``openinference-instrumentation-openai`` in front of the fake OpenAI server,
exported over OTLP/HTTP to a receiver that writes OTLP/JSON lines. They run in their own venvs
(see ``tests/fixtures/logs/otel_real/SOURCES.md``), never in RouteLedger's or in ``make test``.
"""
