"""Downloads: the shortlist as CSV and as a printable page, and a key worker's printable plan.

Pure functions returning bytes or text; every value put into HTML is escaped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from html import escape

from content import Labels
from facts import service_facts, shortlist_frame
from guidance import quality_facts

__all__ = ["shortlist_csv", "shortlist_html", "shortlist_mailto", "plan_html", "page"]

_STYLE = """
body { font-family: Arial, Helvetica, sans-serif; font-size: 16px; line-height: 1.5;
       color: #0b0c0c; max-width: 46em; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.8em; } h2 { font-size: 1.3em; margin-top: 1.5em; }
section { border-top: 2px solid #b1b4b6; padding-top: .5em; margin-top: 1em; }
dl { display: grid; grid-template-columns: 10em 1fr; gap: .25em 1em; }
dt { font-weight: bold; } dd { margin: 0; }
.note { border-left: 6px solid #1d70b8; padding: .5em 1em; background: #f3f2f1; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #b1b4b6; padding: .3em .5em; text-align: left; vertical-align: top; }
button { font: inherit; padding: .4em 1em; border: 2px solid #0b0c0c; background: #fff;
         cursor: pointer; min-height: 44px; }
@media print { body { margin: 0; max-width: none; } section { break-inside: avoid; }
               .noprint { display: none; } }
"""


def page(title: str, body: str) -> str:
    """A whole HTML page (English, with print styles) around ``body``."""
    return (f'<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            '<main>\n<p class="noprint"><button type="button" onclick="window.print()">'
            f"Print</button></p>\n{body}\n</main>\n</body>\n</html>\n")


def _list(items: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(x)}</li>" for x in items) + "</ul>" if items else ""


def shortlist_csv(items: Sequence[Mapping], labels: Labels) -> bytes:
    """The shortlist as CSV (UTF-8 with a byte order mark, so spreadsheets read it right)."""
    return shortlist_frame(items, labels).to_csv(index=False).encode("utf-8-sig")


def shortlist_mailto(items: Sequence[Mapping], link: str = "") -> str:
    """A ``mailto:`` address whose message lists the shortlist (name, phone, website, address,
    the first reason), to send to oneself or someone else; the recipient is left blank.

    >>> m = shortlist_mailto([{"result": {"name": "Swim", "reasons": ["Free"]},
    ...                        "detail": {"phone": "020 1"}}])
    >>> m.startswith("mailto:?subject=Our%20shortlist"), "1.%20Swim%0A%20%20%20Phone%3A%20020%201" in m
    (True, True)
    """
    from urllib.parse import quote

    lines = ["Our shortlist of support from the Local Offer:", ""]
    for n, item in enumerate(items, start=1):
        r, d = item["result"], item.get("detail") or {}
        lines.append(f"{n}. {r['name']}")
        for label, value in (("Phone", d.get("phone")), ("Website", d.get("url")),
                             ("Address", ", ".join(x for x in (d.get("address"),
                                                               d.get("postcode")) if x))):
            if value:
                lines.append(f"   {label}: {value}")
        if r.get("reasons"):
            lines.append(f"   Why: {r['reasons'][0]}")
        lines.append("")
    if link:
        lines.append(f"The suggestions: {link}")
    return ("mailto:?subject=" + quote("Our shortlist of SEND support", safe="")
            + "&body=" + quote("\n".join(lines), safe=""))


def shortlist_html(items: Sequence[Mapping], labels: Labels, sendiass: str,
                   today: dt.date | None = None) -> str:
    """The shortlist as a printable page: each service with its reasons, facts and questions."""
    today = today or dt.date.today()
    parts = [f"<h1>Your shortlist of support</h1>\n<p>Made on {today.day} "
             f"{today.strftime('%B %Y')}. Check details with each service before you go: "
             "they can change.</p>"]
    for item in items:
        r, d = item["result"], item.get("detail") or {}
        facts = service_facts(r, d, labels, today)
        facts.update({k: v for k, v in quality_facts(d).items()   # only what the record says
                      if v not in ("None given", "Not given", "In the area")})
        dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts.items())
        org = f"<p>{escape(r['organisation'])}</p>" if r.get("organisation") else ""
        questions = item.get("questions") or []
        parts.append(
            f"<section>\n<h2>{escape(r['name'])}</h2>\n{org}"
            f"<h3>Why it was suggested</h3>{_list(r.get('reasons') or [])}"
            f"<dl>{dl}</dl>"
            + (f"<h3>Questions you could ask</h3>{_list(questions)}" if questions else "")
            + "\n</section>")
    parts.append(f'<p class="note"><strong>Free advice:</strong> {escape(sendiass)}</p>')
    return page("Your shortlist of support", "\n".join(parts))


def plan_html(plan: Mapping, services: Mapping[str, Mapping], labels: Labels,
              deadlines: Sequence[tuple[str, dt.date]], sendiass: str,
              today: dt.date | None = None) -> str:
    """A key worker's plan as a printable page.

    ``plan`` is the plan's content (``label``, ``transition``, ``profile``, ``services``,
    ``next_steps``, optionally ``retain_until``); ``services`` maps service ids to what is known
    of them (``name`` at least); ``deadlines`` are ``(what, date)`` pairs.
    """
    from planning import move_name

    today = today or dt.date.today()
    profile = plan.get("profile") or {}
    about = [f"Move: {move_name(plan)}"
             + (f", September {plan['move_year']}" if plan.get("move_year") else "")]
    if profile.get("age") is not None:
        about.append(f"Age: {profile['age']}")
    if profile.get("needs"):
        about.append("Needs: " + ", ".join(profile["needs"]))
    about.append("EHC plan: " + ("yes" if profile.get("has_ehcp") else "no"))
    chosen = []
    for s in plan.get("services") or []:
        known = services.get(s["service_id"]) or {}
        name = known.get("name") or s["service_id"]
        lines = [x for x in (known.get("phone"), known.get("email"), known.get("url")) if x]
        where = ", ".join(x for x in (known.get("address"), known.get("postcode")) if x)
        if where:
            lines.insert(0, where)
        cell = escape(name) + "".join(f"<br><small>{escape(x)}</small>" for x in lines)
        why = _list(list(s.get("reasons") or []))
        chosen.append(f"<tr><td>{cell}</td><td>{why or 'Not recorded'}</td>"
                      f"<td>{escape(s.get('note') or '')}</td></tr>")
    steps = []
    for s in plan.get("next_steps") or []:
        due = s.get("due")
        due_text = dt.date.fromisoformat(str(due)).strftime("%d %B %Y") if due else "No date"
        steps.append(f"<tr><td>{escape(s['action'])}</td><td>{escape(due_text)}</td>"
                     f"<td>{escape(s.get('owner') or 'Not set')}</td>"
                     f"<td>{'Done' if s.get('done') else 'To do'}</td></tr>")
    dates = "".join(f"<li><strong>{d.strftime('%d %B %Y')}</strong>: {escape(what)}</li>"
                    for what, d in deadlines)
    body = [
        f"<h1>Transition plan: {escape(plan.get('label') or '')}</h1>",
        f"<p>Printed on {today.strftime('%d %B %Y')}. The label is pseudonymous; keep this page "
        "safe and destroy it when it is no longer needed.</p>",
        f"<h2>About</h2>{_list(about)}",
        "<h2>Key dates</h2>" + (f"<ul>{dates}</ul>" if dates else "<p>None recorded.</p>"),
        "<h2>Services chosen</h2>" + (
            "<table><thead><tr><th scope=\"col\">Service, address and contact</th>"
            "<th scope=\"col\">Why it was suggested</th><th scope=\"col\">Note</th></tr>"
            f"</thead><tbody>{''.join(chosen)}</tbody></table>" if chosen
            else "<p>None chosen yet.</p>"),
        "<h2>Next steps</h2>" + (
            "<table><thead><tr><th scope=\"col\">What</th><th scope=\"col\">By</th>"
            "<th scope=\"col\">Who</th><th scope=\"col\">Status</th></tr></thead>"
            f"<tbody>{''.join(steps)}</tbody></table>" if steps else "<p>None yet.</p>"),
        f'<p class="note"><strong>Free advice:</strong> {escape(sendiass)}</p>',
    ]
    return page(f"Transition plan {plan.get('label') or ''}", "\n".join(body))
