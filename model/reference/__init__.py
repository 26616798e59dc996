"""Plain-NumPy reference steps: each submodel's mechanism stated directly, beside its ODD section; the compiled fast path is tested against them."""
