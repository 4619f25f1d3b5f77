"""The one exception the fake model raises."""


class GeminiRequestError(Exception):
    """A malformed request; the route answers 400 INVALID_ARGUMENT with str(exc) as the message."""


def field_error(path: str, problem: str) -> GeminiRequestError:
    """An error worded like the real API's: "* GenerateContentRequest.<field path>: <problem>"."""
    return GeminiRequestError(f"* GenerateContentRequest.{path}: {problem}")
