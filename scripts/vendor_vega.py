"""Write the Vega bundle the country pages load: ``src/migstock/site/static/vega-*.js``.

The bundle (Vega, Vega-Lite and vega-embed, BSD-3-Clause) comes from the pinned
vl-convert, so the site draws its charts with the same Vega as the brief's SVG charts.
It is generated once here and committed: building it takes about a second, which every
first build of the site used to pay. Run this after upgrading ``vl-convert-python``
(``tests/test_site.py`` fails until you do):

    python scripts/vendor_vega.py
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import vl_convert

STATIC = Path(__file__).resolve().parents[1] / "src" / "migstock" / "site" / "static"


def bundle_name() -> str:
    """The file name of the bundle of the installed vl-convert (its versions in it)."""
    return f"vega-{vl_convert.get_vega_version()}-embed-{vl_convert.get_vega_embed_version()}.js"


def main() -> None:
    for old in STATIC.glob("vega-*.js"):
        old.unlink()
    header = (
        f"/*! Vega {vl_convert.get_vega_version()}, Vega-Lite and vega-embed "
        f"{vl_convert.get_vega_embed_version()} (BSD-3-Clause, https://vega.github.io), "
        f"bundled by vl-convert {version('vl-convert-python')}: scripts/vendor_vega.py */\n"
    )
    target = STATIC / bundle_name()
    target.write_text(header + vl_convert.javascript_bundle(), encoding="utf-8")
    print(f"wrote {target} ({target.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
