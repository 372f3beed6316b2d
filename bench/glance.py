"""How often "At a glance" opens with a sentence of a provision that answers, before and after, in one run.

    python bench/glance.py [bench/dev_questions.jsonl ...] [--data-dir data]

For each question, the first glance item's provision is checked against the question's
gold provisions (the same test as the evaluation: the unit, or anything inside it).
Two columns: the glance as it was (the top results' best sentences in rank order) and
with the verdict's deciding provision first where a "can we" question gets one. Then,
for the questions describing the asker's practice: how many got a verdict, and the
share whose first card (the verdict's provision, else the first result) is gold, with
and without verdicts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.answers.highlight import Highlighter, at_a_glance  # noqa: E402
from index.answers.question import Scope, answer, deciding_passage  # noqa: E402
from index.answers.results import catalog_of  # noqa: E402
from index.assessment.assess import Assessor, describes_practice  # noqa: E402
from index.config import settings  # noqa: E402
from index.evaluate import load_questions  # noqa: E402
from index.law.labels import unit_of, within  # noqa: E402
from index.retrieval.search import Searcher  # noqa: E402

SETS = ["dev", "holdout", "blind", "blind2", "amended"]


def gold_hit(label: str, gold: tuple[str, ...]) -> bool:
    return any(within(label, g) or unit_of(label) == g for g in gold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path,
                        default=[ROOT / "bench" / f"{name}_questions.jsonl" for name in SETS])
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    searcher = Searcher(settings(args.data_dir))
    config = settings(args.data_dir, searcher.index.manifest.model_id)
    searcher = Searcher(config)
    catalog = catalog_of(searcher.index)
    assessor = Assessor(catalog, searcher.embedder, config)
    print(f"{'set':<18} {'questions':>9} {'glance was':>10} {'+ verdict':>10} {'can-we':>7} {'verdicts':>8} "
          f"{'first card gold: results':>25} {'with verdict':>13}")
    for path in args.sets:
        questions = load_questions(path)
        before = verdict_first = practice = verdicts = results_gold = decided = 0
        for q in questions:
            result = answer(searcher, catalog, q.question, Scope(), assessor=assessor)
            highlighter = Highlighter(result.question, catalog.term_statistics)
            plain = at_a_glance(result.results, highlighter)
            full = at_a_glance(result.results, highlighter, deciding=deciding_passage(result, catalog))
            before += bool(plain) and gold_hit(plain[0].label, q.gold)
            verdict_first += bool(full) and gold_hit(full[0].label, q.gold)
            if describes_practice(q.question):
                practice += 1
                verdicts += result.verdict is not None
                top = result.results[0].hit.chunk.label if result.results else ""
                first = result.deciding
                results_gold += gold_hit(top, q.gold)
                decided += gold_hit(first, q.gold)
        n = len(questions)
        share = (lambda x: x / practice) if practice else (lambda x: float("nan"))
        print(f"{path.stem:<18} {n:>9} {before / n:>10.3f} {verdict_first / n:>10.3f} {practice:>7} {verdicts:>8} "
              f"{share(results_gold):>25.3f} {share(decided):>13.3f}")


if __name__ == "__main__":
    main()
