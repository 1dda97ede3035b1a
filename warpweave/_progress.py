"""Progress bars (tqdm) driven by the ``progress(done, total)`` callbacks that the packages accept."""

import sys

__all__ = ["ProgressBar"]


class ProgressBar:
    """A tqdm bar that is called as ``bar(done, total)`` after each step; ``close()`` ends it.

    The bar starts at the first call, so set-up time before the first step (compiling kernels,
    building the model) does not count in the rate or the ETA. On a terminal it is redrawn at most
    every 0.1 s; on a pipe or a file at most every ``log_interval`` seconds.

    Args:
        label: text in front of the bar.
        unit: what one step is called in the rate ("step" gives "step/s").
        stream: where to write (default ``sys.stderr``).
        log_interval: minimum seconds between updates when not on a terminal.
    """

    def __init__(self, *, label: str = "", unit: str = "step", stream=None, log_interval: float = 5.0):
        self.label = label
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.interval = 0.1 if isatty and isatty() else log_interval
        self._bar = None
        self._postfix = ""

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, desc=self.label, unit=self.unit, file=self.stream,
                             mininterval=self.interval, dynamic_ncols=True, leave=True)
        if self._postfix:
            self._bar.set_postfix_str(self._postfix, refresh=False)
        self._bar.update(done - self._bar.n)

    def describe(self, text: str) -> None:
        """Show ``text`` after the rate from the next update on (e.g. the current loss)."""
        self._postfix = text

    def close(self) -> None:
        """Draw the final state and end the bar's line."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
