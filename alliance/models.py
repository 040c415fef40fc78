"""Imports every model module so the metadata (and the session hooks) are complete."""

import alliance.jobs  # noqa: F401,E402
from alliance.audit import models as audit_models  # noqa: F401
from alliance.audit import service as audit_service  # noqa: F401  (its commit hook)
from alliance.auth import models as auth_models  # noqa: F401
from alliance.blobs import models as blobs_models  # noqa: F401
from alliance.cases import models as cases_models  # noqa: F401
from alliance.changelog import models as changelog_models  # noqa: F401
from alliance.changelog import service as changelog_service  # noqa: F401
from alliance.db import Base
from alliance.federation import models as federation_models  # noqa: F401
from alliance.guides import models as guides_models  # noqa: F401
from alliance.indicators import models as indicators_models  # noqa: F401
from alliance.listings import models as listings_models  # noqa: F401
from alliance.orgs import models as orgs_models  # noqa: F401
from alliance.portal import models as portal_models  # noqa: F401
from alliance.rules import models as rules_models  # noqa: F401
from alliance.system import models as system_models  # noqa: F401
from alliance.taxii import models as taxii_models  # noqa: F401
from alliance.taxonomy import models as taxonomy_models  # noqa: F401
from alliance.webhooks import models as webhooks_models  # noqa: F401

metadata = Base.metadata
