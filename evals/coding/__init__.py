"""The charge-coding eval: gold rows, metrics, the runner, its reports and a LangSmith bridge."""
