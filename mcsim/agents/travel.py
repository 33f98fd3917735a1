"""Trips over the road graph, shared by ambulances and staff: where from, where to, when.

An agent on its way has one pending arrival event. :meth:`Traveller.set_trip` records the trip
(origin, destination, departure and arrival time), cancels the arrival still pending from an
earlier trip (``event.cancel()``, :mod:`mcsim.clock`) and schedules the new one. That is what
lets an exercise inject re-route a vehicle that is already on the road (a road closes under it,
a hospital closes, the facilitator sends it elsewhere) without the event loop checking anything
on the way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcsim.enums import Phase

if TYPE_CHECKING:
    from mcsim.clock import Event


class Traveller:
    """Mixin for agents that move over the region (they have ``model`` and ``node``).

    Attributes:
        pos: the node where the agent last was (see :attr:`pos`).
        trip: ``(origin, destination, depart_min, arrive_min)`` of the trip under way, None
            when the agent is not on the road. ``node`` is already the destination while on
            the road (what the model's travel-time questions use).
    """

    trip: tuple[int, int, float, float] | None = None
    _arrival: Event | None = None  # the pending arrival event of the trip under way
    _on_arrival: tuple[Callable[..., Any], tuple[Any, ...]] | None = None

    def set_trip(
        self,
        origin: int,
        to: int,
        depart_min: float,
        arrive_min: float,
        then: Callable[..., Any],
        *args: Any,
    ) -> None:
        """Be on the way from ``origin`` to ``to``; on arrival run ``then(*args)``.

        Any arrival still pending from an earlier trip is cancelled.
        """
        if self._arrival is not None:
            self._arrival.cancel()
        self.trip = (origin, to, depart_min, arrive_min)
        self.node = to
        self._on_arrival = (then, args)
        self._arrival = self.model.schedule(arrive_min, Phase.ARRIVAL, self._arrive)

    def _arrive(self) -> None:
        then, args = self._on_arrival
        self.trip = None
        self._on_arrival = None
        self._arrival = None
        then(*args)

    @property
    def pos(self) -> int:
        """The graph node where the agent last was (Mesa's ``pos``).

        Its trip's origin while on the road, else ``node``: read from the trip, so nothing
        updates it per minute.
        """
        return self.node if self.trip is None else self.trip[0]

    @pos.setter
    def pos(self, value: int | None) -> None:
        # mesa.Agent.__init__ sets pos = None; the position follows the trips from then on.
        if value is not None:
            raise AttributeError("a travelling agent's pos follows its trips (set_trip)")

    @property
    def on_arrival(self) -> tuple[Callable[..., Any], tuple[Any, ...]] | None:
        """What happens when the trip under way ends (``(callback, args)``), None if parked."""
        return self._on_arrival if self.trip is not None else None
