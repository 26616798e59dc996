"""A small sweep plan shared by the sweep tests: two separation rates, two replicates,
one year at scale 0.02."""

from experiments.design import load_plan

SHORT = {"scale": 0.02, "start": "2005-01", "end": "2005-12"}


def small_plan(**kw):
    args = dict(
        SHORT,
        replicates=2,
        scenarios=["baseline"],
        design="factorial",
        parameters={"labour.separation_rate": [0.003, 0.005]},
        seed=7,
    )
    args.update(kw)
    return load_plan(None, **args)
