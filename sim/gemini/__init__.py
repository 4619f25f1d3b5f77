"""The brain of the fake Gemini: pure functions from a generateContent body to the answer a capable model
would give this repository's prompts. See README.md for what it reads and how it answers.
"""

from .answer import generate
from .envelope import GeminiAnswer, error_body, response_envelope
from .knowledge import Knowledge, knowledge
from .request import GeminiRequestError, read_request

__all__ = [
    "GeminiAnswer",
    "GeminiRequestError",
    "Knowledge",
    "error_body",
    "generate",
    "knowledge",
    "read_request",
    "response_envelope",
]
