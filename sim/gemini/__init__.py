"""The brain of the fake Gemini: pure functions from a generateContent body to a plausible answer.

The simulator's routes call `generate` / `count_tokens` and wrap results with `response_envelope` or
`error_body`. See README.md for the hooks that make answers plausible and the prompt conventions.
"""

from .envelope import GeminiAnswer, error_body, response_envelope
from .errors import GeminiRequestError
from .generate import count_tokens, generate
from .vocabulary import Vocabulary

__all__ = [
    "GeminiAnswer",
    "GeminiRequestError",
    "Vocabulary",
    "count_tokens",
    "error_body",
    "generate",
    "response_envelope",
]
