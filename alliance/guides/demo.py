"""Demo guides: an airbag module for automotive parts (with a covert tier) and a handbag for
luxury goods (translated to Chinese), with photos drawn by Pillow, written through the
services and published like any other guide. Safe to run again: a guide whose owner already
has one of the same title is left as it is."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alliance.guides import service
from alliance.guides.models import Guide
from alliance.orgs.models import Organisation, WorkingGroup
from alliance.sharing import TLP, Distribution

REPORT_LINES = 2

AIRBAG: dict[str, Any] = {
    "title": "Acme Motors driver airbag module AB-200",
    "summary": (
        "Counterfeit airbag modules **do not deploy** or deploy with metal debris. This guide "
        "shows how to tell a genuine Acme AB-200 driver module from the fakes seen in 2026."
    ),
    "brands": ["Acme Motors"],
    "product_lines": ["AB-200"],
    "category_id": 8448,
    "gtins": ["4006381333931"],
    "rights": {
        "registrations": [
            {"kind": "TRADEMARK", "number": "EUTM 018123456", "jurisdiction": "EU"},
            {"kind": "DESIGN", "number": "RCD 008765432-0001", "jurisdiction": "EU"},
            {"kind": "PATENT", "number": "EP 3 456 789 B1", "jurisdiction": "EP"},
        ],
        "customs_recordations": [{"number": "CN-T2026-004211", "jurisdiction": "CN"}],
        "jurisdictions": ["EU", "CN", "US"],
    },
    "contacts": [
        {
            "name": "Ada Analyst",
            "organisation": "Acme Motors brand protection",
            "languages": ["en", "de"],
            "hours": "Mon-Fri 08:00-18:00 CET",
            "reach": "analyst@acme-motors.example, +49 30 1234 5678 (hotline)",
        }
    ],
    "features": [
        {
            "id": "etched-label",
            "kind": "AUTHENTIC",
            "tier": "OVERT",
            "title": "Laser-etched rating label",
            "text": "The label is **laser-etched** into the housing; fakes use a printed sticker.",
        },
        {
            "id": "uv-micromark",
            "kind": "AUTHENTIC",
            "tier": "COVERT",
            "title": "UV micro-mark by the connector",
            "text": "Under 365 nm light an 'AM' micro-mark fluoresces blue beside the connector.",
        },
        {
            "id": "inflator-alloy",
            "kind": "AUTHENTIC",
            "tier": "FORENSIC",
            "title": "Inflator housing alloy",
            "text": "XRF shows a 6061 aluminium alloy; fakes use zinc die-cast.",
        },
        {
            "id": "surplus-listing",
            "kind": "TELL",
            "tier": "OVERT",
            "title": "Sold as 'OEM surplus' or 'new old stock'",
            "text": "Acme never sells modules as surplus; such listings are counterfeit.",
            "keywords": ["ab-200 airbag oem surplus"],
            "misspellings": ["Akme Motors"],
        },
    ],
    "packaging": "Sealed antistatic bag in a white carton with a **holographic seal**.",
    "labels": "Part number, batch and date code are etched; the QR code opens acme-motors.example.",
    "serial_formats": [
        {
            "id": "module-serial",
            "name": "Module serial",
            "pattern": r"AB2-\d{6}-[A-Z]{2}",
            "examples": ["AB2-104233-DE", "AB2-993100-CN"],
            "description": "Six digits, then the plant's country code.",
        }
    ],
    "supply_chain": [
        {"role": "MANUFACTURER", "name": "Acme Motors Werk Leipzig", "country": "DE"},
        {"role": "DISTRIBUTOR", "name": "Acme Parts China Ltd", "country": "CN"},
        {
            "role": "OFFICIAL_STORE",
            "name": "Acme Parts official store",
            "country": "CN",
            "url": "https://acme-parts.example",
        },
    ],
    "price_guidance": "Dealer price EUR 450-520; anything under EUR 200 is a red flag.",
    "test_buy_notes": "Buy through a cover account; keep the packaging for the customs file.",
}

HANDBAG: dict[str, Any] = {
    "title": "Luxe House Monogram tote",
    "summary": "Fakes of the Monogram tote copy the canvas well; check the stitching and the heat stamp.",
    "brands": ["Luxe House"],
    "product_lines": ["Monogram tote MM"],
    "category_id": 3032,
    "rights": {
        "registrations": [{"kind": "TRADEMARK", "number": "FR 4 123 456", "jurisdiction": "FR"}],
        "jurisdictions": ["FR", "EU", "CN"],
    },
    "contacts": [
        {
            "name": "Louis Protection",
            "organisation": "Luxe House",
            "languages": ["fr", "en", "zh"],
            "hours": "Mon-Fri 09:00-17:00 CET",
            "reach": "brand.protection@luxe-house.example",
        }
    ],
    "features": [
        {
            "id": "stitching",
            "kind": "AUTHENTIC",
            "tier": "OVERT",
            "title": "Even saddle stitching",
            "text": "Five stitches per centimetre along the handle, slanted, in ochre thread.",
        },
        {
            "id": "heat-stamp",
            "kind": "AUTHENTIC",
            "tier": "OVERT",
            "title": "Crisp heat stamp",
            "text": "The 'LUXE HOUSE PARIS' stamp is thin and evenly pressed.",
        },
        {
            "id": "mirror-quality",
            "kind": "TELL",
            "tier": "OVERT",
            "title": "'Mirror quality' or '1:1' listings",
            "text": "Sellers advertising 'mirror quality' or '1:1' sell replicas.",
            "keywords": ["luxe house tote mirror quality"],
            "misspellings": ["Luxe Hause"],
        },
    ],
    "packaging": "Dust bag in beige cotton, a rigid box and a care booklet.",
    "serial_formats": [
        {
            "id": "date-code",
            "name": "Date code",
            "pattern": r"[A-Z]{2}\d{4}",
            "examples": ["FL2196", "SD4037"],
            "description": "Two letters (workshop) and four digits (week and year interleaved).",
        }
    ],
    "supply_chain": [
        {"role": "OFFICIAL_STORE", "name": "Luxe House boutiques", "country": "FR"},
    ],
    "price_guidance": "Retail EUR 1,950; second-hand rarely under EUR 900.",
}

HANDBAG_ZH = {
    "title": {"text": "Luxe House 老花托特包"},
    "summary": {"text": "仿冒的老花托特包帆布仿得很像；请检查缝线和烫印。"},
    "packaging": {"text": "米色棉质防尘袋、硬质包装盒和保养手册。"},
    "feature:stitching": {"title": "均匀的马鞍针脚", "text": "提手上每厘米五针，斜向，赭色线。"},
    "feature:heat-stamp": {"title": "清晰的烫印", "text": "“LUXE HOUSE PARIS”烫印细而均匀。"},
    "feature:mirror-quality": {
        "title": "“镜面品质”或“1:1”商品",
        "text": "宣传“镜面品质”或“1:1”的卖家出售的是仿品。",
    },
}


def _picture(kind: str, *, fake: bool = False) -> bytes:
    """A simple drawn photo (PNG): enough to show photos in guides without shipping any."""
    image = Image.new("RGB", (480, 360), (235, 235, 230))
    draw = ImageDraw.Draw(image)
    if kind == "airbag":
        draw.ellipse((90, 30, 390, 330), fill=(40, 40, 45), outline=(10, 10, 10), width=6)
        draw.rectangle((170, 150, 310, 210), fill=(200, 200, 200) if not fake else (230, 220, 90))
        draw.text((180, 170), "ACME AB-200", fill=(0, 0, 0))
    elif kind == "uv":
        image.paste((20, 10, 60), (0, 0, 480, 360))
        draw.rectangle((300, 220, 420, 300), fill=(90, 90, 110))
        draw.text((330, 180), "AM", fill=(120, 180, 255))
    else:
        draw.polygon([(120, 120), (360, 120), (400, 320), (80, 320)], fill=(140, 90, 40))
        draw.arc((170, 30, 310, 190), 180, 360, fill=(90, 60, 20), width=10)
        for x in range(100, 380, 24):
            draw.text((x, 200), "L", fill=(230, 200, 120))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


PHOTOS = {
    "airbag": [
        ("etched-label", "airbag-label.png", "airbag", False, "Genuine etched label"),
        ("uv-micromark", "airbag-uv.png", "uv", False, "UV micro-mark under 365 nm"),
        ("surplus-listing", "airbag-fake.png", "airbag", True, "A fake: printed sticker"),
    ],
    "handbag": [
        ("stitching", "tote-stitching.png", "bag", False, "Genuine saddle stitching"),
    ],
}


async def _existing(session: AsyncSession, owner: Organisation, title: str) -> Guide | None:
    return await session.scalar(
        select(Guide).where(Guide.owner_org_id == owner.id, Guide.title == title)
    )


async def _guide(
    session: AsyncSession,
    owner: Organisation,
    group: WorkingGroup,
    content: dict[str, Any],
    photos: list[tuple[str, str, str, bool, str]],
    settings: Any,
) -> Guide:
    guide = await service.create_guide(
        session,
        None,
        working_group_id=group.id,
        content=content,
        distribution=Distribution.WORKING_GROUP,
        tlp=TLP.AMBER,
        owner_org_id=owner.id,
    )
    if settings is not None:
        for feature, filename, kind, fake, caption in photos:
            await service.add_photo(
                session,
                None,
                guide.id,
                feature_id=feature,
                filename=filename,
                data=_picture(kind, fake=fake),
                caption=caption,
                settings=settings,
            )
    await service.submit_for_review(session, None, guide.id)
    await service.approve(session, None, guide.id, note="Demo: reviewed by the operator.")
    await service.publish(session, None, guide.id)
    return guide


async def seed_guides(
    session: AsyncSession,
    orgs: dict[str, Organisation],
    groups: dict[str, WorkingGroup],
    created: list[str],
    *,
    settings: Any = None,
) -> int:
    """Returns how many demo guides already existed. Photos need ``settings`` (the blob store)."""
    existing = 0
    plans = [
        ("acme-motors", "automotive-parts", AIRBAG, "airbag", None),
        ("luxe-house", "luxury-goods", HANDBAG, "handbag", HANDBAG_ZH),
    ]
    for owner_slug, group_slug, content, photos, chinese in plans:
        owner = orgs[owner_slug]
        if await _existing(session, owner, content["title"]) is not None:
            existing += 1
            continue
        guide = await _guide(session, owner, groups[group_slug], content, PHOTOS[photos], settings)
        if chinese:
            await service.translate(session, None, guide.id, language="zh", sections=chinese)
        created.append(f"guide {content['title']!r} (version 1{', zh' if chinese else ''})")
    return existing
