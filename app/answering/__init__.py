"""Answering: from a question to cited quotes."""
