"""The one client for the configured OpenAI-compatible language model, for every feature that
asks it something (guidance answers, digest paragraphs).

Built once per configuration and reused: a client holds a connection pool, and the guidance
path asks on every question. No retries: each caller has an offline answer to fall back on,
which is quicker than a second wait. What the model writes is untrusted; it goes through
`bot.services.safety.neutralise` before anyone sees it.
"""

from __future__ import annotations

from functools import lru_cache

from bot.settings import Settings


@lru_cache(maxsize=8)
def _client(base_url, api_key, model, timeout, max_tokens, temperature):
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=model,
        base_url=base_url,
        api_key=api_key or "not-needed",
        timeout=timeout,
        max_tokens=max_tokens,
        max_retries=0,
        temperature=temperature,
    )


def chat_model(settings: Settings, *, temperature: float, max_tokens: int):
    """A LangChain chat model for the configured endpoint, model and timeout."""
    return _client(
        settings.openai_base_url,
        settings.secret_value("openai_api_key"),
        settings.openai_model,
        settings.llm_timeout_seconds,
        max_tokens,
        temperature,
    )
