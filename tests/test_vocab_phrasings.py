"""Real-world phrasings of needs, as parents, young people and providers write them.

The table is ours (written from experience of Local Offer data and the domain brief), not
copied from the development set. ``test_phrasing_accuracy`` measures how many map to the
expected canonical needs and keeps an explicit list of known misses that must stay accurate.
``test_dev_needs_terms_are_all_recognised`` runs every needs term of the development set.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from matcher.vocab import load_vocabulary

SHARED_DEV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev"

#: (as written, expected canonical ids). A phrasing passes when ``normalise`` finds exactly
#: these ids and leaves nothing unrecognised.
PHRASINGS: list[tuple[str, set[str]]] = [
    # autism
    ("on the spectrum", {"autism"}),
    ("my son is on the spectrum", {"autism"}),
    ("ASC", {"autism"}),
    ("ASD", {"autism"}),
    ("autistic", {"autism"}),
    ("autisim", {"autism"}),
    ("austistic", {"autism"}),
    ("aspergers", {"autism"}),
    ("Asperger's syndrome", {"autism"}),
    ("aspergers syndrom", {"autism"}),
    ("PDA", {"autism"}),
    ("pathological demand avoidance", {"autism"}),
    ("suspected ASD", {"autism"}),
    ("possible autism", {"autism"}),
    ("social communication difficulties", {"autism"}),
    ("autism / ASC", {"autism"}),
    # ADHD
    ("ADHD", {"adhd"}),
    ("ADD", {"adhd"}),
    ("adhd", {"adhd"}),
    ("attention deficit hyperactivity disorder", {"adhd"}),
    ("hyperactive", {"adhd"}),
    ("suspected adhd", {"adhd"}),
    ("poor concentration", {"adhd"}),
    ("can't sit still", {"adhd"}),
    # specific learning difficulties
    ("dyslexia?", {"dyslexia"}),
    ("dyslexsia", {"dyslexia"}),
    ("dyslexai", {"dyslexia"}),
    ("dyslexic", {"dyslexia"}),
    ("reading and spelling", {"dyslexia"}),
    ("struggles with reading", {"dyslexia"}),
    ("dyscalculia", {"dyscalculia"}),
    ("maths difficulties", {"dyscalculia"}),
    ("dysgraphia", {"dysgraphia"}),
    ("dyspraxia", {"dyspraxia"}),
    ("dispraxia", {"dyspraxia"}),
    ("DCD", {"dyspraxia"}),
    ("SpLD", {"spld"}),
    # speech, language and communication
    ("SALT", {"slcn"}),
    ("speech delay", {"slcn"}),
    ("speech and language", {"slcn"}),
    ("speach and langauge", {"slcn"}),
    ("Speech, language and communication needs", {"slcn"}),
    ("language delay", {"slcn"}),
    ("late talker", {"slcn"}),
    ("not talking yet", {"slcn"}),
    ("non verbal", {"slcn"}),
    ("non-verbal", {"slcn"}),
    ("DLD", {"slcn"}),
    ("stammer", {"slcn"}),
    ("stuttering", {"slcn"}),
    ("selective mutism", {"selective_mutism"}),
    ("won't talk at school", {"selective_mutism"}),
    # any SEND
    ("all SEND", {"all_send"}),
    ("any SEND", {"all_send"}),
    ("any additional needs", {"all_send"}),
    ("special needs", {"all_send"}),
    ("SEN", {"all_send"}),
    ("all disabilities", {"all_send"}),
    # SEMH
    ("behavour problems", {"behaviour"}),
    ("challenging behaviour", {"behaviour"}),
    ("anger issues", {"behaviour"}),
    ("has meltdowns", {"behaviour"}),
    ("SEMH", {"semh"}),
    ("mental health", {"semh"}),
    ("EBSA", {"school_avoidance"}),
    ("school refusal", {"school_avoidance"}),
    ("refusing to go to school", {"school_avoidance"}),
    ("low mood", {"depression"}),
    ("depression", {"depression"}),
    ("self harm", {"self_harm"}),
    ("self-harming", {"self_harm"}),
    ("anxiety", {"anxiety"}),
    ("anxious", {"anxiety"}),
    ("OCD", {"anxiety"}),
    ("eating disorder", {"eating_disorder"}),
    ("anorexia", {"eating_disorder"}),
    ("trauma", {"attachment_trauma"}),
    ("attachment difficulties", {"attachment_trauma"}),
    ("PTSD", {"attachment_trauma"}),
    ("Tourettes", {"tourettes"}),
    ("tics", {"tourettes"}),
    ("Tourette's syndrome", {"tourettes"}),
    ("neurodivergent", {"neurodevelopmental"}),
    # learning difficulties and disabilities (kept distinct)
    ("PMLD", {"pmld"}),
    ("SLD", {"sld"}),
    ("MLD", {"mld"}),
    ("moderate learning disability", {"mld", "learning_disability"}),
    ("severe learning disability", {"sld", "learning_disability"}),
    ("learning disabilty", {"learning_disability"}),
    ("learning disabilities", {"learning_disability"}),
    ("learning difficulties", {"area:cl"}),
    ("GDD", {"gdd"}),
    ("global developmental delay", {"gdd"}),
    ("developmental delay", {"gdd"}),
    ("Downs", {"down_syndrome"}),
    ("Down's syndrome", {"down_syndrome"}),
    ("trisomy 21", {"down_syndrome"}),
    # sensory and physical
    ("hard of hearing", {"hearing_impairment"}),
    ("Deaf", {"hearing_impairment"}),
    ("profoundly deaf", {"hearing_impairment"}),
    ("hearing impared", {"hearing_impairment"}),
    ("glue ear", {"hearing_impairment"}),
    ("cochlear implants", {"hearing_impairment"}),
    ("BSL user", {"hearing_impairment"}),
    ("partially sighted", {"vision_impairment"}),
    ("blind", {"vision_impairment"}),
    ("VI", {"vision_impairment"}),
    ("visually impaired", {"vision_impairment"}),
    ("sight loss", {"vision_impairment"}),
    ("deafblind", {"multi_sensory_impairment"}),
    ("wheelchair user", {"physical_disability"}),
    ("powered wheelchair user", {"physical_disability"}),
    ("spina bifida", {"physical_disability"}),
    ("muscular dystrophy", {"physical_disability"}),
    ("physical disabilty", {"physical_disability"}),
    ("CP", {"cerebral_palsy"}),
    ("cerebral palsy", {"cerebral_palsy"}),
    ("cerebral plasy", {"cerebral_palsy"}),
    ("hemiplegia", {"cerebral_palsy"}),
    ("low muscle tone", {"motor_delay"}),
    ("SPD", {"sensory_processing"}),
    ("sensory processing disorder", {"sensory_processing"}),
    ("sensory overload", {"sensory_processing"}),
    ("sensory needs", {"sensory_processing"}),
    ("sensory and physical", {"area:sp"}),
    # health
    ("complex needs", {"complex_needs"}),
    ("complex medical needs", {"medical"}),
    ("tube fed", {"medical"}),
    ("epilepsy", {"epilepsy"}),
    ("epilapsy", {"epilepsy"}),
    ("seizures", {"epilepsy"}),
    ("acquired brain injury", {"abi"}),
    ("dysphagia", {"feeding"}),
    ("not sleeping", {"sleep"}),
    ("toilet training", {"continence"}),
    ("awaiting diagnosis", {"awaiting_diagnosis"}),
    # lists as typed
    ("autism and ADHD", {"autism", "adhd"}),
    ("ASD/ADHD", {"autism", "adhd"}),
    ("dyslexia, dyspraxia", {"dyslexia", "dyspraxia"}),
    ("speech and language, autism", {"slcn", "autism"}),
    ("ADHD with anxiety", {"adhd", "anxiety"}),
    ("learning disabilities and autism", {"learning_disability", "autism"}),
    ("autism; sensory processing; sleep problems", {"autism", "sensory_processing", "sleep"}),
]

#: Phrasings the vocabulary is known not to handle, with the reason. This list must stay
#: accurate: an unexpected miss fails the test, and so does a known miss that starts passing.
KNOWN_MISSES: dict[str, str] = {}


def _passes(phrase: str, expected: set[str]) -> tuple[bool, str]:
    result = load_vocabulary().normalise(phrase)
    got = set(result.needs)
    ok = got == expected and not result.unrecognised
    detail = f"{phrase!r}: expected {sorted(expected)}, got {sorted(got)}"
    if result.unrecognised:
        detail += f", unrecognised {result.unrecognised}"
    return ok, detail


def test_table_is_big_enough_and_well_formed() -> None:
    vocab = load_vocabulary()
    assert len(PHRASINGS) >= 80
    phrases = [p for p, _ in PHRASINGS]
    assert len(phrases) == len(set(phrases)), "a phrasing is listed twice"
    for _, expected in PHRASINGS:
        for need in expected:
            assert vocab.is_known(need), f"{need!r} is not an id of the vocabulary"
    assert set(KNOWN_MISSES) <= set(phrases)


def test_phrasing_accuracy() -> None:
    outcomes = {phrase: _passes(phrase, expected) for phrase, expected in PHRASINGS}
    misses = {phrase: detail for phrase, (ok, detail) in outcomes.items() if not ok}
    accuracy = 1 - len(misses) / len(PHRASINGS)

    unexpected = [misses[p] for p in misses if p not in KNOWN_MISSES]
    now_passing = [p for p in KNOWN_MISSES if p not in misses]
    report = [f"accuracy {accuracy:.1%} over {len(PHRASINGS)} phrasings"]
    if unexpected:
        report.append("unexpected misses:\n  " + "\n  ".join(unexpected))
    if now_passing:
        report.append("known misses that now pass (remove them from KNOWN_MISSES): "
                      + ", ".join(repr(p) for p in now_passing))
    assert not unexpected and not now_passing, "\n".join(report)
    assert accuracy >= 0.95, "\n".join(report)


@pytest.mark.parametrize(
    ("phrase", "method"),
    [("ASC", "exact"), ("my son is on the spectrum", "phrase"), ("dyslexai", "fuzzy")],
)
def test_table_exercises_every_method(phrase: str, method: str) -> None:
    assert {m.method for m in load_vocabulary().normalise(phrase).matches} == {method}


# ---------------------------------------------------------------------------------------------
# Every needs term of the development set
# ---------------------------------------------------------------------------------------------


def _dev_terms() -> list[str]:
    if not SHARED_DEV.is_dir():
        pytest.skip(f"needs the development set in {SHARED_DEV} (../shared beside the repo)")
    terms: dict[str, None] = {}
    with (SHARED_DEV / "services.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            for term in (row.get("needs") or "").split(";"):
                if term.strip():
                    terms[term.strip()] = None
    with (SHARED_DEV / "cases.jsonl").open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                for term in json.loads(line)["profile"].get("needs") or []:
                    if term.strip():
                        terms[term.strip()] = None
    return list(terms)


def test_dev_needs_terms_are_all_recognised() -> None:
    vocab = load_vocabulary()
    terms = _dev_terms()
    assert len(terms) > 100  # the set has about 140 distinct terms; guards against a bad read
    unrecognised = {t: r.unrecognised for t in terms if (r := vocab.normalise(t)).unrecognised}
    empty = [t for t in terms if not vocab.normalise(t).matches]
    assert not unrecognised, f"dev needs terms not recognised: {unrecognised}"
    assert not empty, f"dev needs terms that map to nothing: {empty}"


# Terms of the development set whose mapping matters most for ranking (a wrong guess here
# would send a family to the wrong service), checked one by one.
DEV_EXPECTED: dict[str, set[str]] = {
    "autism / ASC": {"autism"},
    "Aspergers": {"autism"},
    "suspected ASD": {"autism"},
    "possible autism": {"autism"},
    "learning disabilty": {"learning_disability"},
    "learning difficulties": {"area:cl"},
    "moderate learning disability": {"mld", "learning_disability"},
    "mild learning disability": {"mld", "learning_disability"},
    "severe learning disability": {"sld", "learning_disability"},
    "hearing impared": {"hearing_impairment"},
    "dispraxia": {"dyspraxia"},
    "Downs": {"down_syndrome"},
    "Down's syndrome": {"down_syndrome"},
    "behavour problems": {"behaviour"},
    "Tourettes": {"tourettes"},
    "TS": {"tourettes"},
    "dyslexia?": {"dyslexia"},
    "all SEND incl. complex medical needs": {"all_send", "medical"},
    "SEND, developmental delay, awaiting diagnosis": {"all_send", "gdd", "awaiting_diagnosis"},
    "stammering / stuttering": {"slcn"},
    "not talking": {"slcn"},
    "profoundly deaf": {"hearing_impairment"},
    "powered wheelchair user": {"physical_disability"},
    "tube fed": {"medical"},
    "school refusal": {"school_avoidance"},
    "optic nerve hypoplasia": {"vision_impairment"},
}


@pytest.mark.parametrize(("term", "expected"), sorted(DEV_EXPECTED.items()))
def test_key_dev_terms_map_sensibly(term: str, expected: set[str]) -> None:
    assert set(load_vocabulary().normalise(term).needs) == expected
