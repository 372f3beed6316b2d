"""How well `index assess` classifies described systems, and how fast, on scenario sets.

    python bench/assess.py [bench/assess_scenarios.jsonl ...] [--data-dir data] [--misses]

Each line of a set: {"id", "text", "role", "risk_class", "provisions": [...], "duties": [...]}.
Prints, per set and over all: class accuracy, macro-F1 over the four classes, per-class
F1, the share of expected provisions among the matched categories, duty recall (an
expected "Article 26" is found by any duty inside it) and the median assessment time,
on the index in --data-dir with the model it was built with. The role given in the
scenario is passed, as a user answering the role question would; the proposed role's
accuracy is printed too.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.answers.results import catalog_of  # noqa: E402
from index.assessment.assess import RISK_CLASSES, Assessment, Assessor, propose_role  # noqa: E402
from index.config import settings  # noqa: E402
from index.law.labels import within  # noqa: E402
from index.retrieval import store  # noqa: E402
from index.retrieval.embedder import Embedder  # noqa: E402

DEFAULT_SETS = [ROOT / "bench" / "assess_scenarios.jsonl"]


def f1_scores(pairs: list[tuple[str, str]]) -> dict[str, float]:
    scores = {}
    for klass in RISK_CLASSES:
        tp = sum(1 for gold, got in pairs if gold == got == klass)
        predicted = sum(1 for _, got in pairs if got == klass)
        actual = sum(1 for gold, _ in pairs if gold == klass)
        precision, recall = tp / predicted if predicted else 0.0, tp / actual if actual else 0.0
        scores[klass] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return scores


def found(expected: str, labels: list[str]) -> bool:
    return any(within(label, expected) or within(expected, label) for label in labels)


def report(name: str, rows: list[tuple[dict, Assessment]]) -> None:
    pairs = [(s["risk_class"], a.risk_class) for s, a in rows]
    f1 = f1_scores(pairs)
    accuracy = sum(g == p for g, p in pairs) / len(pairs)
    provisions = [(p, [label for m in a.categories for label in m.category.provisions])
                  for s, a in rows for p in s.get("provisions", [])]
    duties = [(d, [x.duty.label for x in a.duties]) for s, a in rows for d in s.get("duties", [])]
    provision_recall = sum(found(p, got) for p, got in provisions) / len(provisions) if provisions else float("nan")
    duty_recall = sum(found(d, got) for d, got in duties) / len(duties) if duties else float("nan")
    role_accuracy = sum(s["role"] == propose_role(s["text"])[0] for s, _ in rows) / len(rows)
    median_ms = statistics.median(a.seconds for _, a in rows) * 1000
    print(f"{name}: {len(rows)} scenarios  accuracy {accuracy:.3f}  macro-F1 {statistics.mean(f1.values()):.3f}  "
          + "  ".join(f"F1 {k} {v:.3f}" for k, v in f1.items())
          + f"  provisions {provision_recall:.3f}  duties {duty_recall:.3f}  proposed role {role_accuracy:.3f}"
          + f"  median {median_ms:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, default=DEFAULT_SETS)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--misses", action="store_true", help="print each misclassified scenario")
    args = parser.parse_args()
    config = settings(args.data_dir)
    loaded = store.load(config)
    config = settings(args.data_dir, loaded.manifest.model_id)
    assessor = Assessor(catalog_of(loaded), Embedder(config.model), config)
    assessor.assess("warm-up: a spam filter")
    everything = []
    for path in args.sets:
        scenarios = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        rows = [(s, assessor.assess(s["text"], role=s["role"])) for s in scenarios]
        report(path.stem, rows)
        everything += rows
        if args.misses:
            for s, a in rows:
                if s["risk_class"] != a.risk_class:
                    got = ", ".join(f"{m.category.label} {m.score:.2f}" for m in a.categories) or "-"
                    near = ", ".join(f"{m.category.label} {m.score:.2f}" for m in a.candidates[:3])
                    print(f"  {s['id']} {s['risk_class']} -> {a.risk_class}  [{got}]  near [{near}]  {s['text'][:110]}")
    if len(args.sets) > 1:
        report("all", everything)


if __name__ == "__main__":
    main()
