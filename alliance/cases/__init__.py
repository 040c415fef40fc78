"""Test buys, cases referred to enforcement, their evidence packages, and transparency statistics."""
