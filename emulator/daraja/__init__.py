"""Daraja API families, one package each; families never import each other."""
