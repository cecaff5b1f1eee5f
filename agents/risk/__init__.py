"""Denial risk: claim features, the rules baseline, the trained model, its store and its explanations."""
