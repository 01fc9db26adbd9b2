"""Test doubles that are real LangChain classes: a chat model that streams scripted replies."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult


class ScriptedChatModel(GenericFakeChatModel):
    """Replies with the scripted messages in turn, streamed word by word; records each call."""

    calls: list[list[BaseMessage]] = []

    @classmethod
    def replying(cls, *replies: str) -> ScriptedChatModel:
        return cls(messages=iter(replies), calls=[])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def prompt(self, call: int = -1) -> str:
        """The text of every message of one call, joined."""
        return "\n".join(str(m.content) for m in self.calls[call])
