"""The sharing model's vocabulary as GraphQL enums (the rules live in ``alliance.sharing.policy``)."""

from __future__ import annotations

import strawberry

from alliance import sharing

Distribution = strawberry.enum(
    sharing.Distribution,
    description=(
        "Who may see an object: its owner organisation (ORGANISATION); the owner and the "
        "organisations seated in its working group (WORKING_GROUP); every organisation of "
        "this instance (ALLIANCE); and, for CLEAR or GREEN objects, federated peers too "
        "(FEDERATION)."
    ),
)
TLP = strawberry.enum(
    sharing.TLP,
    name="TLP",
    description=(
        "Traffic Light Protocol 2.0 marking: where the object may travel next. Only CLEAR and "
        "GREEN cross federation; RED never leaves the instance."
    ),
)
