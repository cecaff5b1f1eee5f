"""The dashboard's charts, laid out from the metrics the JSON API serves (api.routes.metrics.dashboard)."""

from api.routes.metrics import DashboardMetrics
from api.storage.features import Feature
from api.web.charts import BarChart, Row, bar_chart
from api.web.templating import humanize


def dashboard_charts(metrics: DashboardMetrics) -> dict[str, BarChart]:
    """The dashboard's bar charts: acceptance, code families, time to decision, edits, AI vs manual."""
    acceptance = bar_chart(
        "First-pass acceptance by feature",
        (
            Row(
                label=humanize(row.feature),
                value=row.first_pass_acceptance or 0.0,
                shown=f"{(row.first_pass_acceptance or 0.0) * 100:.0f}% of {row.decided}",
            )
            for row in metrics.acceptance
        ),
        maximum=1.0,
    )
    families = bar_chart(
        "Acceptance by code family",
        (
            Row(
                label=f"{family.family}xx procedures"
                if family.kind == "procedure"
                else f"{family.family} diagnoses",
                value=family.rate,
                shown=f"{family.rate * 100:.0f}% of {family.suggested}",
            )
            for row in metrics.acceptance
            for family in row.by_code_family
        ),
        maximum=1.0,
    )
    medians = bar_chart(
        "Median time to decision",
        (
            Row(label=humanize(feature), value=seconds, shown=f"{seconds:.0f} s")
            for feature, seconds in metrics.median_time_to_decision_by_feature.items()
        ),
    )
    edits = bar_chart(
        "Edits by code",
        (
            Row(label=edit.code, value=edit.added + edit.removed, shown=f"+{edit.added} / −{edit.removed}")
            for edit in metrics.edits_by_code[:12]
        ),
    )
    baselines = {row["feature"]: row for row in metrics.time_saved.by_feature}
    coding = baselines.get(Feature.CHARGE_CODING.value, {})
    assisted = metrics.shadow.get("ai_assisted_median_review_seconds")
    baseline_minutes = coding.get("manual_baseline_minutes")
    comparison_rows = []
    if assisted is not None:
        comparison_rows.append(
            Row(label="AI-assisted (measured)", value=assisted / 60, shown=f"{assisted / 60:.1f} min")
        )
    if baseline_minutes is not None:
        comparison_rows.append(
            Row(
                label="Manual (assumed)",
                value=baseline_minutes,
                shown=f"{baseline_minutes:.1f} min",
                alt=True,
            )
        )
    comparison = bar_chart("Minutes per charge", comparison_rows)
    return {
        "acceptance": acceptance,
        "families": families,
        "medians": medians,
        "edits": edits,
        "comparison": comparison,
    }
