"""The coding eval report: a self-contained index.html (inline CSS and SVG, no CDN) plus metrics.json."""

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from evals.coding.metrics import CalibrationBin, CodingMetrics

SIZE, PAD = 360, 40


def calibration_svg(bins: list[CalibrationBin]) -> Markup:
    """A reliability plot: accuracy against mean confidence per bin, dot area by count, diagonal ideal."""
    span = SIZE - 2 * PAD

    def x(value: float) -> float:
        return PAD + value * span

    def y(value: float) -> float:
        return SIZE - PAD - value * span

    most = max((b.count for b in bins), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}" '
        'role="img" aria-label="Calibration plot">',
        f'<rect x="{PAD}" y="{PAD}" width="{span}" height="{span}" fill="#fafafa" stroke="#999"/>',
        f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(1)}" y2="{y(1)}" stroke="#bbb" stroke-dasharray="4 4"/>',
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        parts.append(
            f'<text x="{x(tick):.1f}" y="{SIZE - PAD + 16}" font-size="10" text-anchor="middle">{tick}</text>'
        )
        parts.append(
            f'<text x="{PAD - 6}" y="{y(tick) + 3:.1f}" font-size="10" text-anchor="end">{tick}</text>'
        )
    parts.append(f'<text x="{SIZE / 2}" y="{SIZE - 6}" font-size="11" text-anchor="middle">confidence</text>')
    parts.append(
        f'<text x="12" y="{SIZE / 2}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 12 {SIZE / 2})">share correct</text>'
    )
    filled = [b for b in bins if b.count]
    if filled:
        path = " ".join(f"{x(b.mean_confidence):.1f},{y(b.accuracy):.1f}" for b in filled)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f6feb" stroke-width="1.5"/>')
    for b in filled:
        radius = 3 + 9 * (b.count / most) ** 0.5
        parts.append(
            f'<circle cx="{x(b.mean_confidence):.1f}" cy="{y(b.accuracy):.1f}" r="{radius:.1f}" '
            f'fill="#1f6feb" fill-opacity="0.5"><title>{b.low:.1f}-{b.high:.1f}: {b.count} codes, '
            f"{b.accuracy:.0%} correct</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def render_report(metrics: CodingMetrics, *, dataset: str, split: str, engine: str) -> str:
    env = Environment(loader=PackageLoader("evals.coding", "."), autoescape=select_autoescape(["j2", "html"]))
    return env.get_template("report.html.j2").render(
        m=metrics,
        dataset=dataset,
        split=split,
        engine=engine,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        calibration=calibration_svg(metrics.calibration),
    )


def write_report(metrics: CodingMetrics, directory: Path, *, dataset: str, split: str, engine: str) -> Path:
    """Write index.html and metrics.json into directory (created if needed); return the HTML path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "metrics.json").write_text(metrics.model_dump_json(indent=2), encoding="utf-8")
    page = directory / "index.html"
    page.write_text(render_report(metrics, dataset=dataset, split=split, engine=engine), encoding="utf-8")
    return page
