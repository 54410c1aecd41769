"""Baselines and the synthetic fleet for bench/engine.py."""
