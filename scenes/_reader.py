"""TableReader: typed reads from one TOML table, with errors that name the file and the dotted key."""

from collections.abc import Callable, Iterable

from materials import require_finite

from ._errors import SceneError, format_value, suggestion

__all__ = ["MISSING", "TableReader"]

MISSING = object()


class TableReader:
    """Reads the values of one table of a scene (e.g. ``[cloth]`` or ``pins[0]``).

    Unknown keys are rejected when the reader is made, so a misspelt key is reported (with a
    suggestion) before the "missing key" error it would otherwise cause.

    Args:
        data: the table as parsed by tomllib (a dict).
        source: the file name used in messages.
        path: dotted path of the table ("" for the top level).
        keys: the keys this table accepts.
    """

    def __init__(self, data, *, source: str, path: str, keys: Iterable[str]):
        self.source = source
        self.path = path
        self.keys = tuple(keys)
        if not isinstance(data, dict):
            raise SceneError(f"{source}: {path} = {format_value(data)}: expected a table")
        self.data = data
        for key, value in data.items():
            if key not in self.keys:
                raise SceneError(
                    f"{source}: {self.key(key)} = {format_value(value)}: unknown key (expected one "
                    f"of {', '.join(self.keys)}){suggestion(key, self.keys)}"
                )

    # -- naming and errors ------------------------------------------------------------------------------
    def key(self, name: str) -> str:
        """Dotted path of ``name`` inside this table."""
        return f"{self.path}.{name}" if self.path else str(name)

    def error(self, name: str, value, expected: str) -> SceneError:
        """A SceneError ``file: key = value: expected``."""
        return SceneError(f"{self.source}: {self.key(name)} = {format_value(value)}: {expected}")

    def checked(self, check: Callable, *args, **kwargs):
        """Call a ``materials`` check (or constructor) and turn its ValueError into a SceneError.

        The materials checks name the value they reject first (``name = value is ...``), so the
        message only gains the file name here.
        """
        try:
            return check(*args, **kwargs)
        except ValueError as exc:
            raise SceneError(f"{self.source}: {exc}") from None

    # -- raw access -------------------------------------------------------------------------------------
    def has(self, name: str) -> bool:
        return name in self.data

    def get(self, name: str, default=MISSING, *, expected: str):
        """The raw value of ``name``; ``default`` when absent, or an error if it is required."""
        if name in self.data:
            return self.data[name]
        if default is MISSING:
            raise SceneError(f"{self.source}: {self.key(name)} is missing: expected {expected}")
        return default

    # -- typed reads ------------------------------------------------------------------------------------
    def number(self, name: str, default=MISSING, *, check: Callable | None = None) -> float:
        """A real number (TOML int or float, not a bool), optionally passed through a materials check.

        ``check(dotted_name, value)`` is one of ``materials.require_*`` (or a partial of it).
        """
        value = self.get(name, default, expected="a number")
        value = self._as_number(name, value)
        if check is not None:
            value = self.checked(check, self.key(name), value)
        return value

    def integer(self, name: str, default=MISSING, *, minimum: int, maximum: int | None = None) -> int:
        """An integer >= ``minimum`` (and <= ``maximum`` when given)."""
        expected = f"an integer >= {minimum}" if maximum is None else f"an integer from {minimum} to {maximum}"
        value = self.get(name, default, expected=expected)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or \
                (maximum is not None and value > maximum):
            raise self.error(name, value, f"expected {expected}")
        return int(value)

    def vector(self, name: str, default=MISSING, *, length: int = 3) -> tuple[float, ...]:
        """A list of ``length`` finite numbers."""
        expected = f"a list of {length} numbers"
        value = self.get(name, default, expected=expected)
        if not isinstance(value, list | tuple) or len(value) != length:
            raise self.error(name, value, f"expected {expected}")
        out = []
        for k, item in enumerate(value):
            item = self._as_number(name, item, whole=value, expected=expected)
            out.append(self.checked(require_finite, f"{self.key(name)}[{k}]", item))
        return tuple(out)

    def choice(self, name: str, choices: Iterable[str], default=MISSING) -> str:
        """A string out of ``choices`` (with a suggestion when it is close to one)."""
        choices = tuple(choices)
        expected = "one of " + ", ".join(f'"{c}"' for c in choices)
        value = self.get(name, default, expected=expected)
        if not isinstance(value, str) or value not in choices:
            hint = suggestion(value, choices) if isinstance(value, str) else ""
            raise self.error(name, value, f"expected {expected}{hint}")
        return value

    def names(self, name: str, default=MISSING) -> tuple[str, ...]:
        """A non-empty list of strings."""
        expected = "a non-empty list of names"
        value = self.get(name, default, expected=expected)
        if not isinstance(value, list | tuple) or not value or not all(isinstance(v, str) for v in value):
            raise self.error(name, value, f"expected {expected}")
        return tuple(value)

    def boolean(self, name: str, default=MISSING) -> bool:
        """true or false."""
        value = self.get(name, default, expected="true or false")
        if not isinstance(value, bool):
            raise self.error(name, value, "expected true or false")
        return value

    def table(self, name: str, *, keys: Iterable[str], required: bool = False) -> "TableReader":
        """A sub-table (an empty one when it is absent and not required)."""
        value = self.get(name, MISSING if required else {}, expected="a table")
        return TableReader(value, source=self.source, path=self.key(name), keys=keys)

    # -- helpers ----------------------------------------------------------------------------------------
    def _as_number(self, name, value, *, whole=None, expected="a number") -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, value if whole is None else whole, f"expected {expected}")
        return float(value)
