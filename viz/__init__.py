"""The Magog cohesion model's browser page, apart from the model so that the model's
version (``experiments.design.model_version``, a hash of ``model/`` and ``configs/``) does
not depend on it.

The page itself is ``viz/app.py``; its parts are the territory drawn for display
(``tessellation``, ``mapview``), the pictures (``charts``, ``pictures``), what a click shows
(``inspection``), the controls built from the configuration (``controls``), the run a
browser tab drives (``session``) and the thread and Run card that play it (``playback``),
the main area with its views (``views``) and a clickable image (``widgets``). The page reads the
model (``model``) and never the reverse."""
