"""The labeled code-search set that ships with omakase: its size, its balance and its tags hold."""

import re
from collections import Counter

from omakase.lab import beir

STOP = set("""a an the of in on to by and or is it be as at for from with if else not no
def return class import while try except raise yield lambda true false none self
function const let var new this async await throw catch typeof
select where group order limit offset join left inner on as desc asc having count distinct insert into values update
set delete create table index primary key unique null default int str len over""".split())


def words(text):
    """Identifier words, split at camelCase and snake_case, lowercased, with a plural 's' dropped."""
    out = set()
    for tok in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text):
        for part in re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", tok).replace("_", " ").split():
            w = part.lower()
            if len(w) >= 2 and w not in STOP:
                out.add(w[:-1] if w.endswith("s") and len(w) > 3 else w)
    return out


def identifiers(text):
    return {t.lower() for t in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text) if len(t) > 1 and t.lower() not in STOP}


def load():
    corpus = beir.load_corpus(beir.SHIPPED / "corpus.jsonl")
    queries = beir.load_queries(beir.SHIPPED / "queries.jsonl")
    return corpus, queries, beir.load_qrels(beir.SHIPPED / "qrels.tsv", queries, corpus)


def test_size_languages_and_grades():
    corpus, queries, qrels = load()
    assert len(corpus) >= 80
    languages = Counter(d.metadata["language"] for d in corpus.values())
    assert set(languages) == {"python", "javascript", "sql"} and min(languages.values()) >= 15
    assert len(queries) >= 60 and set(qrels) == set(queries)
    tags = Counter(q.tag for q in queries.values())
    assert set(tags) == {"lexical", "paraphrase"} and min(tags.values()) >= 20
    grades = Counter(g for rel in qrels.values() for g in rel.values())
    assert set(grades) == {0, 1, 2}
    assert sum(1 for rel in qrels.values() if sum(g > 0 for g in rel.values()) > 1) >= 20  # several relevant
    assert all(any(g == 2 for g in rel.values()) for rel in qrels.values())


def test_tags_paraphrase_shares_no_identifier_word_lexical_shares_an_identifier():
    corpus, queries, qrels = load()
    for qid, q in queries.items():
        relevant = [d for d, g in qrels[qid].items() if g > 0]
        if q.tag == "paraphrase":
            for d in relevant:
                assert not words(q.text) & words(corpus[d].text), (qid, d, words(q.text) & words(corpus[d].text))
        else:
            best = [d for d, g in qrels[qid].items() if g == 2]
            assert any(identifiers(q.text) & identifiers(corpus[d].text) for d in best), qid
