"""Reading the figures of a run report page back, as a person sees them: the text of the cells the page marks.

Used by the run report tests with the stdlib parser, and with a headless browser's rendered DOM when one is
installed. Numbers are shown with thousands separators; ``number`` reads them back.
"""

from __future__ import annotations

from html.parser import HTMLParser


class ReportPage(HTMLParser):
    """Text by element id, and per table row (``data-stream`` / ``data-dataset``) the text of each counted cell."""

    ROW_KEYS = ("data-stream", "data-dataset")

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.by_id: dict[str, str] = {}
        self.rows: dict[tuple[str, str], dict[str, str]] = {}  # (row class, key) -> data-count -> text
        self.reasons: list[dict[str, str]] = []  # each rejects / repairs row: table, stream, reason, count, ids
        self._open: list[tuple[str, dict[str, str | None]]] = []
        self._row: tuple[str, str] | None = None
        self._table: str | None = None
        self._reason: dict[str, str] | None = None
        self._texts: list[tuple[int, list[str]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self._table = found.get("id")
        if tag == "tr":
            key = next((found[k] for k in self.ROW_KEYS if found.get(k) is not None), None)
            self._row = (str(found.get("class")), str(key)) if key is not None else None
            if found.get("class") == "reason-row":
                self._reason = {"table": str(self._table), "stream": str(found.get("data-stream"))}
            else:
                self._reason = None
        self._open.append((tag, found))
        self._texts.append((len(self._open), []))

    def handle_endtag(self, tag: str) -> None:
        if not self._open:
            return
        _, found = self._open.pop()
        _, parts = self._texts.pop()
        text = " ".join("".join(parts).split())
        if self._texts:
            self._texts[-1][1].append(text)
        if found.get("id"):
            self.by_id[str(found["id"])] = text
        if tag == "td" and self._row is not None and found.get("data-count"):
            self.rows.setdefault(self._row, {})[str(found["data-count"])] = text
        if tag == "td" and self._reason is not None:
            cell = "count" if found.get("data-count") else found.get("class") or "stream"
            self._reason[str(cell)] = text
        if tag == "tr" and self._reason is not None:
            self.reasons.append(self._reason)
            self._reason = None

    def handle_data(self, data: str) -> None:
        if self._texts:
            self._texts[-1][1].append(data)

    def count(self, row_class: str, key: str, name: str) -> int:
        return number(self.rows[(row_class, key)][name])


def number(text: str) -> int:
    return int(text.replace(",", "").strip())
