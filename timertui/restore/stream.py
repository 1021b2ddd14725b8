"""The generator type every backend returns: events one by one, closable, cancellable.

Backends subclass EventStream and implement `_next` (the next event, StopIteration at the end),
`_halt` (stop now and release everything; called by close() and throw()) and `cancel` (safe from
any thread: the stream then ends with an Error event `cancelled`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Generator

from timertui.restore.events import Event

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from types import TracebackType  # the types module costs a start ~0.2 ms


class EventStream(Generator[Event, None, None]):
    def send(self, value: None) -> Event:
        return self._next()

    def throw(
        self,
        typ: type[BaseException] | BaseException,
        val: BaseException | object = None,
        tb: TracebackType | None = None,
    ) -> Event:
        self._halt()
        if isinstance(typ, BaseException):
            raise typ
        raise typ() if val is None else typ(val)

    @abstractmethod
    def _next(self) -> Event: ...

    @abstractmethod
    def _halt(self) -> None: ...

    @abstractmethod
    def cancel(self) -> None: ...
