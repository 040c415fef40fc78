"""store_upload, thumbnails, access and image indicators on the migrated schema (both databases)."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from alliance.blobs import service
from alliance.blobs.models import Blob, ThumbnailStatus
from alliance.blobs.storage import blob_key, storage_for, thumbnail_key
from alliance.db import commit
from alliance.errors import InvalidInput, NotFound
from alliance.indicators import service as indicators
from alliance.indicators.models import IndicatorAssertion
from alliance.sharing import Distribution
from alliance.sharing.policy import Viewer
from tests.alliance.blobs import samples
from tests.alliance.blobs.conftest import stored_files


async def blob_rows(session) -> int:
    return int(await session.scalar(select(func.count()).select_from(Blob)) or 0)


@pytest.fixture
def acme(demo):
    return demo["orgs"]["acme-motors"]


async def test_an_accepted_photo_is_stored_stripped_hashed_and_queued_for_a_thumbnail(
    session, settings, acme, job_sender
) -> None:
    blob = await service.store_upload(
        session,
        settings=settings,
        owner_org_id=acme.id,
        filename="fake-brake-pad.jpg",
        data=samples.jpeg_with_gps(),
    )
    await commit(session)

    assert blob.content_type == "image/jpeg"
    assert (blob.width, blob.height) == (640, 480)
    assert blob.filename == "fake-brake-pad.jpg"
    assert len(blob.phash or "") == 16
    assert len(blob.pdq or "") == 64
    assert blob.pdq_quality is not None
    assert blob.pdq_quality >= 50
    assert blob.thumbnail_status is ThumbnailStatus.PENDING
    path = settings.blobs_dir / blob_key(blob.sha256)
    stored = path.read_bytes()
    assert len(stored) == blob.size
    assert b"SpyCam" not in stored
    assert [(j.name, j.kwargs) for j in job_sender.sent] == [
        ("blobs.make_thumbnail", {"blob_id": str(blob.id)})
    ]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(samples.HTML, "UNSUPPORTED_TYPE", id="html-named-jpg"),
        pytest.param(samples.SVG, "UNSUPPORTED_TYPE", id="svg-named-jpg"),
        pytest.param(samples.EXE, "UNSUPPORTED_TYPE", id="exe-named-jpg"),
        pytest.param(samples.JPEG_MAGIC_HTML, "CORRUPT_FILE", id="polyglot"),
        pytest.param(samples.png_bomb(), "DECOMPRESSION_BOMB", id="bomb"),
        pytest.param(b"\xff\xd8\xff" + b"\x00" * (2 * 1024 * 1024), "TOO_LARGE", id="oversized"),
    ],
)
async def test_a_refused_upload_stores_nothing(
    session, settings, acme, job_sender, data, code
) -> None:
    limited = settings.model_copy(
        update={"blobs": settings.blobs.model_copy(update={"max_bytes": 1024 * 1024})}
    )
    with pytest.raises(InvalidInput) as caught:
        await service.store_upload(
            session, settings=limited, owner_org_id=acme.id, filename="photo.jpg", data=data
        )
    [problem] = caught.value.problems
    assert (problem.path, problem.code) == (("file",), code)
    assert problem.message
    await session.rollback()
    assert await blob_rows(session) == 0
    assert stored_files(settings.blobs_dir) == []
    assert job_sender.sent == []


async def test_the_same_content_is_stored_once(session, settings, acme, demo) -> None:
    data = samples.png()
    first = await service.store_upload(
        session, settings=settings, owner_org_id=acme.id, filename="a.png", data=data
    )
    again = await service.store_upload(
        session, settings=settings, owner_org_id=acme.id, filename="b.png", data=data
    )
    other = await service.store_upload(
        session,
        settings=settings,
        owner_org_id=demo["orgs"]["shopmart"].id,
        filename="c.png",
        data=data,
    )
    assert again.id == first.id
    assert other.id != first.id
    assert other.sha256 == first.sha256
    assert stored_files(settings.blobs_dir) == [settings.blobs_dir / blob_key(first.sha256)]


async def test_a_pdf_is_kept_as_it_is_without_hashes_or_thumbnail(
    session, settings, acme, job_sender
) -> None:
    data = samples.pdf()
    blob = await service.store_upload(
        session, settings=settings, owner_org_id=acme.id, filename="report.PDF", data=data
    )
    await commit(session)
    assert (blob.content_type, blob.filename) == ("application/pdf", "report.pdf")
    assert (blob.width, blob.phash, blob.pdq) == (None, None, None)
    assert blob.thumbnail_status is ThumbnailStatus.NONE
    assert storage_for(settings).get(blob_key(blob.sha256)) == data
    assert job_sender.sent == []


async def test_the_thumbnail_service_makes_a_320px_jpeg_beside_the_blob(
    session, settings, acme
) -> None:
    blob = await service.store_upload(
        session, settings=settings, owner_org_id=acme.id, filename="p.webp", data=samples.webp()
    )
    assert await service.make_thumbnail(session, settings=settings, blob_id=blob.id) == (
        ThumbnailStatus.READY
    )
    assert blob.thumbnail_status is ThumbnailStatus.READY
    small = Image.open(io.BytesIO(storage_for(settings).get(thumbnail_key(blob.sha256))))
    assert (small.format, small.size) == ("JPEG", (320, 240))


async def test_a_missing_original_makes_the_thumbnail_fail_not_crash(
    session, settings, acme
) -> None:
    blob = await service.store_upload(
        session, settings=settings, owner_org_id=acme.id, filename="p.gif", data=samples.gif()
    )
    storage_for(settings).delete(blob_key(blob.sha256))
    status = await service.make_thumbnail(session, settings=settings, blob_id=blob.id)
    assert status is ThumbnailStatus.FAILED


async def test_a_blob_is_hidden_from_other_organisations_until_a_registered_check_allows_it(
    session, settings, demo, exhibits
) -> None:
    acme, shopmart = demo["orgs"]["acme-motors"], demo["orgs"]["shopmart"]
    owner = await indicators.viewer_of_organisation(session, acme.id)
    other = await indicators.viewer_of_organisation(session, shopmart.id)
    blob = await service.store_upload(
        session, settings=settings, owner_org_id=acme.id, filename="x.png", data=samples.png()
    )

    assert (await service.readable_blob(session, owner, blob.id)).id == blob.id
    with pytest.raises(NotFound):
        await service.readable_blob(session, other, blob.id)
    with pytest.raises(NotFound):
        await service.readable_blob(session, Viewer.anonymous(), blob.id)

    # Attached to an object only its owner's working-group partners may see.
    exhibits.attach(blob.id, shopmart.id)
    assert (await service.readable_blob(session, other, blob.id)).id == blob.id
    # Once attached, the owner reads it through the objects too: here it may not.
    with pytest.raises(NotFound):
        await service.readable_blob(session, owner, blob.id)


async def test_a_photo_becomes_an_image_indicator_of_its_hash(session, settings, demo) -> None:
    acme = demo["orgs"]["acme-motors"]
    group = demo["groups"]["automotive-parts"]
    viewer = await indicators.viewer_of_organisation(session, acme.id)
    blob = await service.store_upload(
        session, settings=settings, owner_org_id=acme.id, filename="fake.png", data=samples.png()
    )
    template = indicators.Submission(
        type="image_pdq",
        value="",
        working_group_id=group.id,
        distribution=Distribution.WORKING_GROUP,
        confidence=80,
    )
    pdq = await service.submit_image_indicator(
        session, viewer, blob.id, service.ImageHashType.PDQ, template, settings=settings
    )
    phash = await service.submit_image_indicator(
        session, viewer, blob.id, service.ImageHashType.PHASH, template, settings=settings
    )
    assert pdq.error is None
    assert phash.error is None
    assert (pdq.indicator.type.value, pdq.indicator.value) == ("image_pdq", blob.pdq)
    assert (phash.indicator.type.value, phash.indicator.value) == ("image_phash", blob.phash)
    assert isinstance(pdq.assertion, IndicatorAssertion)
    assert pdq.assertion.confidence == 80


async def test_a_pdf_or_an_unreadable_blob_cannot_become_an_indicator(
    session, settings, demo
) -> None:
    acme, shopmart = demo["orgs"]["acme-motors"], demo["orgs"]["shopmart"]
    viewer = await indicators.viewer_of_organisation(session, acme.id)
    template = indicators.Submission(type="image_pdq", value="")
    pdf = await service.store_upload(
        session, settings=settings, owner_org_id=acme.id, filename="r.pdf", data=samples.pdf()
    )
    with pytest.raises(InvalidInput) as caught:
        await service.submit_image_indicator(
            session, viewer, pdf.id, service.ImageHashType.PDQ, template, settings=settings
        )
    assert caught.value.problems[0].code == "NOT_AN_IMAGE"
    theirs = await service.store_upload(
        session, settings=settings, owner_org_id=shopmart.id, filename="s.png", data=samples.png()
    )
    with pytest.raises(NotFound):
        await service.submit_image_indicator(
            session, viewer, theirs.id, service.ImageHashType.PHASH, template, settings=settings
        )
