"""The traffic the benchmark generator imitates: models, tasks, routing, failures, teams.

Prices are list prices in USD per token (input, cached read, cache write, output); latencies are
medians (time to first token in seconds, output tokens per second). Failure kinds and messages
follow LiteLLM's exception classes as they appear in ``error_information``.
"""

from __future__ import annotations

# name, litellm model, provider, price in/cached read/cache write/out (USD per token),
# reasoning, median ttft (s), median output tokens/s, attempt failure probability
MODELS: list[tuple[str, str, str, tuple[float, float, float, float], bool, float, float, float]] = [
    ("gpt-4o", "openai/gpt-4o", "openai", (2.5e-6, 1.25e-6, 0, 1e-5), False, 0.5, 80, 0.03),
    ("gpt-4o-mini", "openai/gpt-4o-mini", "openai", (1.5e-7, 7.5e-8, 0, 6e-7), False, 0.35, 110, 0.03),
    ("o4-mini", "openai/o4-mini", "openai", (1.1e-6, 2.75e-7, 0, 4.4e-6), True, 2.5, 120, 0.03),
    ("claude-sonnet-4-5", "anthropic/claude-sonnet-4-5", "anthropic", (3e-6, 3e-7, 3.75e-6, 1.5e-5), False, 0.9, 70, 0.045),
    ("claude-haiku-4-5", "anthropic/claude-haiku-4-5", "anthropic", (1e-6, 1e-7, 1.25e-6, 5e-6), False, 0.5, 150, 0.04),
    ("gemini-2.5-flash", "gemini/gemini-2.5-flash", "gemini", (3e-7, 7.5e-8, 0, 2.5e-6), True, 0.4, 220, 0.035),
    ("gemini-2.5-pro", "gemini/gemini-2.5-pro", "gemini", (1.25e-6, 3.125e-7, 0, 1e-5), True, 1.5, 120, 0.035),
    ("deepseek-chat", "deepseek/deepseek-chat", "deepseek", (2.7e-7, 7e-8, 0, 1.1e-6), False, 1.2, 40, 0.06),
    ("mistral-large-latest", "mistral/mistral-large-latest", "mistral", (2e-6, 0, 0, 6e-6), False, 0.6, 60, 0.03),
    ("llama-3.3-70b-versatile", "groq/llama-3.3-70b-versatile", "groq", (5.9e-7, 0, 0, 7.9e-7), False, 0.15, 300, 0.08),
]  # fmt: skip
FALLBACK = {
    "gpt-4o": "claude-sonnet-4-5",
    "gpt-4o-mini": "claude-haiku-4-5",
    "o4-mini": "gemini-2.5-pro",
    "claude-sonnet-4-5": "gpt-4o",
    "claude-haiku-4-5": "gpt-4o-mini",
    "gemini-2.5-flash": "gpt-4o-mini",
    "gemini-2.5-pro": "claude-sonnet-4-5",
    "deepseek-chat": "gpt-4o-mini",
    "mistral-large-latest": "gpt-4o",
    "llama-3.3-70b-versatile": "gpt-4o-mini",
}
# task: (share of requests, model group, {model: weight}, median prompt tokens, median output tokens)
TASKS: dict[str | None, tuple[float, str, dict[str, float], int, int]] = {
    "boilerplate": (0.30, "code-fast", {"gpt-4o-mini": 35, "claude-haiku-4-5": 20, "gemini-2.5-flash": 20, "deepseek-chat": 15, "llama-3.3-70b-versatile": 10}, 900, 350),
    "debugging": (0.22, "code-smart", {"claude-sonnet-4-5": 40, "gpt-4o": 30, "deepseek-chat": 15, "gemini-2.5-pro": 15}, 3500, 700),
    "algorithm": (0.12, "code-reasoning", {"o4-mini": 40, "gemini-2.5-pro": 25, "claude-sonnet-4-5": 20, "deepseek-chat": 15}, 1800, 900),
    "review": (0.16, "code-review", {"claude-sonnet-4-5": 35, "gpt-4o": 25, "mistral-large-latest": 20, "gemini-2.5-flash": 20}, 7000, 600),
    "architecture": (0.08, "code-smart", {"claude-sonnet-4-5": 45, "gpt-4o": 30, "gemini-2.5-pro": 25}, 5000, 1400),
    None: (0.12, "chat-default", {"gpt-4o-mini": 50, "claude-haiku-4-5": 20, "mistral-large-latest": 15, "llama-3.3-70b-versatile": 15}, 600, 250),
}  # fmt: skip
PROMPTS = {
    "boilerplate": ["Write a pydantic model for an invoice with line items.", "Generate a FastAPI CRUD router for users."],
    "debugging": ["Why does this raise KeyError: 'id' on the second call?", "Fix the race in this asyncio queue consumer."],
    "algorithm": ["Find the k most frequent words in O(n log k).", "Implement an interval tree with delete."],
    "review": ["Review this diff for SQL injection and naming.", "Review the retry logic in this HTTP client."],
    "architecture": ["Design an event-sourced ledger for refunds.", "Split this monolith's billing into services?"],
    None: ["Summarize this paragraph in one sentence.", "Translate 'good morning' to German."],
}  # fmt: skip
ANSWERS = [
    "Here is a version that handles the empty case first.",
    "The cause is a shared mutable default; use None.",
    "Use a heap of size k over the counts.",
]
# provider: (error kind weights), kinds: rate_limit, overloaded, server, unavailable, timeout
ERROR_MIX = {
    "openai": {"rate_limit": 60, "server": 15, "unavailable": 10, "timeout": 15},
    "anthropic": {"rate_limit": 35, "overloaded": 45, "server": 10, "timeout": 10},
    "gemini": {"rate_limit": 50, "unavailable": 30, "server": 10, "timeout": 10},
    "deepseek": {"timeout": 40, "unavailable": 30, "server": 20, "rate_limit": 10},
    "mistral": {"rate_limit": 50, "server": 20, "unavailable": 10, "timeout": 20},
    "groq": {"rate_limit": 80, "unavailable": 10, "timeout": 10},
}
PROVIDER_NAMES = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "gemini": "Vertex_ai_beta",
    "deepseek": "Deepseek",
    "mistral": "Mistral",
    "groq": "Groq",
}
# kind: (error_class, error_code, message, normalized_error)
ERRORS = {
    "rate_limit": ("RateLimitError", "429", "litellm.RateLimitError: RateLimitError: {p}Exception - Rate limit reached for requests. Please try again in 2s.", "429_RATE_LIMIT_EXCEEDED"),
    "overloaded": ("InternalServerError", "529", "litellm.InternalServerError: {p}Exception - Overloaded. Handle with `litellm.InternalServerError`.", "529_OVERLOADED"),
    "server": ("InternalServerError", "500", "litellm.InternalServerError: {p}Exception - Internal server error", "500_INTERNAL_SERVER_ERROR"),
    "unavailable": ("ServiceUnavailableError", "503", "litellm.ServiceUnavailableError: {p}Exception - Service Unavailable", "503_SERVICE_UNAVAILABLE"),
    "timeout": ("Timeout", "408", "litellm.Timeout: APITimeoutError - Request timed out. Error_str: Request timed out.", "408_TIMEOUT"),
    "context": ("ContextWindowExceededError", "400", "litellm.ContextWindowExceededError: {p}Exception - prompt is too long: maximum context length exceeded", "400_CONTEXT_WINDOW_EXCEEDED"),
    "content_policy": ("ContentPolicyViolationError", "400", "litellm.ContentPolicyViolationError: {p}Exception - The response was filtered due to the prompt triggering content management policy.", "400_CONTENT_POLICY_VIOLATION"),
}  # fmt: skip
TEAMS = [
    "payments",
    "search",
    "platform",
    "mobile",
    "data",
    "growth",
    "infra",
    "support",
    "ml",
    "web",
    "security",
    "billing",
]
KEYS_PER_TEAM = 5
ATTEMPTS_PER_REQUEST = 1.04  # measured on the output; spreads ``rows`` attempts over the window
# LiteLLM keeps the traceback text; a short one keeps lines realistic without local paths
TRACEBACK = 'Traceback (most recent call last):\n  File "litellm/router.py", line 3180, in async_function_with_retries\n{err}'
