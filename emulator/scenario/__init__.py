"""Scenarios: how a push ends (model), read from YAML (loader), chosen per push (engine)."""
