"""The demo: a month of realistic gateway traffic, written as real log files and loaded through
the real collectors, so ``routeledger demo`` shows every page with something worth seeing.

* :mod:`.spec` - what the month looks like: models, tasks, teams, incidents, volume; the routing
  chains come from ``manifest.yaml`` (the demo gateway's routing manifest, native format);
* :mod:`.payloads` - LiteLLM StandardLoggingPayload and OTLP/JSON line templates;
* :mod:`.workload` - the generator (deterministic by seed, one file per source and ISO week);
* :mod:`.build` - a demo home: config, manifest, logs, price history, ingest, marts.
"""
