"""Charts of the brief and of the site: one set of Altair specifications, two outputs.

- The brief draws them as inline SVG (``lines``, ``bars``): vl-convert runs Vega
  in-process and returns static SVG whose text stays ``<text>``, so the browser shapes
  Arabic with the page's fonts (Debian ``fonts-noto-core``). No JavaScript, no CDN.
- The site (``migstock.site``) takes the same specifications as Vega-Lite JSON
  (``line_chart``, ``bar_chart`` with ``tooltip`` and a ``sex`` parameter) and draws
  them in the browser with the Vega bundle vendored from vl-convert.

Right-to-left pages get mirrored charts: time and bar lengths grow leftwards and the
category axis sits on the right.
"""

from __future__ import annotations

import json
import re
from itertools import count

import altair as alt
import pandas as pd
import vl_convert as vlc

#: fonts that render Latin and Arabic (Debian fonts-noto-core; DejaVu as fallback)
FONT = "Noto Sans, Noto Sans Arabic, DejaVu Sans, sans-serif"
WIDTH = 560
PALETTE = ["#1b5e8c", "#c2572b", "#4f8a3c", "#8a5ca8", "#b08a1e", "#5b6b73"]
_VEGA_LITE = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
_ids = count(1)


def spec(chart: alt.TopLevelMixin) -> dict:
    """The Vega-Lite specification of ``chart`` with the brief's font and look."""
    return (
        chart.configure(font=FONT, background="white")
        .configure_view(stroke=None)
        .to_dict(validate=False)
    )


def _render(chart: alt.TopLevelMixin) -> str:
    svg = vlc.vegalite_to_svg(spec(chart), vl_version=_VEGA_LITE)
    return _scope_ids(svg, f"c{next(_ids)}-")


def _scope_ids(svg: str, prefix: str) -> str:
    """Prefix every id (clip paths, gradients) so several inline SVGs never collide."""
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    for name in sorted(ids, key=len, reverse=True):
        svg = svg.replace(f'id="{name}"', f'id="{prefix}{name}"')
        svg = svg.replace(f"url(#{name})", f"url(#{prefix}{name})")
        svg = svg.replace(f'href="#{name}"', f'href="#{prefix}{name}"')
    # the SVG root gets no fixed size: the page scales it (viewBox stays)
    return re.sub(r'^<svg ([^>]*?)width="[\d.]+" height="[\d.]+"', r"<svg \1", svg, count=1)


def lines(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    series: str,
    x_title: str,
    y_title: str,
    rtl: bool,
    series_order: list[str] | None = None,
) -> str:
    """One line per series over the years (sub-regions, or revisions), as SVG."""
    return _render(
        line_chart(
            frame,
            x=x,
            y=y,
            series=series,
            x_title=x_title,
            y_title=y_title,
            rtl=rtl,
            series_order=series_order,
            x_values=sorted(frame[x].unique().tolist()),
        )
    )


def _sex_filter(chart: alt.Chart, sex: str | None) -> alt.Chart:
    """Keep the rows of the sex chosen by the parameter ``sex`` (set from the page)."""
    if sex is None:
        return chart
    return chart.transform_filter(f"datum.{sex} == sex")


def line_chart(
    data: pd.DataFrame | alt.Data,
    *,
    x: str,
    y: str,
    series: str,
    x_title: str,
    y_title: str,
    rtl: bool,
    series_order: list[str] | None = None,
    x_values: list[int] | None = None,
    y_format: str = ",.1f",
    tooltip: list[alt.Tooltip] | None = None,
    sex: str | None = None,
    width: int = WIDTH,
) -> alt.TopLevelMixin:
    """One line per series over the years. ``sex``: the column filtered by the chart's
    parameter ``sex`` (the site's sex selector); ``tooltip``: fields shown on hover."""
    x_axis = alt.X(
        f"{x}:Q",
        title=x_title,
        scale=alt.Scale(zero=False, nice=False, reverse=rtl),
        axis=alt.Axis(format="d", labelOverlap=True, tickMinStep=1)
        if x_values is None
        else alt.Axis(format="d", values=x_values, labelOverlap=True),
    )
    y_axis = alt.Y(
        f"{y}:Q",
        title=y_title,
        axis=alt.Axis(orient="right" if rtl else "left", format=y_format, titlePadding=18),
    )
    color = alt.Color(
        f"{series}:N",
        title=None,
        sort=series_order,
        scale=alt.Scale(range=PALETTE),
        legend=alt.Legend(orient="bottom", direction="horizontal", labelLimit=300),
    )
    base = _sex_filter(alt.Chart(data), sex).encode(x=x_axis, y=y_axis, color=color)
    points = base.mark_point(filled=True, size=40)
    if tooltip:
        points = points.encode(tooltip=tooltip)
    chart = (base.mark_line(strokeWidth=2.5) + points).properties(width=width, height=260)
    if sex is not None:
        chart = chart.add_params(alt.param(name="sex", value="total"))
    return chart


