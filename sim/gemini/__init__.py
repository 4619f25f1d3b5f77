"""The brain of the fake Gemini: pure functions from a generateContent body to the answer a capable model
would give this repository's prompts. See README.md for what it reads and how it answers.
"""

from .answer import generate as generate
from .envelope import GeminiAnswer as GeminiAnswer
from .envelope import error_body as error_body
from .envelope import response_envelope as response_envelope
from .envelope import stream_envelopes as stream_envelopes
from .knowledge import Knowledge as Knowledge
from .knowledge import knowledge as knowledge
from .request import GeminiRequestError as GeminiRequestError
from .request import read_request as read_request
