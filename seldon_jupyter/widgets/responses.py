"""ResponsesPanel: the newest responses, counts by type, latency and per-class plots, live.

A daemon thread polls the journal and updates the widgets, so the table moves while events
arrive and the kernel stays free for other cells. It shows this run's responses (since the
panel opened) unless switched to everything the journal holds, at most NEWEST rows of them;
the plots take whatever deployments answered (text, missing or mixed prediction columns)
and are drawn on a transparent background in colours that read in light and dark themes.
"""

from __future__ import annotations

import html
import io
import threading
import time
from typing import Any

import ipywidgets as w
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the non-interactive backend
import pandas as pd  # noqa: E402

from seldon_jupyter.states import COLOURS  # noqa: E402
from seldon_jupyter.widgets.base import Panel  # noqa: E402

HIDDEN = ("attributes", "data", "seq", "time")
NEWEST = 15
INK = "#8a8a8a"  # reads on white and on JupyterLab's dark background


def fallback(css: str) -> str:
    """The hex fallback of a `var(--jp-..., #hex)` theme colour, for matplotlib."""
    return css.rsplit(",", 1)[-1].strip(" )") if css.startswith("var(") else css


class ResponsesPanel(Panel):
    title = "Responses"

    def __init__(self, session: Any = None, *, interval: float = 1.0, live: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(session, **kwargs)
        self.interval = interval
        self.type = w.Text(placeholder="all types", description="type")
        self.live = w.Checkbox(value=live, description="live", indent=False)
        self.scope = w.ToggleButtons(options=["this run", "everything"], value="this run",
                                     tooltips=["responses since this panel opened",
                                               "every response in the journal"])
        self.opened = time.time()
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.table = w.HTML()
        self.counts = w.HTML()
        self.latency_plot = w.Image(format="png", layout=w.Layout(width="45%"))
        self.class_plot = w.Image(format="png", layout=w.Layout(width="45%"))
        self.frame = pd.DataFrame()
        self.shown = 0  # rows every widget shows: set after the table, counts and plots
        self._drawn = threading.Condition()  # one refresh at a time; wakes wait_for
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.on_click(self.refresh_button, self.refresh)
        self.live.observe(lambda c: self.start() if c["new"] else self.stop(), "value")
        self.scope.observe(lambda _c: self.action(self.reload), "value")
        self.layout_children(w.HBox([self.type, self.scope, self.live, self.refresh_button]),
                             self.counts,
                             self.table, w.HBox([self.latency_plot, self.class_plot]))
        self.refresh()
        if live:
            self.start()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="responses-panel", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.stop()
        super().close()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.action(self.refresh)

    def reload(self) -> None:
        """Show again from scratch (the scope or type changed)."""
        with self._drawn:  # an RLock: refresh takes it again
            self.frame = pd.DataFrame()
            self.refresh()

    def refresh(self) -> None:
        with self._drawn:
            self._refresh()
            self.shown = len(self.frame)
            self._drawn.notify_all()

    def _refresh(self) -> None:
        since = self.opened if self.scope.value == "this run" else None
        frame = self.session.responses(type=self.type.value.strip() or None, since=since)
        if len(frame) == len(self.frame) and len(frame):
            return
        self.frame = frame
        shown = frame.drop(columns=[c for c in HIDDEN if c in frame.columns]).tail(NEWEST)
        self.table.value = (shown.iloc[::-1].to_html(index=False, float_format="{:.4f}".format,
                                                     na_rep="", classes="sj-responses")
                            if len(shown) else self._empty())
        counts = frame.groupby("type").size() if len(frame) else pd.Series(dtype=int)
        more = f" (newest {NEWEST} shown)" if len(frame) > NEWEST else ""
        self.counts.value = f"<b>{len(frame)}</b> responses{more}" + "".join(
            f" &middot; {html.escape(str(t))}: {n}" for t, n in counts.items())
        self.latency_plot.value = self._plot(self._latency)
        self.class_plot.value = self._plot(self._classes)

    def _empty(self) -> str:
        where = ("since this panel opened: switch to <i>everything</i> for older ones"
                 if self.scope.value == "this run" else "in the journal")
        return (f"<i>no responses yet {where}. A response arrives once a Trigger takes the "
                "request to a model and another takes the reply to a collector; "
                "<code>session.explain(type=...)</code> says which would.</i>")

    @staticmethod
    def _plot(draw: Any) -> bytes:
        fig, ax = plt.subplots(figsize=(4.5, 2.8))
        try:
            draw(ax)
            # transparent, with mid-grey text and axes: legible on light and dark themes
            fig.patch.set_alpha(0.0)
            ax.set_facecolor("none")
            ax.title.set_color(INK)
            ax.tick_params(colors=INK)
            for spine in ax.spines.values():
                spine.set_color(INK)
            fig.tight_layout()
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=80, transparent=True)
            return buffer.getvalue()
        finally:
            plt.close(fig)

    def _latency(self, ax: Any) -> None:
        latency = self.frame["latency_ms"].dropna() if len(self.frame) else pd.Series()
        if len(latency):
            ax.hist(latency, bins=30, color=fallback(COLOURS["info"]))
        ax.set_title("end-to-end latency (ms)")

    def _classes(self, ax: Any) -> None:
        columns = [c for c in self.frame.columns if str(c).startswith("t:")]
        numeric = self.frame[columns].apply(pd.to_numeric, errors="coerce") if columns else None
        if numeric is not None:
            # rows of other deployments (no t:* values, or text) have nothing to argmax
            numeric = numeric.dropna(how="all")
        if numeric is not None and len(numeric):
            predicted = numeric.idxmax(axis=1).value_counts().sort_index()
            ax.bar(predicted.index.astype(str), predicted.to_numpy(),
                   color=fallback(COLOURS["ok"]))
        ax.set_title("predicted class (argmax)")

    def wait_for(self, count: int, timeout: float = 30.0) -> int:
        """Block until the panel shows `count` responses, in the table, the counts and the
        plots alike (for scripts and tests); returns how many it shows."""
        deadline = time.monotonic() + timeout
        with self._drawn:
            self._drawn.wait_for(lambda: self.shown >= count,
                                 timeout=max(0.0, deadline - time.monotonic()))
            return self.shown
