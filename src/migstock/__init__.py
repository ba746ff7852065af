"""migstock: UN DESA International Migrant Stock workbooks to validated DuckDB and Parquet
tables for the Arab region. See README.md; the command line is :mod:`migstock.cli`."""
