"""The Magog cohesion model (Mesa 3.5): the Memphrémagog RCM after the plant closures.

``CohesionModel`` and the agent classes are imported on first use, so that tools which
need only the configuration (``cohesion --help``, config checks) do not load Mesa.
"""

from .config import ConfigError

__all__ = ["CohesionModel", "ConfigError", "Household", "Organization", "Worker"]


def __getattr__(name: str):
    if name == "CohesionModel":
        from .model import CohesionModel

        return CohesionModel
    if name in ("Household", "Organization", "Worker"):
        from . import agents

        return getattr(agents, name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")
