"""Labour market: separations, retirement, retraining, job search and re-employment.

Jobs outside the timeline's plants are held as a stock per sector; vacancies are jobs
minus the people holding them. Each week, hires in sector s follow a matching function
``M_s = min(V_s, mu * S_s**a * V_s**(1-a))`` where ``S_s`` is the search effort directed
at s: every job seeker searches hardest in the sector of their last job and with
``cross_sector_search`` intensity in the others; effort falls with age and long tenure
(firm-specific skills) and rises after retraining. A seeker's chance of a job in s is
their share of ``S_s`` times ``M_s``, so local vacancies, age, tenure and sector all shape
re-employment. Displaced workers who find a job take a wage cut (Canadian
displaced-worker losses), older displaced workers retire, some retrain. Plant workers
leave their plant only through the timeline's layoff waves; a plant replaces workers who
die or move away so that every wave can be filled.

The modules, each one concern:

- :mod:`.demand`: the jobs outside the plants and their vacancies;
- :mod:`.matching`: search effort and the matching function;
- :mod:`.jobs`: where a hire works and what the job pays;
- :mod:`.life_course`: retirement, separations, retraining, entry and exit, plant staffing;
- :mod:`.pools`: those employed outside the plants and the jobless, kept from week to week;
- :mod:`.rows`: the named structures the kernels take;
- :mod:`.market`: :class:`LabourMarket`, the weekly step in the order of the ODD.

``model/reference/labour_market.py`` states the same step in plain NumPy.

The structural constants are defined in the module that reads them and re-exported here
for readers; a test that changes one sets it in its defining module.
"""

from .life_course import (
    DISPLACED_RETIREMENT_AGE,
    EARLY_RETIREMENT_AGE,
    ENTRY_MAX_AGE,
    PLANT_RESTAFF_AGES,
    TRAINING_WINDOW_WEEKS,
)
from .market import SEVERANCE_DEFAULT_WEEKS, LabourMarket
from .matching import MAX_HIRE_PROBABILITY
from .rows import AGE_SEARCH_BANDS, BLOCK, Jobless, KeptPools, Persons, Pool, Search, SearchTerms

__all__ = [
    "AGE_SEARCH_BANDS",
    "BLOCK",
    "DISPLACED_RETIREMENT_AGE",
    "EARLY_RETIREMENT_AGE",
    "ENTRY_MAX_AGE",
    "MAX_HIRE_PROBABILITY",
    "PLANT_RESTAFF_AGES",
    "SEVERANCE_DEFAULT_WEEKS",
    "TRAINING_WINDOW_WEEKS",
    "Jobless",
    "KeptPools",
    "LabourMarket",
    "Persons",
    "Pool",
    "Search",
    "SearchTerms",
]
