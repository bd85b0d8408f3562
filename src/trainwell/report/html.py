"""One self-contained HTML page: inline CSS, images as base64 PNG, no script, nothing fetched.

The Content-Security-Policy forbids every network load (only data: images and the inline
style are allowed), so a report opened anywhere cannot phone home or break for lack of a CDN.
"""

from __future__ import annotations

import base64
import html
import json
import math
from dataclasses import dataclass, field

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
:root { --fg: #1d2330; --muted: #5b6475; --line: #d9dee7; --bg: #f6f7f9; --accent: #2457c5;
        --warn: #a15c00; --err: #b3261e; --ok: #1e7b3a; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--fg); background: #fff; }
header { background: var(--bg); border-bottom: 1px solid var(--line); padding: 18px 0 10px; }
.wrap { max-width: 1060px; margin: 0 auto; padding: 0 20px; }
h1 { font-size: 22px; margin: 0 0 4px; }
.sub { color: var(--muted); margin: 0 0 8px; }
nav a { color: var(--accent); text-decoration: none; margin-right: 14px; font-size: 14px; white-space: nowrap; }
nav a:hover { text-decoration: underline; }
section { padding: 18px 0 8px; border-bottom: 1px solid var(--line); }
h2 { font-size: 18px; margin: 0 0 10px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
p { margin: 6px 0; }
.muted { color: var(--muted); }
img.plot { display: block; max-width: 100%; height: auto; margin: 8px 0 4px; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { min-width: 170px; white-space: nowrap; }
.tables { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
pre { background: var(--bg); border: 1px solid var(--line); padding: 10px 12px; overflow: auto;
      max-height: 420px; font-size: 13px; line-height: 1.4; }
code { font-size: 13px; background: var(--bg); padding: 1px 4px; border-radius: 3px; }
.banner { border: 1px solid var(--warn); background: #fff6e6; color: #5a3600; padding: 10px 14px;
          border-radius: 6px; margin: 12px 0 0; }
.finding { border-left: 4px solid var(--line); padding: 4px 0 4px 14px; margin: 12px 0; }
.finding.error { border-color: var(--err); } .finding.warning { border-color: var(--warn); }
.finding.info { border-color: var(--accent); }
.sev { font-size: 12px; font-weight: 700; text-transform: uppercase; padding: 1px 6px; border-radius: 3px;
       color: #fff; background: var(--accent); margin-right: 6px; }
.sev.error { background: var(--err); } .sev.warning { background: var(--warn); }
.status-completed { color: var(--ok); font-weight: 600; }
.status-interrupted, .status-running, .status-failed { color: var(--warn); font-weight: 600; }
footer { color: var(--muted); font-size: 13px; padding: 14px 0 30px; }
"""


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def fmt(value) -> str:
    """A value for a table cell: floats to 4 significant digits, None as a dash."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    return str(value)


def img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="plot" alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def kv_table(items: list[tuple[str, object]]) -> str:
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{v if isinstance(v, Raw) else esc(fmt(v))}</td></tr>"
                   for k, v in items)
    return f'<table class="kv">{rows}</table>'


def table(header: list[str], rows: list[list], caption: str | None = None) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = ""
    for r in rows:
        cells = []
        for v in r:
            if isinstance(v, Raw):
                cells.append(f"<td>{v}</td>")
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                cells.append(f'<td class="num">{esc(fmt(v))}</td>')
            else:
                cells.append(f"<td>{esc(fmt(v))}</td>")
        body += "<tr>" + "".join(cells) + "</tr>"
    cap = f"<caption class='muted' style='text-align:left'>{esc(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Raw(str):
    """Already-escaped HTML, placed as is."""


@dataclass
class Section:
    id: str
    title: str
    body: str


@dataclass
class Page:
    title: str
    subtitle: str = ""
    banner: str | None = None
    sections: list[Section] = field(default_factory=list)
    footer: str = ""

    def add(self, id: str, title: str, body: str) -> None:
        self.sections.append(Section(id, title, body))

    def render(self) -> str:
        nav = "".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a>' for s in self.sections)
        banner = f'<div class="banner" role="alert">{self.banner}</div>' if self.banner else ""
        body = "".join(f'<section id="{esc(s.id)}"><h2>{esc(s.title)}</h2>{s.body}</section>'
                       for s in self.sections)
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(self.title)}</title><style>{CSS}</style></head><body>"
            f'<header><div class="wrap"><h1>{esc(self.title)}</h1><p class="sub">{esc(self.subtitle)}</p>'
            f"<nav>{nav}</nav>{banner}</div></header>"
            f'<main class="wrap">{body}</main>'
            f'<footer class="wrap">{self.footer}</footer></body></html>\n'
        )
