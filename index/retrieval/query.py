"""Query understanding: what the user asked for, in the words the law uses.

Users ask "can I use a chatbot without telling customers?"; the Act says "AI
systems intended to interact directly with natural persons". A curated list of
synonyms (data, not code: index/retrieval/data/synonyms.toml) bridges that gap and says which
document governs a topic; explicit references ("Article 6(3)", "Annex III") are
recognised so they can be answered first; and the question's intent decides
whether recitals (the "why") or definitions ("what is") should lead.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_FRENCH

from index.retrieval.national import national_laws_named, whole_words

SYNONYMS = Path(__file__).parent / "data" / "synonyms.toml"
ACTS = Path(__file__).parent / "data" / "acts.toml"
Intent = Literal["why", "definition", "action"]
Asks = Literal["permission", "date", ""]  # what the answer must say: whether a practice is allowed, from when
KEYWORDS_ONLY = 3  # a query of at most this many words is keywords, not a question

_REFERENCE = re.compile(
    r"\b(?:(?P<article>Article|Art\.?)\s*(?P<number>\d{1,3})(?P<sub>(?:\(\w{1,4}\))*)"
    r"|(?P<annex>Annex)\s+(?P<roman>[IVXLC]+)\b"
    r"|(?P<recital>Recital)\s+(?P<recital_no>\d{1,3}))",
    re.IGNORECASE,
)
# What stands between a citation and the act it is of: "Article 5 of the AI Act", "Art. 17 GDPR", « article 50 du
# RIA », "Article 4 of Regulation (EU) 2026/1744"
_OF_ACT = re.compile(r"\s*,?\s*(?:(?:of|in|under|du|de|des)\s+)?(?:(?:the|la|le|l['’])\s*)?", re.I)
_WHY = re.compile(r"^\s*(why|pourquoi\b(?!\s+pas\b)|what (is|are|was|were) the (reasons?|rationale|purpose))\b|"
                  r"\b(rationale|reasoning|intention of the legislator|reasons? behind|"
                  r"what reasons? (did|does|do|led|lie|lay|were|was|are|is)\b)", re.I)
_DEFINITION = re.compile(r"^\s*(what (is|are|does .* mean)|define|definition|meaning of|who (is|counts as))\b", re.I)
_OPENS = r"(?:^\s*|[.?!;]\s+)"  # at the start of the question or of one of its sentences
# Whether a practice is allowed, as each language asks it. In English: a modal opening a sentence ("Can we …", not
# "How can we …"), or "is it / is that … allowed" and "Is emotion recognition banned …" (not "Is the legal basis
# …", where the word names a thing). In French: the inverted modal ("peut-on", « la police peut-elle », "puis-je")
# in a sentence that opens with no question word (« Comment … peut-elle » asks how, « À qui peut-on … » whom),
# « est-ce qu'on peut », « avons-nous / on a le droit », « est-elle interdite », « c'est légal »
_ALLOWED = (r"(allowed|permitted|legal|lawful|banned|prohibited|forbidden|illegal|unlawful|ok|okay)\b"
            r"(?!\s+(basis|bases|person|persons|representatives?|requirements?|obligations?|grounds?|entit(y|ies)|"
            r"effects?|framework|practices?|ai|systems?|uses?)\b)")
_NOT_WHETHER = (r"(?!(comment|quel\w*|que|qu['’]\w*|jusqu['’]\w*|pourquoi|où|combien|lesquel\w*|qui|à qui|"
                r"\w+ qui|en quoi|(à|de|dans|sous|en|pour) quel\w*|à quoi|de quoi)\b)")
_PERMISSION = re.compile(
    _OPENS + r"(can|may|could)\s+(we|i|you|a|an|the|our|my|they|companies|employers|one)\b"
    r"|(" + _OPENS + r"(is|are|am)(?!\s+there)|\b(is|are|am)\s+(it|we|i|they|this|that|these|those|such))\b"
    r"[^.?!]{0,60}?\b" + _ALLOWED +
    r"|\b(allowed|permitted|legal|lawful|ok|okay) to\b"
    r"|" + _OPENS + _NOT_WHETHER + r"(?:\S[^.?!;]*?)?\b(peu[tx]|peuvent|puis|pouvons|pourr\w+)-(t-)?"
    r"(on|je|nous|ils?|elles?)\b(?!\s+vous\b)"
    r"|" + _OPENS + r"est-ce (qu['’]\s*(on|ils?|elles?)|que (nous|je|j['’]|vous))\s*(peu\w*|pouv\w*|"
    r"(a|avons|avez|ont|ai)\s+le droit)\b"
    r"|\b(a-t-on|avons-nous|avez-vous|ai-je|a-t-(il|elle)|ont-(ils|elles)|on a|j['’]ai|nous avons)\s+le droit\b"
    r"|\b(est-(il|elle|ce)|sont-(ils|elles)|c['’]est|sommes-nous|suis-je|serait-(il|ce))\s+(permis|interdit|autoris|"
    r"légal|licite|illégal)\w*", re.I)
# "When is an AI system considered high-risk?" asks for a condition, not a date
_CONDITION = re.compile(_OPENS + r"(when|quand)\s+(is|are|does|do)\b[^.?!]*\b(considered|deemed|classified|"
                        r"qualif(y|ies)|count(s)? as|mandatory|required|necessary|needed)\b", re.I)
_DATE = re.compile(_OPENS + r"(when|from when|since when|by when|quand|à partir de quand)\b|\b(by|from|since) when\b"
                   r"|\b(deadline|what date|which date|start(s)? to apply|date d['’]application|d['’]ici quand|"
                   r"depuis quand|jusqu['’]à quand|quelle date|date limite|quelle échéance|"
                   r"date d['’]entrée en (vigueur|application)|date of (entry|application))\b", re.I)
# Of the "when" questions, those about rules applying (asks_when_rules_apply): a verb of applying, or a word for
# the rules themselves in a question that names no duty's act (a duty's own time limit is not an application date)
_APPLYING = re.compile(r"\b(appl(y|ies|ied|icable)(?!\s+(for|the|an?)\b)|(?<!\ban\s)application(?!\s+(for|to)\b)|"
                       r"(in|into) force|(take(s)?|come(s)?( into)?) effect|kick(s)? in|s['’]appliqu\w*|"
                       r"applicables?|en vigueur|entre(nt)? en (vigueur|application)|prenn?(ent)? effet)\b", re.I)
_RULES = re.compile(r"\b(rules|requirements|obligations?|duties|bans?|banned|prohibitions?|prohibited|compl(y|iance|iant)|"
                    r"enforc\w*|règles|exigences|obligatoires?|interdictions?|interdit\w*|prohib\w*|conformité)\b",
                    re.I)
_DUTY_ACTS = re.compile(r"\b(notif\w*|report\w*|submit\w*|respon(d|se)\w*|reply|regist\w*|inform\w*|request\w*|"
                        r"eras\w*|delet\w*|complain\w*|incident\w*|signal\w*|déclar\w*|demande\w*)\b", re.I)
# A question about the changes themselves, whose answer may be the amending act's own instruction
_AMENDMENT = re.compile(r"\b(amend\w*|omnibus|chang\w*|modifi\w*|replac\w*|remplac\w*|updat\w*|r[eé]vis\w*|"
                        r"postpon\w*|nouveaut\w*|what['’]s new)\b", re.I)
_FRENCH = re.compile(r"\b(le|la|les|des|est|une|nous|pour|dans|avec|sont|quelles?|peut|doit)\b", re.I)
_ENGLISH = re.compile(r"\b(the|is|are|we|our|for|with|can|must|do|does|what|which|how|of)\b", re.I)
# A sentence ends where the next begins with a capital; not after "Art.", "No." (digits follow) or "U.S."
_SENTENCE_END = re.compile(r"(?<!\b[A-Z]\.)(?<=[.?!;])\s+(?=[A-ZÀ-ÖØ-Þ«\"“])")
_WORD = re.compile(r"[^\W\d_]+")  # "doit-on", "qu'est-ce" are read word by word
# Words that say how a question is asked, not what it is about: function words, modal and question words,
# and the acts' own names, in both languages
_FRAME_WORDS = frozenset(STOPWORDS_EN_PLUS) | frozenset(STOPWORDS_FRENCH) | {
    "ai", "act", "gdpr", "regulation", "eu", "law", "rules", "need", "needs", "must", "should", "required",
    "apply", "ia", "ria", "rgpd", "règlement", "ue", "loi", "règles", "faire", "fait", "doit", "doivent", "dois",
    "devons", "devez", "peut", "peuvent", "pouvons", "pouvez", "quoi", "quel", "quelle", "quels", "quelles",
    "quand", "comment", "applique", "appliquer", "obligatoire"}
# "Regulation (EU) 2022/2065", "Directive 2002/58/EC", "Regulation (EU) No 910/2014", "règlement (UE) 2024/1689"
_ACT_NUMBER = re.compile(r"\b(?:regulation|directive|decision|règlement|décision)\s*(?:\((?:eu|ec|eec|ue|ce)\)\s*)?"
                         r"(?:no\.?\s*|n°\s*)?((?:19|20)\d\d/\d{1,4}|\d{1,4}/(?:19|20)\d\d)\b", re.I)
_ACT_NUMBER_FORM = re.compile(r"(?:19|20)\d\d/\d{1,4}")


@dataclass(frozen=True)
class Citation:
    """An explicit citation in the query: unit "Article 6", label "Article 6(3)", and the number of the act
    named right after it ("Article 4 of the AI Act": "2024/1689"), "" when none is."""

    unit: str
    label: str
    act: str = ""


@dataclass(frozen=True)
class Term:
    say: tuple[str, ...]
    means: str
    docs: tuple[str, ...] = ()

    def pattern(self) -> re.Pattern[str]:
        return re.compile(r"(?<!\w)(" + "|".join(re.escape(s) for s in self.say) + r")(?!\w)", re.I)


@dataclass(frozen=True)
class Act:
    """An EU act readers name (data/acts.toml): its number (year/number), name, and the ways it is named."""

    number: str
    name: str
    say: tuple[str, ...] = ()  # any case
    abbreviations: tuple[str, ...] = ()  # as written

    def __post_init__(self) -> None:
        if not _ACT_NUMBER_FORM.fullmatch(self.number) or not self.name or not (self.say or self.abbreviations):
            raise ValueError(f"acts.toml: {self.name or self.number!r} needs a year/number, a name and a way to say it")

    def pattern(self) -> re.Pattern[str]:
        return whole_words(self.say, self.abbreviations)


@dataclass(frozen=True)
class QueryPlan:
    text: str  # as the user typed it
    expanded: str  # with the law's vocabulary appended, for BM25 (the embedder reads `embedded`)
    intent: Intent
    language: str
    references: tuple[Citation, ...] = ()
    docs: tuple[str, ...] = ()  # documents it points to, strongest first (those of the acts named: search.route)
    matched: tuple[str, ...] = ()  # glossary phrases found, for display ("chatbot -> ...")
    subject: str = ""  # the sentences that say what the question is about (subject_of); "" = the whole text
    asks: Asks = ""
    applies: bool = False  # a "when" question about rules applying (asks_when_rules_apply)
    acts: tuple[str, ...] = ()  # the numbers of the acts the question names ("2022/2065" for "the DSA")
    countries: tuple[str, ...] = ()  # the countries whose own law it asks about ("Germany": national.py)
    about_amendments: bool = False  # it asks what an amendment changed (asks_about_amendments)

    @property
    def embedded(self) -> str:
        """What the embedder reads: the question as typed, since appended legal terms pull a
        question towards whichever provision lists them; but a few keywords ("10^25 FLOPs") carry
        less meaning for the embedder than the glossary's gloss of them, so those read expanded.
        Of a question in several sentences, the embedder reads its subject."""
        text = self.subject or self.text
        return text if len(text.split()) > KEYWORDS_ONLY else self.expanded


@lru_cache(maxsize=4)
def load_synonyms(path: Path = SYNONYMS) -> tuple[tuple[Term, re.Pattern[str]], ...]:
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    terms = [Term(tuple(t["say"]), t["means"], tuple(t.get("docs", ()))) for t in raw["term"]]
    return tuple((term, term.pattern()) for term in terms)


@lru_cache(maxsize=4)
def load_acts(path: Path = ACTS) -> tuple[tuple[Act, re.Pattern[str]], ...]:
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    acts = [Act(a["number"], a["name"], tuple(a.get("say", ())), tuple(a.get("abbreviations", ()))) for a in raw["act"]]
    return tuple((act, act.pattern()) for act in acts)


def act_number(written: str) -> str:
    """ "910/2014" (until 2015 the number came before the year) -> "2014/910"; "2022/2065" stays as it is."""
    first, second = written.split("/")
    year, number = (second, first) if not _ACT_NUMBER_FORM.fullmatch(written) else (first, second)
    return f"{year}/{int(number)}"


def acts_named(text: str) -> tuple[str, ...]:
    """The numbers of the acts a question names, by name ("the DSA", acts.toml) or by number, in order."""
    return tuple(dict.fromkeys(number for _, number in _acts_at(text)))


def _acts_at(text: str) -> list[tuple[int, str]]:
    """Where each act is named in the text, and its number, in order."""
    text = text.replace("’", "'")  # a phone's apostrophe is the data file's
    found = [(m.start(), act.number) for act, pattern in load_acts() for m in pattern.finditer(text)]
    found += [(m.start(), act_number(m[1])) for m in _ACT_NUMBER.finditer(text)]
    return sorted(found)


def act_name(number: str) -> str:
    """ "Digital Services Act (2022/2065)", or "act 2022/2065" for one acts.toml does not list."""
    act = next((a for a, _ in load_acts() if a.number == number), None)
    return f"{act.name} ({number})" if act else f"act {number}"


def understand(text: str, expand: bool = True, subject: bool = True) -> QueryPlan:
    additions, docs, matched = [], [], []
    if expand:
        for term, pattern in load_synonyms():
            found = pattern.search(text)
            if found:
                additions.extend([term.means] if term.means else [])
                matched.append(found.group(1))
                docs.extend(d for d in term.docs if d not in docs)
    expanded = " ".join([text, *additions])
    asks = asks_of(text)
    return QueryPlan(text, expanded, intent_of(text), language_of(text), citations_in(text), tuple(docs),
                     tuple(matched), subject_of(text) if subject else "", asks, asks_when_rules_apply(text, asks),
                     acts_named(text), national_laws_named(text), asks_about_amendments(text))


def asks_of(text: str) -> Asks:
    """ "Can we …?" asks whether a practice is allowed: a prohibition that matches decides it, before the
    duties that presuppose the practice is allowed. "When …?" asks for a date: the provision that states it."""
    if _DATE.search(text) and not _CONDITION.search(text):
        return "date"
    return "permission" if _PERMISSION.search(text) else ""


def asks_when_rules_apply(text: str, asks: Asks | None = None) -> bool:
    """A "when" question (`asks`, as asks_of reads it) about rules applying ("When do the high-risk rules
    apply?", "by when must we comply?"), not a duty's own time limit ("the deadline to report a serious
    incident", "when must we answer an access request under the GDPR rules?") nor one for applying for
    something: its answer is the clause of the act's application article that dates what it is about."""
    if (asks_of(text) if asks is None else asks) != "date":
        return False
    return bool(_APPLYING.search(text) or (_RULES.search(text) and not _DUTY_ACTS.search(text)))


def asks_about_amendments(text: str) -> bool:
    """ "What did the Digital Omnibus change for SMEs?", "Which articles were replaced in 2026?", « Qu'est-ce
    qui a changé ? »: the amending act's own instructions answer such a question as well as the text they
    produced. A false reading ("a substantial modification") only leaves the instructions their full weight."""
    return bool(_AMENDMENT.search(text))


def subject_of(text: str) -> str:
    """A question's sentences less those that only frame it. "We built a chatbot for customer support. What
    do we have to do under the AI Act and by when?": the second sentence is question words and the act's
    name, and an embedding of both leans towards procedural articles; the first says what it is about.
    BM25 still reads every word (the "when" too). "" when nothing is left out."""
    sentences = _SENTENCE_END.split(text.strip())
    about = [s for s in sentences if any(len(w) > 1 and w.lower() not in _FRAME_WORDS for w in _WORD.findall(s))]
    return " ".join(about) if about and len(about) < len(sentences) else ""


def intent_of(text: str) -> Intent:
    if _WHY.search(text):
        return "why"
    if _DEFINITION.search(text):
        return "definition"
    return "action"


def language_of(text: str) -> str:
    return "fr" if len(_FRENCH.findall(text)) > len(_ENGLISH.findall(text)) else "en"


def citations_in(text: str) -> tuple[Citation, ...]:
    acts = dict(_acts_at(text))
    references = []
    for m in _REFERENCE.finditer(text):
        act = acts.get(_OF_ACT.match(text, m.end()).end(), "")
        if m.group("article"):
            unit = f"Article {int(m.group('number'))}"
            references.append(Citation(unit, unit + m.group("sub"), act))
        elif m.group("annex"):
            unit = f"Annex {m.group('roman').upper()}"
            references.append(Citation(unit, unit, act))
        else:
            unit = f"Recital {int(m.group('recital_no'))}"
            references.append(Citation(unit, unit, act))
    return tuple(references)
