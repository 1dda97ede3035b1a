"""SceneError and the small helpers that make every scene message one readable line."""

import difflib
import json
from collections.abc import Iterable

__all__ = ["SceneError", "format_value", "suggestion"]

_MAX_VALUE_CHARS = 60


class SceneError(ValueError):
    """A scene file or scene value is invalid.

    The message is one line naming the file, the key (dotted path), the value and what was
    expected, e.g. ``scene.toml: cloth.spacing = -0.001 is out of range: expected a value > 0``.
    """


def format_value(value) -> str:
    """Write ``value`` the way it would appear in a TOML file, shortened to one short line."""
    text = _toml_like(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 3] + "..."
    return text


def _toml_like(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_like(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_like(v) for v in value) + "]"
    return repr(value)


def suggestion(word: str, options: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest option, or ``""`` when none is close."""
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
