"""python -m index: search the built index, read one provision or an act's dates as in force on a day, or
score the index on a question set."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

from index.answers.export import checklist_markdown
from index.answers.provision import NotInForce, dated_timeline, read_provision
from index.answers.question import Scope, answer, no_match_notice
from index.answers.results import Result, ask, catalog_of
from index.assessment.assess import ROLES, Assessor
from index.config import settings as load_settings
from index.evaluate import evaluate, load_questions, summary
from index.law.labels import written_title
from index.law.versions import parse_day, today
from index.retrieval.search import QueryError, Searcher, SearchOptions
from index.retrieval.store import IndexUnavailable


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    searcher = Searcher(load_settings(args.data_dir, args.model))
    try:
        return args.run(args, searcher)
    except (QueryError, IndexUnavailable, NotInForce, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m index", description=__doc__)
    parser.add_argument("--data-dir", help="index location (default: $REGKB_DATA_DIR or ./data)")
    parser.add_argument("--model", help="embedding model the index was built with (default: $REGKB_MODEL)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    search = commands.add_parser("search", help="ranked, cited passages for a question")
    search.add_argument("query")
    _common(search)
    search.add_argument("--doc", action="append", default=[], help="only this document id (repeatable)")
    search.add_argument("--kind", action="append", default=[], choices=["article", "recital", "annex", "section"])
    search.add_argument("--passages", action="store_true", help="every matching passage, not one per provision")
    _as_of(search)
    search.set_defaults(run=_search)

    show = commands.add_parser("show", help="one provision as in force on a day, with its history and dates")
    show.add_argument("doc", help="document id, e.g. ai-act")
    show.add_argument("label", help='as cited: "Article 113", "Article 5(1)(ba)", "Annex I, Section B, point 21"')
    _as_of(show)
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(run=_show)

    dates = commands.add_parser("timeline", help="the dated milestones of an act, read from its text in force")
    dates.add_argument("doc", help="document id, e.g. ai-act")
    _as_of(dates)
    dates.add_argument("--json", action="store_true", help="machine-readable output")
    dates.set_defaults(run=_timeline)

    assess = commands.add_parser("assess", help="risk class, categories and duties of a described AI system")
    assess.add_argument("text", nargs="?", help='e.g. "We run a chatbot on our web shop that answers customers"')
    assess.add_argument("--role", choices=ROLES, help="your role (default: read from the description)")
    assess.add_argument("--batch", type=Path, metavar="FILE.jsonl",
                        help='one {"id", "text", "role"} object per line; prints one result per line')
    _as_of(assess)
    assess.add_argument("--json", action="store_true", help="machine-readable output")
    assess.set_defaults(run=_assess)

    score = commands.add_parser("eval", help="Recall@1/5/10, MRR@10, nDCG@10 on a JSONL question set")
    score.add_argument("questions", type=Path)
    _common(score)
    score.set_defaults(run=_eval)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", type=int, default=10, help="number of results (default 10)")
    parser.add_argument("--mode", choices=["hybrid", "dense", "lexical"], default="hybrid")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--rerank", action="store_true", help="cross-encoder reranking (needs REGKB_RERANKER)")
    parser.add_argument("--literal", action="store_true",
                        help="no query understanding: no glossary expansion, priors or reference pinning")


def _as_of(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", type=_day, default="", metavar="YYYY-MM-DD",
                        help="the text in force on this day (default: today)")


def _day(text: str) -> str:
    try:
        return parse_day(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _options(args: argparse.Namespace) -> SearchOptions:
    if args.literal:
        return SearchOptions(expand=False, priors=False, exact=False, define=False, lend=False, counterparts=False,
                             defer=False, rerank=args.rerank)
    return SearchOptions(rerank=args.rerank)


def _search(args: argparse.Namespace, searcher: Searcher) -> int:
    scope = Scope(tuple(args.doc), tuple(args.kind), as_of=args.as_of)
    catalog = catalog_of(searcher.index, args.as_of)
    found = answer(searcher, catalog, args.query, scope, args.k, args.mode, grouped=not args.passages,
                   options=_options(args))
    if args.json:
        print(json.dumps([r.to_json() for r in found.results], ensure_ascii=False, indent=2))
    else:
        if found.weak:  # on stderr: the results below are still the closest passages
            print(no_match_notice(catalog, found.unheld), file=sys.stderr)
        for rank, result in enumerate(found.results, start=1):
            print(_format(rank, result))
    return 0


def _format(rank: int, result: Result) -> str:
    hit, c = result.hit, result.hit.chunk
    where = f"p. {c.page}  " if c.page else ""
    lines = [f"{rank:>2}. {hit.citation}  ·  {hit.document.get('title', c.doc_id)}",
             f"    {' > '.join(written_title(step, hit.document.get('language', 'en')) for step in c.path)}"
             if c.path else ""]
    if c.lead:
        lines.append(textwrap.indent(textwrap.fill(c.lead, 96), "    "))
    lines.append(textwrap.indent(textwrap.fill(c.text, 96), "    "))
    more = f"  (+{len(result.more)} more passages)" if result.more else ""
    if result.related:
        lines.append("    related: " + ", ".join(r.label for r in result.related))
    lines.append(f"    {where}{c.url}  score {hit.score:.4f}{more}\n")
    return "\n".join(line for line in lines if line)


def _show(args: argparse.Namespace, searcher: Searcher) -> int:
    index = searcher.index
    provision = read_provision(index, catalog_of(index, args.as_of), args.doc, args.label, args.as_of)
    if args.json:
        record = provision.to_json()
        del record["chunks"]
        print(json.dumps(record, ensure_ascii=False, indent=2))
        return 0
    print(f"{provision.label} · {index.document(args.doc).get('title', args.doc)}")
    print(f"{provision.status} · text in force on {provision.day} ({provision.version.text})")
    if provision.heading:
        print(provision.heading)
    print(textwrap.indent("\n".join(textwrap.fill(p, 96) for p in provision.text.splitlines()), "  "))
    for applies in provision.applies_from:
        print(f"applies from {applies.day:%-d %B %Y}: {applies.condition} ({applies.source})")
    for change in provision.history:
        a = change.amendment
        print(f"{a.kind} by {a.act}, {a.point}, in force {a.in_force}  {a.url}")
    if provision.url:
        print(provision.url)
    return 0


def _timeline(args: argparse.Namespace, searcher: Searcher) -> int:
    index = searcher.index
    dates = dated_timeline(lambda on: catalog_of(index, on), args.doc, args.as_of)
    if dates is None:
        raise NotInForce(f"{args.doc}: no dated application clause found (or no such document)")
    if args.json:
        print(json.dumps({"doc_id": args.doc, "as_of": args.as_of or today(), "source": dates.source.unit,
                          "milestones": [m.to_json() for m in dates.milestones]}, ensure_ascii=False, indent=2))
        return 0
    print(f"{args.doc}: dates read from {dates.source.unit} as in force on {args.as_of or today()}")
    for m in dates.milestones:
        moved = f" (was {m.previous_day:%-d %B %Y})" if m.previous_day else ""
        covers = ", ".join(r.label for r in m.covers) or "the act as a whole"
        print(f"  {m.day:%-d %B %Y}{moved}  {m.event}: {covers}" + (f", {m.condition}" if m.condition else ""))
        print(textwrap.indent(textwrap.fill(f"“{m.quote}”", 92), "      "))
    return 0


def _assess(args: argparse.Namespace, searcher: Searcher) -> int:
    if (args.text is None) == (args.batch is None):
        raise ValueError("give a description, or --batch FILE.jsonl")
    assessor = Assessor(catalog_of(searcher.index, args.as_of), searcher.embedder, searcher.settings)
    if args.batch is None:
        assessment = assessor.assess(args.text, args.role, as_of=args.as_of)
        print(json.dumps(assessment.to_json(), ensure_ascii=False, indent=2) if args.json
              else checklist_markdown(assessment))
        return 0
    for number, line in enumerate(args.batch.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            item = _batch_item(line, args.batch, number)
            record = assessor.assess(item["text"], item.get("role") or args.role, as_of=args.as_of).to_json()
            print(json.dumps({"id": item.get("id", number), **record}, ensure_ascii=False))
    return 0


def _batch_item(line: str, path: Path, number: int) -> dict:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}:{number}: not JSON ({error.msg})") from error
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        raise ValueError(f'{path}:{number}: each line needs {{"id", "text", "role"}} with a text')
    if item.get("role") not in (None, "", *ROLES):
        raise ValueError(f"{path}:{number}: role {item['role']!r} is not one of {', '.join(ROLES)}")
    return item


def _eval(args: argparse.Namespace, searcher: Searcher) -> int:
    questions = load_questions(args.questions)
    options = _options(args)
    outcomes = evaluate(questions, lambda q: [r.hit for r in ask(searcher, q, args.k, mode=args.mode, options=options)],
                        args.k)
    metrics = summary(outcomes)
    if args.json:
        per_question = [{"id": o.question.id, "rank": o.rank, "ndcg": round(o.ndcg, 4), "top": list(o.units[:5])}
                        for o in outcomes]
        print(json.dumps({**metrics, "mode": args.mode, "k": args.k, "per_question": per_question}, indent=2))
    else:
        print(f"{len(outcomes)} questions, mode {args.mode}, k={args.k}")
        for name in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"):
            print(f"  {name:<10} {metrics[name]:.3f}")
        print(f"  median     {metrics['median_ms']:.1f} ms/query")
        for o in outcomes:
            if o.rank is None or o.rank > 5:
                print(f"  miss {o.question.id}: {o.question.question!r} gold {list(o.question.gold)} "
                      f"got {list(o.units[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
