"""How often the answer says "nothing in the corpus answers this clearly": wrongly on the question sets, rightly on
questions the corpus does not answer. One run, default options, on the index in --data-dir.

    python -m bench.no_match [--data-dir data]

The floors (retrieval/search.py, MATCH_FLOOR) were set on dev, holdout and out_of_scope_calibration.jsonl; the
other sets were not looked at for them. A question with no letter or digit is refused as empty: counted as said.
Recall does not change: the closest passages are listed under the notice either way.
"""

from __future__ import annotations

import argparse
import json
import sys

from bench.common import REPO, print_table
from index.answers.question import answer
from index.answers.results import catalog_of
from index.config import settings
from index.evaluate import load_questions
from index.retrieval.search import QueryError, Searcher

IN_SCOPE = ("dev", "holdout", "blind", "blind2", "amended", "tuning", "blind3", "blind4", "blind5", "blind6",
            "blind7", "blind8", "blind9", "blind10", "blind11", "blind12", "blind13",
            "blind14")
OUT_OF_SCOPE = ("out_of_scope_calibration", "out_of_scope", "out_of_scope2", "out_of_scope3", "out_of_scope4",
                "out_of_scope5", "out_of_scope6", "out_of_scope7", "out_of_scope8", "out_of_scope9",
                "out_of_scope10", "out_of_scope11", "out_of_scope12")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.no_match", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    searcher = Searcher(settings(args.data_dir))
    catalog = catalog_of(searcher.index)

    def said(question: str) -> bool:
        try:
            return answer(searcher, catalog, question).weak
        except QueryError:
            return True

    rows = []
    for name in IN_SCOPE:
        questions = [q.question for q in load_questions(REPO / "bench" / f"{name}_questions.jsonl")]
        rows.append((name, "in scope", len(questions), f"{sum(map(said, questions)) / len(questions):.3f}", ""))
    for name in OUT_OF_SCOPE:
        records = [json.loads(line) for line in (REPO / "bench" / f"{name}.jsonl").read_text().splitlines()]
        by_kind: dict[str, list[bool]] = {}
        for record in records:
            by_kind.setdefault(record.get("kind", "all"), []).append(said(record["question"]))
        total = sum(sum(v) for v in by_kind.values()) / len(records)
        kinds = ", ".join(f"{kind} {sum(v)}/{len(v)}" for kind, v in by_kind.items())
        rows.append((name, "out of scope", len(records), f"{total:.3f}", kinds))
    print_table("'No match' said (in scope: wrongly; out of scope: rightly)",
                ("set", "kind", "questions", "said", "by kind"), rows)


if __name__ == "__main__":
    sys.exit(main())
