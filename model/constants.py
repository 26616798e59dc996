"""Structural constants read by more than one module.

These are definitions, conventions and time steps, not assumptions a researcher varies:
they are not in ``configs/base.toml`` and cannot be overridden by a scenario. Constants
read by one module only are defined at the top of that module.
"""

from __future__ import annotations

WORKING_AGE = 15.0
"""Years: the working-age (adult) population starts at 15, as in the Labour Force Survey
[statcan-lfs]. Below it a person is a child; the social layer's measures cover adults."""

DEMOGRAPHY_PERIOD_WEEKS = 4
"""Weeks between demographic and life-course events (births, deaths, moves, retirement,
entering or leaving the labour force), drawn with four-week probabilities. Rates are
given per week or per year, so totals do not depend on this step."""

HOURS_PER_WEEK = 37.5
"""Hours of a full-time week: turns hourly wages into weekly pay and EI insurable hours."""

RETIREMENT_AGE = 65.0
"""Years: the usual retirement age of the period (public pension at 65). Job seekers of
this age retire; employed persons past it retire at ``labour.retirement_rate_65``."""

SECTORS = (
    "manufacturing",
    "construction",
    "trade",
    "accommodation_food",
    "health_social",
    "education",
    "public_admin",
    "other_services",
    "primary",
)
"""The nine industry groups (NAICS sections grouped), manufacturing first. Every
per-sector parameter of ``[labour]`` has one value per sector in this order, and
``configs/organizations.csv`` and the closures name them."""