def bars(
    frame: pd.DataFrame,
    *,
    category: str,
    value: str,
    value_title: str,
    rtl: bool,
    value_format: str = ",.1f",
    rule_value: float | None = None,
    rule_label: str | None = None,
) -> str:
    """Horizontal bars, largest on top, optionally with a reference line (the region)."""
    chart = bar_chart(
        frame,
        category=category,
        value=value,
        value_title=value_title,
        rtl=rtl,
        value_format=value_format,
        order=frame[category].tolist(),
        height=max(120, 22 * len(frame)),
    )
    if rule_value is not None:
        rule_frame = pd.DataFrame({value: [rule_value], "label": [rule_label or ""]})
        rule = alt.Chart(rule_frame).mark_rule(color=PALETTE[1], strokeWidth=2, strokeDash=[6, 3])
        text = alt.Chart(rule_frame).mark_text(
            color=PALETTE[1],
            align="right" if rtl else "left",
            dx=-4 if rtl else 4,
            dy=-6,
            fontWeight="bold",
        )
        chart = (
            chart
            + rule.encode(x=f"{value}:Q")
            + text.encode(x=f"{value}:Q", y=alt.value(0), text="label:N")
        )
    return _render(chart)


def bar_chart(
    data: pd.DataFrame | alt.Data,
    *,
    category: str,
    value: str,
    value_title: str,
    rtl: bool,
    value_format: str = ",.1f",
    order: list[str] | str = "-x",
    height: int = 220,
    tooltip: list[alt.Tooltip] | None = None,
    sex: str | None = None,
) -> alt.TopLevelMixin:
    """Horizontal bars, largest on top (``order``: the categories, or "-x" to sort by
    value in the browser). ``sex`` and ``tooltip`` as in :func:`line_chart`."""
    x_axis = alt.X(
        f"{value}:Q",
        title=value_title,
        scale=alt.Scale(reverse=rtl),
        axis=alt.Axis(format=value_format),
    )
    y_axis = alt.Y(
        f"{category}:N",
        title=None,
        sort=order,
        axis=alt.Axis(orient="right" if rtl else "left", labelLimit=220),
    )
    chart = _sex_filter(alt.Chart(data), sex).mark_bar(color=PALETTE[0]).encode(x=x_axis, y=y_axis)
    if tooltip:
        chart = chart.encode(tooltip=tooltip)
    if sex is not None:
        chart = chart.add_params(alt.param(name="sex", value="total"))
    return chart.properties(width=WIDTH - 120, height=height)


def pyramid_chart(
    data: pd.DataFrame | alt.Data,
    *,
    age: str,
    order: list[str],
    value: str,
    sex: str,
    sex_labels: dict[str, str],
    value_title: str,
    rtl: bool,
    tooltip: list[alt.Tooltip] | None = None,
    height: int = 340,
    axis_description: str | None = None,
) -> alt.TopLevelMixin:
    """A population pyramid: one horizontal bar per age group (``age``, ``order``: oldest
    on top) and sex (``sex``: 'male' or 'female'), men to the left of zero and women to the
    right, in both languages (as demographers draw it, in Arabic too); the age axis is on
    the right in right-to-left pages, like the category axis of the other charts.

    The value axis is symmetric around zero and shows magnitudes on both sides; its
    half-width is the parameter ``extent`` (set per chart to the largest bar, so both
    halves have the same scale). ``sex_labels`` ('male', 'female': words) name each half
    above it, in its colour (no legend to decode). What a screen reader says of a bar is
    its sex, age group and count (never the negative number that draws a man's bar);
    ``axis_description``, of the value axis."""
    male, female = (json.dumps(sex_labels[s], ensure_ascii=False) for s in ("male", "female"))
    colours = alt.Scale(domain=["male", "female"], range=[PALETTE[0], PALETTE[1]])
    x_axis = alt.X(
        "signed:Q",
        title=value_title,
        scale=alt.Scale(domain=alt.ExprRef(expr="[-extent, extent]"), nice=False),
        axis=alt.Axis(
            labelExpr="format(abs(datum.value), ',')",
            tickCount=6,
            labelFlush=True,
            **({"description": axis_description} if axis_description else {}),
        ),
    )
    y_axis = alt.Y(
        f"{age}:N",
        title=None,  # the groups name themselves ("0–4"); a rotated title would crowd them
        sort=order,
        scale=alt.Scale(paddingInner=0.08),
        axis=alt.Axis(orient="right" if rtl else "left", labelLimit=160),
    )
    bars = (
        alt.Chart(data)
        .transform_calculate(
            signed=f"datum.{sex} === 'male' ? -datum.{value} : datum.{value}",
            sex_label=f"datum.{sex} === 'male' ? {male} : {female}",
        )
        .transform_calculate(
            described=f"datum.sex_label + ', ' + datum.{age} + ': ' + format(datum.{value}, ',')"
        )
        .mark_bar()
        .encode(
            x=x_axis,
            y=y_axis,
            color=alt.Color(f"{sex}:N", scale=colours, legend=None),
            description="described:N",
        )
    )
    if tooltip:
        bars = bars.encode(tooltip=tooltip)
    halves = (  # one row per sex of the same data: the name of each half above it
        alt.Chart(data)
        .transform_aggregate(groupby=[sex])
        .transform_calculate(
            half=f"datum.{sex}",
            signed=f"datum.{sex} === 'male' ? -extent / 2 : extent / 2",
            label=f"datum.{sex} === 'male' ? {male} : {female}",
        )
        .mark_text(fontWeight="bold", fontSize=13, baseline="bottom")
        .encode(
            x=alt.X("signed:Q"),
            y=alt.value(-6),
            text="label:N",
            color=alt.Color("half:N", scale=colours, legend=None),
        )
    )
    return (
        alt.layer(bars, halves)
        .add_params(alt.param(name="extent", value=1))
        .properties(width=WIDTH, height=height)
    )
