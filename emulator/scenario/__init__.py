"""Scenarios: how a pushed transaction ends (model), read from YAML (loader), chosen per push (engine)."""
