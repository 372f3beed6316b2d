"""An answer or an assessment as a Markdown file to keep or share, and the escaping that keeps corpus text inert.

Corpus text and questions are data, never markup: `escape_markdown` makes every
character that Markdown (and Streamlit's flavour: $math$, :emoji:, :color[...],
"->" arrows) would interpret print as itself. The app uses the same function on screen.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import quote

from index.answers.question import Answer
from index.answers.results import Result
from index.assessment.assess import Assessment
from index.law.catalog import Catalog, breadcrumb, standing
from index.law.timeline import AppliesFrom
from index.model import Hit

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~$:&])")
# Streamlit turns "--" into a dash and "->", "<-", ">=", "<=", "~=" into symbols, escaped or not:
# an invisible word joiner between the two characters keeps them as written
_TYPOGRAPHIC_PAIR = re.compile(r"(?<=<)(?=[-=])|(?<=-)(?=[->])|(?<=>)(?==)|(?<=~)(?==)")
WORD_JOINER = "\u2060"
_LINE_START = re.compile(r"^(\d+)(?=[.)])|^(?=[-+])")
DISCLAIMER = ("Not legal advice. RegKB quotes and links the official texts; it does not interpret them. "
              "Check the authentic text on EUR-Lex before relying on it.")


def escape_markdown(text: str) -> str:
    """One line of text that renders as itself: inline markup escaped, and "1." or "-" at the start kept from
    becoming a list. CommonMark allows a backslash before any ASCII punctuation, so nothing else changes."""
    return guard_line_start(escape_inline(" ".join(text.split())))


def escape_inline(text: str) -> str:
    """A piece of a line, spacing kept (line breaks become spaces), for a line assembled from styled pieces."""
    return _SPECIAL.sub(r"\\\1", _TYPOGRAPHIC_PAIR.sub(WORD_JOINER, re.sub(r"\s", " ", text)))


def guard_line_start(markdown: str) -> str:
    """Keep an assembled line that starts like "1." or "- " from becoming a list."""
    return _LINE_START.sub(lambda m: f"{m.group(1) or ''}\\", markdown)


_WEB_ADDRESS = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:)]")


def linked_text(text: str) -> str:
    """A line of prose whose web addresses stay links (`<https://...>`): escaping them would print
    "https\\://" as text, and an attribution's licence address would no longer open."""
    parts, start = [], 0
    for match in _WEB_ADDRESS.finditer(text):
        parts += [escape_inline(text[start:match.start()]), link(match.group(0))]
        start = match.end()
    parts.append(escape_inline(text[start:]))
    return guard_line_start(" ".join("".join(parts).split()))


def link(url: str) -> str:
    """An autolink to a web address, or "" when `url` is not one."""
    safe = safe_url(url)
    return f"<{safe}>" if safe else ""


