"""The chat model behind `SOURCEBOOK_LLM`: one factory, one case per backend.

Errors: `LLMError` for a model that fails while answering (unreachable server, timeout, a
crash mid-stream; the caller falls back to the extractive answer); `LLMSetupError` for a
setting the user must fix (an unknown `SOURCEBOOK_LLM`, a missing extra, a missing model file).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from app.settings import Settings
from store import SourcebookError

log = logging.getLogger(__name__)

CHOICES = "extractive | openai:MODEL | ollama:MODEL | llamacpp:PATH.gguf"
LLAMACPP_CONTEXT = 4096  # tokens; the prompt holds top_k passages of ~250 word pieces each


class LLMError(SourcebookError):
    """The language model failed while answering."""


class LLMSetupError(LLMError):
    """The language model cannot be set up as configured; the message says what to change."""


_CHAT_MODELS: dict[Settings, BaseChatModel] = {}
_CHAT_LOCK = threading.Lock()


def chat_model(settings: Settings) -> BaseChatModel:
    """One chat model per settings, made once (an in-process llama.cpp model loads once)."""
    with _CHAT_LOCK:
        if settings not in _CHAT_MODELS:
            _CHAT_MODELS[settings] = make_chat_model(settings)
        return _CHAT_MODELS[settings]


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The LangChain chat model that `settings.llm` names (temperature 0, streaming)."""
    kind, _, name = settings.llm.partition(":")
    name = name.strip()
    if kind in ("openai", "ollama", "llamacpp") and not name:
        raise LLMSetupError(f"SOURCEBOOK_LLM={settings.llm!r} names no model; use {CHOICES}")
    match kind:
        case "openai":
            return _openai(name, settings)
        case "ollama":
            return _ollama(name, settings)
        case "llamacpp":
            return _llamacpp(name, settings)
        case _:
            raise LLMSetupError(f"SOURCEBOOK_LLM={settings.llm!r} is not one of: {CHOICES}")


def _openai(model: str, settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    log.info("chat model: openai %s at %s", model, settings.openai_base_url or "api.openai.com")
    return ChatOpenAI(
        model=model,
        base_url=settings.openai_base_url,
        api_key=SecretStr(settings.openai_api_key),
        timeout=settings.llm_timeout,
        temperature=0,
        max_retries=0,  # an unreachable server should fall back now, not after retries
        streaming=True,
    )


def _ollama(model: str, settings: Settings) -> BaseChatModel:
    try:
        from langchain_ollama import ChatOllama
    except ImportError as e:
        raise LLMSetupError(
            f"SOURCEBOOK_LLM={settings.llm!r} needs the ollama extra: "
            "pip install 'sourcebook[ollama]'"
        ) from e
    log.info("chat model: ollama %s at %s", model, settings.ollama_base_url)
    chat: BaseChatModel = ChatOllama(
        model=model,
        base_url=settings.ollama_base_url,
        temperature=0,
        client_kwargs={"timeout": settings.llm_timeout},
    )
    return chat


def _llamacpp(path: str, settings: Settings) -> BaseChatModel:
    gguf = Path(path).expanduser()
    if not gguf.is_file():
        raise LLMSetupError(f"SOURCEBOOK_LLM={settings.llm!r}: no model file at {gguf}")
    try:
        import llama_cpp  # noqa: F401  (the engine; ChatLlamaCpp imports it lazily)
        from langchain_community.chat_models import ChatLlamaCpp
    except ImportError as e:
        raise LLMSetupError(
            f"SOURCEBOOK_LLM={settings.llm!r} needs the llamacpp extra (compiles llama.cpp, "
            "~5 minutes): pip install 'sourcebook[llamacpp]'"
        ) from e
    log.info("chat model: llama.cpp in-process, %s", gguf)
    try:
        chat: BaseChatModel = ChatLlamaCpp(
            model_path=str(gguf), n_ctx=LLAMACPP_CONTEXT, temperature=0, verbose=False
        )
        return chat
    except (ValueError, RuntimeError) as e:
        raise LLMSetupError(f"llama.cpp could not load {gguf}: {e}") from e
