"""Payer x code denial rates with smoothing: a pair seen rarely leans on its code's rate, a code on the global one."""

from collections.abc import Iterable

SMOOTHING = 10.0


class PayerCodeRates:
    """Denied share of claim lines by (payer, code), shrunk toward the code's rate by `smoothing` pseudo-lines."""

    def __init__(self, smoothing: float = SMOOTHING) -> None:
        self.smoothing = smoothing
        self.pairs: dict[tuple[str, str], tuple[int, int]] = {}
        self.codes: dict[str, tuple[int, int]] = {}
        self.payers: dict[str, tuple[int, int]] = {}
        self.global_rate = 0.0

    def fit(self, lines: Iterable[tuple[str, str, bool]]) -> "PayerCodeRates":
        """Count (payer, code, denied) lines."""
        pairs: dict[tuple[str, str], list[int]] = {}
        codes: dict[str, list[int]] = {}
        payers: dict[str, list[int]] = {}
        seen = denied = 0
        for payer, code, was_denied in lines:
            for table, key in ((pairs, (payer, code)), (codes, code), (payers, payer)):
                counts = table.setdefault(key, [0, 0])
                counts[0] += 1
                counts[1] += int(was_denied)
            seen += 1
            denied += int(was_denied)
        self.pairs = {key: (n, d) for key, (n, d) in pairs.items()}
        self.codes = {key: (n, d) for key, (n, d) in codes.items()}
        self.payers = {key: (n, d) for key, (n, d) in payers.items()}
        self.global_rate = denied / seen if seen else 0.0
        return self

    def _shrunk(self, counts: tuple[int, int] | None, prior: float) -> float:
        n, d = counts or (0, 0)
        return (d + self.smoothing * prior) / (n + self.smoothing)

    def code_rate(self, code: str) -> float:
        return self._shrunk(self.codes.get(code), self.global_rate)

    def payer_rate(self, payer: str) -> float:
        return self._shrunk(self.payers.get(payer), self.global_rate)

    def rate(self, payer: str, code: str) -> float:
        return self._shrunk(self.pairs.get((payer, code)), self.code_rate(code))

    def counts(self, payer: str, code: str) -> tuple[int, int]:
        """(lines seen, lines denied) for the pair."""
        return self.pairs.get((payer, code), (0, 0))