def safe_url(url: str) -> str:
    """A link target only when it is a web address; percent-encodes what could end a Markdown link."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%-._~") if url.startswith(("https://", "http://")) else ""


def citation_line(hit: Hit) -> str:
    """What "copy citation" copies: "Article 5(1)(f) AI Act, https://eur-lex.europa.eu/...#005.001"."""
    return ", ".join(part for part in (_cited(hit), safe_url(hit.chunk.url)) if part)


def _cited(hit: Hit) -> str:
    """ "Article 5(1)(f) AI Act", with ", p. 12" when the source has pages."""
    return f"{hit.citation}, p. {hit.chunk.page}" if hit.chunk.page else hit.citation


def answer_markdown(answer: Answer, catalog: Catalog) -> str:
    """The question, the glance and every cited passage, with links, attributions and the disclaimer."""
    lines = [f"# {escape_markdown(answer.question)}", "",
             f"_Asked {answer.asked:%Y-%m-%d %H:%M} UTC · searched {escape_markdown(answer.scope.describe(catalog))}_",
             "", f"> {escape_markdown(DISCLAIMER)}", ""]
    if answer.glance:
        lines += ["## At a glance (quoted from the sources below)", ""]
        lines += [f"- “{escape_markdown(g.quote)}” — {escape_markdown(g.citation)}" for g in answer.glance]
        lines.append("")
    lines += ["## Sources", ""]
    for rank, result in enumerate(answer.results, start=1):
        lines += _passage_section(rank, result.hit, result.more)
        lines += _version_lines(result)
    lines += ["## Attribution", ""]
    cited = dict.fromkeys(r.hit.chunk.doc_id for r in answer.results)
    lines += [f"- {linked_text(catalog.document(d).get('attribution', ''))}" for d in cited]
    return "\n".join(lines).rstrip() + "\n"


def _version_lines(result: Result) -> list[str]:
    """Which version the passage quotes, what amended it, and from when it applies."""
    hit = result.hit
    lines = []
    if hit.version:
        lines.append(f"Version: text in force on {hit.as_of}, {escape_markdown(hit.version.get('text', ''))}  ")
    lines += [f"Amended by {escape_markdown(a.act)}, {escape_markdown(a.point)} ({a.kind}), in force {a.in_force}  "
              for a in hit.chunk.amended_by]
    if result.applies_from:
        lines.append(f"Applies from {applies_from(result.applies_from)}.  ")
    return [*lines, ""] if lines else []


def applies_from(dates: tuple[AppliesFrom, ...]) -> str:
    """ "2 August 2026 (the general date of application, Article 113)": one wording for answers and checklists."""
    return "; ".join(f"{d.day.isoformat()} ({escape_markdown(', '.join(p for p in (d.condition, d.source) if p))})"
                     for d in dates)


def _passage_section(rank: int, hit: Hit, more: tuple[Hit, ...]) -> list[str]:
    chunk = hit.chunk
    title = hit.document.get("title", chunk.doc_id)
    kind = f" _({escape_markdown(standing(hit.document))})_" if standing(hit.document) else ""
    lines = [f"### {rank}. {escape_markdown(hit.citation)}", "",
             f"{escape_markdown(title)}{kind}  ", escape_markdown(" › ".join(breadcrumb(chunk, hit.document.get("language", "en"))) or chunk.label), ""]
    passages = sorted((hit, *more), key=lambda p: p.chunk.order)  # as the law reads, whichever matched best
    for passage in passages:
        if len(passages) > 1:
            lines += [f"**{escape_markdown(passage.written_label)}**", ""]
        if passage.chunk.lead:
            lines += [f"> {escape_markdown(passage.chunk.lead)}", ">"]
        lines += [f"> {escape_markdown(passage.chunk.text)}", ""]
    url = link(chunk.url)
    lines += [f"Cite as: {escape_markdown(_cited(hit))}" + (f" — {url}" if url else ""), ""]
    return lines


RISK_NAMES = {"prohibited": "Prohibited practice", "high-risk": "High-risk AI system",
              "limited": "Transparency duties (limited risk)", "minimal": "Minimal risk: no specific duties"}


def checklist_markdown(assessment: Assessment) -> str:
    """The assessment as a checklist an SME can file: description, answers, class, each duty with its citation and
    date, the version of the law, the disclaimer. The CLI prints it; the app offers it for download."""
    a = assessment
    lines = ["# AI Act assessment", "", f"> {escape_markdown(a.text)}", "",
             f"_Assessed {date_of(a.asked)} · {escape_markdown(a.version)}_", "",
             f"> {escape_markdown(DISCLAIMER)}", "",
             f"**Risk class: {RISK_NAMES[a.risk_class]}** · role: {a.role}"
             + (" (confirmed by the user)" if a.answered else " (proposed from the description)"), ""]
    if a.categories:
        lines += ["## Why", ""]
        lines += [f"- {escape_markdown(m.category.label)}: {escape_markdown(m.category.title)} (score {m.score:.2f})"
                  for m in a.categories]
        lines.append("")
    if a.duties:
        lines += [f"## Duties of the {escape_markdown(a.role)}", ""]
        for duty in a.duties:
            condition = f" _{escape_markdown(duty.duty.condition)}_:" if duty.duty.condition else ""
            url = link(duty.url)
            lines.append(f"- [ ] **{escape_markdown(duty.citation)}**{condition} {escape_markdown(duty.duty.text)}"
                         + (f" Applies from {applies_from(duty.applies_from)}." if duty.applies_from else "")
                         + (f" Penalty: {escape_markdown(duty.duty.penalty)}." if duty.duty.penalty else "")
                         + (f" {url}" if url else ""))
        lines.append("")
    if a.undecided:
        lines += ["## Not decided by the description", ""]
        lines += [f"- {escape_markdown(u)}" for u in a.undecided]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def date_of(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
