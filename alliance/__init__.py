"""Alliance: knowledge sharing for anti-counterfeiting alliances."""

__version__ = "0.1.0"
