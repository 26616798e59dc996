"""The grid's cell class: Mesa's ``Cell`` with constant-time agent removal.

Mesa keeps a cell's agents in a list and removes one by searching it, which costs time
in proportion to the cell's occupancy (a dense 1 km cell of Magog holds thousands of
agents, and hundreds of residents move or die each month). This cell remembers each
agent's slot in its list and removes an agent by moving the last one into that slot.
The order of agents within a cell is therefore not their arrival order; nothing in the
model relies on it.
"""

from __future__ import annotations

from mesa.discrete_space import Cell


class SlottedCell(Cell):
    """A cell whose ``remove_agent`` is O(1). Its ``empty`` flag (a property layer of the
    grid) is written only when it changes."""

    __slots__ = ("_slot_of",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._slot_of: dict = {}  # agent -> its index in this cell's list

    def add_agent(self, agent) -> None:
        agents = self._agents
        if self.capacity is not None and len(agents) >= self.capacity:
            raise Exception("ERROR: Cell is full")  # Mesa's own message
        if not agents:
            self.empty = False
        self._slot_of[agent] = len(agents)
        agents.append(agent)

    def remove_agent(self, agent) -> None:
        agents = self._agents
        slot = self._slot_of.pop(agent)  # KeyError, as Mesa's list.remove raises ValueError
        last = agents.pop()
        if last is not agent:
            agents[slot] = last
            self._slot_of[last] = slot
        if not agents:
            self.empty = True
