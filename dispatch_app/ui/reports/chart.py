"""A report's chart, drawn with matplotlib: the same drawing on screen (``ReportChart``, a
Qt widget through the QtAgg backend) and in the PDF (``chart_png``, the Agg backend, no
window needed).

Why matplotlib (Qt deprecated QtCharts in 6.10). Measured on this 2-core
machine (December 2026, Python 3.11, PySide6 6.11.3, ``QT_QPA_PLATFORM=offscreen``),
three runs each; "import" is the cost on top of ``PySide6.QtWidgets`` (0.09–0.12 s for
``python -c``), "first chart" ten bars drawn and grabbed offscreen:

=================  ===========  ============  ===================================
library            import       first chart   PDF
=================  ===========  ============  ===================================
Qt Graphs 6.11.3   0.02–0.04 s  0.02–0.04 s   none: a raster grab of the scene
pyqtgraph 0.14.0   0.39–0.48 s  0.02–0.05 s   none (PNG, SVG, CSV exporters)
matplotlib 3.11.2  0.43–0.68 s  0.10–0.21 s   native, vector: 0.20–0.27 s, 9 KB
=================  ===========  ============  ===================================

- **Qt Graphs** (in PySide6-Addons, already shipped) is the lightest, and it did render
  offscreen here, after Qt Quick failed to create an OpenGL context and fell back to
  software. But its 2D charts exist only in QML: a ``QQuickWidget`` hosting a
  ``GraphsView``, every chart written in QML and its data handed across; on a PC
  without usable OpenGL (a remote desktop, an old office machine) it depends on that
  fallback; and for paper it offers a picture of the scene only.
- **pyqtgraph** draws live data fast, but a bar chart of named things is hand-built
  (``BarGraphItem`` and hand-set ticks), and it cannot write a PDF: its exporters are
  pictures, SVG and CSV.
- **matplotlib** costs half a second to import, so the app loads it only when the
  Reports window is first opened (about 0.3 s then), never at start-up. In exchange one
  drawing function makes the window's chart and the printed one, renders with no
  screen through Agg (the tests, the PDF), and has category axes, value formatters and
  bar labels that keep a chart readable as its bars grow in number.
"""

from __future__ import annotations

import io
import math

from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from dispatch_app.domain.reports import Cell, CellKind, ReportResult
from dispatch_app.ui import theme
from dispatch_app.ui.reports.cells import DASH, axis_text, cell_text, chart_value, short_date

BAR_COLOUR = theme.SELECTION.name()
TEXT_COLOUR = theme.TEXT.name()
MUTED_COLOUR = theme.MUTED_TEXT.name()
GRID_COLOUR = theme.GRID.name()
# Bars up are labelled with their figures while the labels fit side by side.
LABELLED_BARS = 16
# At most this many labels under a chart of weeks; the rest are ticks without words.
DATE_LABELS = 12
# Bars across are drawn in at least this many slots, so three reasons are not three
# slabs; and each named bar needs this many pixels (points in the PDF) to be read, the
# chart growing taller (and scrolling) past what the window gives it.
FEWEST_SLOTS = 6
BAR_PIXELS = 24
CHART_MARGIN_PIXELS = 90
MINIMUM_HEIGHT = 220


def draw_chart(figure: Figure, result: ReportResult, *, font_size: float = 10.0) -> bool:
    """Draw ``result``'s chart on ``figure`` (cleared first); False when there is nothing
    to draw (no chart, no rows, or no figure in any row)."""
    figure.clear()
    spec = result.chart
    if spec is None or not result.rows:
        return False
    label_kind = result.columns[spec.label_column].kind
    value_kind = result.columns[spec.value_column].kind
    labels = [_label(row.cells[spec.label_column], label_kind) for row in result.rows]
    values = [chart_value(row.cells[spec.value_column]) for row in result.rows]
    if all(value is None for value in values):
        return False
    axes = figure.add_subplot()
    _style(axes, font_size)
    texts = [cell_text(row.cells[spec.value_column], value_kind) for row in result.rows]
    across = spec.kind != "line" and label_kind is CellKind.TEXT
    if spec.kind == "line":
        _line(axes, labels, values, font_size)
    elif across:
        _bars_across(axes, labels, values, texts, font_size)
    else:
        _bars_up(axes, labels, values, texts, font_size)
    value_axis: Axis = axes.xaxis if across else axes.yaxis
    value_axis.set_major_formatter(FuncFormatter(lambda v, _pos: axis_text(v, value_kind)))
    value_axis.set_major_locator(MaxNLocator(nbins=5, integer=value_kind is CellKind.COUNT))
    axes.set_title(
        result.columns[spec.value_column].title,
        loc="left",
        fontsize=font_size * 1.1,
        color=TEXT_COLOUR,
        fontweight="bold",
    )
    if value_kind is CellKind.PERCENT:
        # Room past 100 % for the figure written at the end of a full bar across.
        (axes.set_xlim if across else axes.set_ylim)(0, 118 if across else 105)
    return True


def _label(value: Cell, kind: CellKind) -> str:
    if kind is CellKind.DATE and value is not None and not isinstance(value, (str, int)):
        return short_date(value)  # type: ignore[arg-type]
    return cell_text(value, kind)


