"""Suggest a category and a responsible department for a new problem, learned from past
records, and measure how good the suggestion is against a majority-class baseline.

Model: TF-IDF over character 1-2-grams, linear SVM with balanced class weights. Chinese problem
texts are short and full of domain compounds; character n-grams carry the signal without a
dictionary, and balanced weights keep small classes (few records) from being ignored.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from policykb.content.models import Issue


def issue_text(i: Issue) -> str:
    return f"{i.title or ''}\n{i.body or ''}".strip()


def make_model():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC
    # Chosen on a validation part of the gov-messages training split and leave-one-out on the
    # bundled ledger: character 1-2-grams beat char 1-3, char_wb and adding jieba words.
    return make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True),
                         LinearSVC(C=0.5, class_weight="balanced"))


class _Constant:
    """A 'model' for a single label (LinearSVC needs two)."""
    def __init__(self, label):
        self.classes_ = [label]

    def predict(self, texts):
        return [self.classes_[0]] * len(texts)


def fit(texts: list[str], labels: list[str]):
    if len(set(labels)) < 2:
        return _Constant(labels[0])
    return make_model().fit(texts, labels)


def ranked(model, text: str, top: int = 3) -> list[tuple[str, float]]:
    """Labels best first with their decision scores."""
    if isinstance(model, _Constant):
        return [(model.classes_[0], 1.0)]
    scores = model.decision_function([text])[0]
    if len(model.classes_) == 2:  # binary SVM returns one score for classes_[1]
        scores = [-scores, scores]
    pairs = sorted(zip(map(str, model.classes_), map(float, scores)), key=lambda p: -p[1])  # numpy str → str
    return pairs[:top]


@dataclass
class Suggestion:
    category: list[tuple[str, float]]
    department: list[tuple[str, float]]


class Suggester:
    """Trained on the ledger's past records: category from every record, department from those
    that have one."""

    def __init__(self, issues: list[Issue]):
        cat = [(issue_text(i), i.category) for i in issues if i.category]
        dep = [(issue_text(i), i.department) for i in issues if i.department]
        self.category = fit(*map(list, zip(*cat))) if cat else None
        self.department = fit(*map(list, zip(*dep))) if dep else None

    def suggest(self, text: str, top: int = 3) -> Suggestion:
        return Suggestion(ranked(self.category, text, top) if self.category else [],
                          ranked(self.department, text, top) if self.department else [])


# -- evaluation -------------------------------------------------------------------------------
def scores(truth: list[str], pred: list[str]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score
    return {"accuracy": float(accuracy_score(truth, pred)),
            "macro_f1": float(f1_score(truth, pred, average="macro", zero_division=0))}


def train_test(train: list[tuple[str, str]], test: list[tuple[str, str]]) -> dict:
    """Model vs majority-of-train baseline on one split."""
    texts, labels = zip(*train)
    model = fit(list(texts), list(labels))
    truth = [y for _, y in test]
    pred = list(model.predict([x for x, _ in test]))
    majority = Counter(labels).most_common(1)[0][0]
    return {"n_train": len(train), "n_test": len(test), "classes": len(set(labels) | set(truth)),
            "model": scores(truth, pred), "baseline": scores(truth, [majority] * len(truth)),
            "majority": majority}


def cross_validate(pairs: list[tuple[str, str]], folds: int = 0) -> dict:
    """Leave-one-out (folds=0) or k-fold: each record is predicted by a model that never saw it;
    the baseline predicts the majority label of the same training part."""
    from sklearn.model_selection import KFold, LeaveOneOut
    texts = [x for x, _ in pairs]
    labels = [y for _, y in pairs]
    splitter = LeaveOneOut() if not folds else KFold(folds, shuffle=True, random_state=0)
    pred, base = [None] * len(pairs), [None] * len(pairs)
    for tr, te in splitter.split(texts):
        model = fit([texts[i] for i in tr], [labels[i] for i in tr])
        majority = Counter(labels[i] for i in tr).most_common(1)[0][0]
        for i, p in zip(te, model.predict([texts[i] for i in te])):
            pred[i], base[i] = p, majority
    # Leave-one-out is unkind to the majority baseline (holding out a majority record can change
    # the majority), so the share of the largest class is reported too: the fairer bar to beat.
    share = Counter(labels).most_common(1)[0][1] / len(labels)
    return {"n": len(pairs), "classes": len(set(labels)), "model": scores(labels, pred),
            "baseline": scores(labels, base), "majority_share": share,
            "method": "留一法" if not folds else f"{folds} 折交叉验证"}


def evaluate_ledger(issues: list[Issue]) -> dict:
    out = {}
    for field in ("category", "department"):
        pairs = [(issue_text(i), getattr(i, field)) for i in issues if getattr(i, field)]
        if len(pairs) >= 3 and len({y for _, y in pairs}) >= 2:
            out[field] = cross_validate(pairs)
    return out


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def evaluate_gov(folder: Path) -> dict:
    """Routing on the government-messages data: `domain` of messages, `department` of FAQ
    questions; learn on split=train, report on split=test."""
    folder = Path(folder)
    out = {}
    msgs = folder / "messages.jsonl"
    if msgs.is_file():
        rows = _jsonl(msgs)
        out["messages_domain"] = train_test([(r["text"], r["domain"]) for r in rows if r["split"] == "train"],
                                            [(r["text"], r["domain"]) for r in rows if r["split"] == "test"])
    faq = folder / "faq.jsonl"
    if faq.is_file():
        rows = [r for r in _jsonl(faq) if r.get("department")]
        train = [(r["question"], r["department"]) for r in rows if r["split"] == "train"]
        test = [(r["question"], r["department"]) for r in rows if r["split"] == "test"]
        if train and test:
            out["faq_department"] = train_test(train, test)
    return out
