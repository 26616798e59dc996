"""The Magog cohesion model (Mesa 3.5): the Memphrémagog RCM after the plant closures."""

from .agents import Household, Organization, Worker
from .config import ConfigError
from .model import CohesionModel

__all__ = ["CohesionModel", "ConfigError", "Household", "Organization", "Worker"]
