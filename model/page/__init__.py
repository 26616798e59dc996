"""The browser page's parts: the territory drawn for display (``tessellation``), the
pictures (``pictures``), what a click shows (``inspect``), the controls built from the
configuration (``controls``) and the run a browser tab drives (``session``). The page
itself is ``model/app.py``."""
