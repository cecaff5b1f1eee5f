"""A learned second opinion on the visit code: the code hand coders chose for notes that read like this one.

Character n-grams of the note, with the patient's status, payer and age band, go through TF-IDF and a logistic
regression trained on the hand-written gold sets (evals/coding/opinion.py writes the stored model). The rules pick
the code; the opinion overrides them only where it all but rules their code out (agents/coding/offline.py). Where it
disagrees the visit line goes to review with its view as a finding; where it agrees, its grade is one of the
confidence model's inputs (out of sample, codes both readers chose were right far more often than codes they
disputed)."""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from scipy.special import softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

OPINION_FILE = Path(__file__).resolve().parent / "lexicon" / "visit_opinion.npz"
NO_VISIT = "none"  # the class of notes that bill no visit line
_VISIT_CODE = re.compile(r"920(?:02|04|12|14)|992(?:0[2-5]|1[1-5])|S062[01]")
_MEDICAL_VISIT = re.compile(r"920(?:02|04|12|14)|992(?:0[2-5]|1[1-5])")
_NEW_PATIENT_VISIT = re.compile(r"9200[24]|9920[2-5]")
# Chosen by leave-one-author-set-out runs over the gold sets (evals/coding/opinion.py --cross-validate).
VECTORIZER = {
    "analyzer": "char_wb",
    "ngram_range": (3, 5),
    "sublinear_tf": True,
    "min_df": 3,
    "max_features": 8000,
}
REGULARIZATION = 10.0
# Out of fold, over the untuned runs of the later gold sets, a rule-chosen visit code the opinion gave >= 0.85 was
# right 127 times in 128; at 0.3-0.85, 95%; below 0.3, half the time.
FIRM = 0.85


@dataclass(frozen=True)
class Opinion:
    code: str  # the likeliest visit code, or NO_VISIT
    probability: float
    probabilities: dict[str, float]

    def on(self, code: str) -> str:
        """The opinion of a visit code the rules chose: firm (likely enough on its own), agree (the likeliest
        code, not firmly), or differ."""
        if self.probabilities.get(code, 0.0) >= FIRM:
            return "firm"
        return "agree" if code == self.code else "differ"


def is_visit_code(code: str) -> bool:
    """An eye exam, office E/M or vision-plan exam code: the one visit line of a charge."""
    return _VISIT_CODE.fullmatch(code.upper()) is not None


def is_medical_visit(code: str) -> bool:
    """An eye exam or office E/M code (not a vision plan's S-code)."""
    return _MEDICAL_VISIT.fullmatch(code.upper()) is not None


def is_new_patient_visit(code: str) -> bool:
    return _NEW_PATIENT_VISIT.fullmatch(code.upper()) is not None


def visit_family(code: str) -> str:
    """The rules' family name of a medical visit code: comprehensive, intermediate or em."""
    if code.startswith("92"):
        return "comprehensive" if code in ("92004", "92014") else "intermediate"
    return "em"


def opinion_text(
    note: str, established: bool | None, payer_kind: str, age: int | None, payer_name: str = ""
) -> str:
    """What the model reads: the note behind a line of the request facts it cannot see in the text (the payer's
    name matters: vision plans differ on S-codes vs eye codes)."""
    status = {True: "established patient", False: "new patient", None: ""}[established]
    band = f"age band {age // 20}" if age is not None else ""
    return f"{status} payer {payer_kind} {payer_name} {band}\n{note}"


class VisitOpinion:
    """A fitted TF-IDF vocabulary and a multinomial logistic regression over visit codes."""

    def __init__(
        self,
        vocabulary: list[str],
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: list[str],
    ) -> None:
        self.classes = classes
        self._coef = coef
        self._intercept = intercept
        self._vectorizer = TfidfVectorizer(
            **VECTORIZER | {"max_features": None, "min_df": 1},
            vocabulary={term: i for i, term in enumerate(vocabulary)},
        )
        self._vectorizer.idf_ = idf

    def probabilities(self, text: str) -> dict[str, float]:
        scores = self._vectorizer.transform([text]) @ self._coef.T + self._intercept
        return dict(zip(self.classes, softmax(np.asarray(scores)[0]).tolist(), strict=True))

    def opinion(self, text: str) -> Opinion:
        probabilities = self.probabilities(text)
        code = max(probabilities, key=probabilities.__getitem__)
        return Opinion(code, round(probabilities[code], 4), probabilities)

    def save(self, path: Path) -> None:
        # plain arrays, no pickle: the file loads with allow_pickle=False under any scikit-learn
        np.savez_compressed(
            path,
            vocabulary=np.array(
                sorted(self._vectorizer.vocabulary, key=self._vectorizer.vocabulary.__getitem__)
            ),
            idf=self._vectorizer.idf_.astype(np.float32),
            coef=self._coef.astype(np.float32),
            intercept=self._intercept.astype(np.float32),
            classes=np.array(self.classes),
        )


def train_opinion(texts: list[str], codes: list[str]) -> VisitOpinion:
    """Fit on opinion_text() of notes and the visit code hand coders billed for each (NO_VISIT for none)."""
    vectorizer = TfidfVectorizer(**VECTORIZER)
    features = vectorizer.fit_transform(texts)
    model = LogisticRegression(C=REGULARIZATION, max_iter=3000).fit(features, codes)
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    coef, intercept = model.coef_, model.intercept_
    if (
        len(model.classes_) == 2
    ):  # scikit-learn keeps one row for two classes; softmax of (-z/2, z/2) is its sigmoid
        coef, intercept = np.vstack([-coef, coef]) / 2, np.concatenate([-intercept, intercept]) / 2
    return VisitOpinion(vocabulary, vectorizer.idf_, coef, intercept, [str(c) for c in model.classes_])


@cache
def load_opinion(path: Path = OPINION_FILE) -> VisitOpinion | None:
    """The stored model, or None when none has been trained (the coder then works without a second opinion)."""
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as stored:
        return VisitOpinion(
            stored["vocabulary"].tolist(),
            stored["idf"].astype(np.float64),
            stored["coef"].astype(np.float64),
            stored["intercept"].astype(np.float64),
            stored["classes"].tolist(),
        )
