"""Write docs/data-dictionary.md from the store's schema and sql/docs.toml.

    python scripts/build_data_dictionary.py

Builds an empty store in memory (schema and views, no data), so it needs no
raw files.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from migstock.store import create_empty
from migstock.store.docs import data_dictionary

OUT = Path(__file__).resolve().parents[1] / "docs" / "data-dictionary.md"


def main() -> None:
    with duckdb.connect() as con:
        create_empty(con)
        OUT.write_text(data_dictionary(con), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
