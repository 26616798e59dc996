"""The commands of the ``cohesion`` command line (:mod:`experiments.cli`), by concern:
:mod:`.scenarios` (run, compare, viz), :mod:`.designs` (sweep, sensitivity, robustness,
calibrate) and what they share, :mod:`.common`."""
