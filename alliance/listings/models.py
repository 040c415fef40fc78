"""Per-day counts of listing checks, for the transparency statistics.

Checks are answered in memory and never stored one by one: each API process adds them up
(:mod:`alliance.listings.counting`) and upserts one row per (day, checking organisation,
working group) now and then. ``working_group_id`` is :data:`ALL_GROUPS` on the row that
counts every check of that organisation (the alliance-wide figure), and a group's id on the
rows attributed to that group; ``organisation_id`` is :data:`NO_ORGANISATION` for a caller
without an organisation (an operator's token). Both are sentinels rather than NULL because
they are part of the primary key. No foreign keys: the counts are history, and outlive an
organisation or a group.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import BigInteger, Date, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from alliance.db import Base

ALL_GROUPS = uuid.UUID(int=0)
NO_ORGANISATION = uuid.UUID(int=0)


class ListingCheckCount(Base):
    __tablename__ = "listing_check_counts"

    day: Mapped[date] = mapped_column(Date(), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    working_group_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    checked: Mapped[int] = mapped_column(BigInteger, default=0)
    blocked: Mapped[int] = mapped_column(BigInteger, default=0)
    review: Mapped[int] = mapped_column(BigInteger, default=0)
