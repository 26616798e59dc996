"""Print docs/parameters.md: every parameter of configs/base.toml with its source.

python -m experiments.paramdoc > docs/parameters.md
"""

from model.config import parameter_table

if __name__ == "__main__":
    print(parameter_table(), end="")