def _style(axes: Axes, font_size: float) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color(GRID_COLOUR)
    axes.tick_params(colors=MUTED_COLOUR, labelsize=font_size, length=0, pad=6)
    axes.set_axisbelow(True)


def _heights(values: list[float | None]) -> list[float]:
    return [0.0 if value is None else value for value in values]


def _bar_texts(texts: list[str], values: list[float | None]) -> list[str]:
    """Each bar's figure as the table writes it; "—" where there is nothing to count."""
    return [text if value is not None else DASH for text, value in zip(texts, values, strict=True)]


def bars_across(result: ReportResult) -> int:
    """How many named bars the chart draws across (0 for a chart of weeks, or none):
    what its height needs."""
    spec = result.chart
    if spec is None or spec.kind == "line":
        return 0
    if result.columns[spec.label_column].kind is not CellKind.TEXT:
        return 0
    return len(result.rows)


def _bars_across(
    axes: Axes, labels: list[str], values: list[float | None], texts: list[str], font_size: float
) -> None:
    """Named things (job types, technicians, reasons): bars across, read top down."""
    places = range(len(labels))
    bars = axes.barh(places, _heights(values), color=BAR_COLOUR, height=0.65)
    axes.set_yticks(list(places), labels, color=TEXT_COLOUR)
    axes.set_ylim(max(len(labels), FEWEST_SLOTS) - 0.5, -0.5)  # top down, first on top
    axes.grid(axis="x", color=GRID_COLOUR, linewidth=0.8)
    axes.spines["left"].set_visible(False)
    # Every bar across has room for its figure (the chart grows a line per bar), and a
    # tall chart scrolls its axis out of sight: the figures are what is read.
    shown = _bar_texts(texts, values)
    axes.bar_label(bars, shown, padding=4, fontsize=font_size * 0.9, color=TEXT_COLOUR)
    axes.margins(x=0.18)  # room for the longest bar's words


def _bars_up(
    axes: Axes, labels: list[str], values: list[float | None], texts: list[str], font_size: float
) -> None:
    """Weeks or days: bars up, oldest on the left."""
    places = list(range(len(labels)))
    bars = axes.bar(places, _heights(values), color=BAR_COLOUR, width=0.7)
    _date_ticks(axes, labels)
    axes.grid(axis="y", color=GRID_COLOUR, linewidth=0.8)
    if len(labels) <= LABELLED_BARS:
        shown = _bar_texts(texts, values)
        axes.bar_label(bars, shown, padding=3, fontsize=font_size * 0.85, color=TEXT_COLOUR)
        axes.margins(y=0.15)


def _line(axes: Axes, labels: list[str], values: list[float | None], font_size: float) -> None:
    """A trend by week: a gap where a week has nothing to count."""
    places = list(range(len(labels)))
    heights = [math.nan if value is None else value for value in values]
    axes.plot(places, heights, color=BAR_COLOUR, linewidth=2.2, marker="o", markersize=4.5)
    _date_ticks(axes, labels)
    axes.grid(axis="y", color=GRID_COLOUR, linewidth=0.8)
    axes.set_ylim(bottom=0)
    axes.set_xlim(-0.5, len(labels) - 0.5)


def _date_ticks(axes: Axes, labels: list[str]) -> None:
    step = max(1, math.ceil(len(labels) / DATE_LABELS))
    places = list(range(len(labels)))
    axes.set_xticks(places[::step], labels[::step], color=TEXT_COLOUR)


class ReportChart(FigureCanvasQTAgg):
    """The chart in the Reports window."""

    def __init__(self) -> None:
        super().__init__(Figure(figsize=(6.0, 3.0), layout="constrained", facecolor="white"))
        self.setObjectName("reportChart")
        self.setMinimumHeight(MINIMUM_HEIGHT)
        self.drawn = False  # something is drawn (tests, and whether to show the widget)

    def show_result(self, result: ReportResult | None) -> bool:
        self.drawn = result is not None and draw_chart(self.figure, result)
        if not self.drawn:
            self.figure.clear()
        bars = bars_across(result) if result is not None else 0
        self.setMinimumHeight(max(MINIMUM_HEIGHT, bars * BAR_PIXELS + CHART_MARGIN_PIXELS))
        self.draw_idle()
        return self.drawn


def chart_png(
    result: ReportResult, *, width_in: float = 7.2, height_in: float = 3.2, dpi: int = 200
) -> bytes | None:
    """The chart as a PNG picture for the printed copy, or None when there is none."""
    # As on screen, a bar per line that can be read: taller for many, at most a page.
    height_in = min(
        8.5, max(height_in, (bars_across(result) * BAR_PIXELS + CHART_MARGIN_PIXELS) / 96)
    )
    figure = Figure(figsize=(width_in, height_in), layout="constrained", facecolor="white")
    FigureCanvasAgg(figure)
    if not draw_chart(figure, result, font_size=9.0):
        return None
    picture = io.BytesIO()
    figure.savefig(picture, format="png", dpi=dpi)
    return picture.getvalue()
