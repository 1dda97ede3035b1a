"""A one-line progress bar (steps done, steps/s, ETA) for long loops; no dependencies."""

import sys
import time

__all__ = ["ProgressBar"]


class ProgressBar:
    """Call it as ``bar(done, total)`` after each step; ``close()`` ends the line.

    On a terminal the line is redrawn in place at most every ``interval`` seconds; on a pipe or
    file a new line is written at most every ``log_interval`` seconds, plus the final one. The rate
    is measured from the first call, so set-up time before the first step does not count.

    Args:
        label: text in front of the bar.
        stream: where to write (default ``sys.stderr``).
        width: characters in the bar itself.
        interval: minimum seconds between redraws on a terminal.
        log_interval: minimum seconds between lines when not on a terminal.
        clock: a monotonic clock [s] (for tests).
    """

    def __init__(
        self,
        *,
        label: str = "",
        stream=None,
        width: int = 28,
        interval: float = 0.1,
        log_interval: float = 5.0,
        clock=time.monotonic,
    ):
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.clock = clock
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.interval = interval if self.tty else log_interval
        self._first = None  # (time, done) of the first call
        self._last_draw = None
        self._drawn = 0  # length of the last line drawn in place

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if self._first is None:
            self._first = (now, done)
        if done < total and self._last_draw is not None and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        self._draw(self.line(done, total, now))

    def line(self, done: int, total: int, now: float) -> str:
        """The text of the bar for ``done`` of ``total`` at time ``now``."""
        fraction = min(max(done / total, 0.0), 1.0) if total > 0 else 1.0
        filled = int(round(fraction * self.width))
        bar = "#" * filled + "." * (self.width - filled)
        start, start_done = self._first if self._first is not None else (now, done)
        elapsed, counted = now - start, done - start_done
        if counted > 0 and elapsed > 0:
            rate = counted / elapsed
            speed = f"{rate:.3g} steps/s"
            timing = (
                f"elapsed {_clock_text(elapsed)}"
                if done >= total
                else f"ETA {_clock_text((total - done) / rate)}"
            )
        else:
            speed, timing = "- steps/s", "ETA -"
        prefix = f"{self.label} " if self.label else ""
        return f"{prefix}[{bar}] {done}/{total} {100 * fraction:3.0f}%  {speed}  {timing}"

    def close(self) -> None:
        """End the bar's line (on a terminal)."""
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
        self._drawn = 0

    def _draw(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r" + text.ljust(self._drawn))
            self._drawn = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def _clock_text(seconds: float) -> str:
    """Seconds as m:ss (or h:mm:ss)."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
