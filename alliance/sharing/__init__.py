"""The sharing model's vocabulary: who may see an object, and where it may travel next."""

from __future__ import annotations

import enum


class Distribution(enum.StrEnum):
    ORGANISATION = "ORGANISATION"
    WORKING_GROUP = "WORKING_GROUP"
    ALLIANCE = "ALLIANCE"
    FEDERATION = "FEDERATION"


class TLP(enum.StrEnum):
    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER_STRICT"
    RED = "RED"
