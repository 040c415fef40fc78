"""The instance signing key: from settings, from a file, or made on first start."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from joserfc.jwk import KeySet, RSAKey

ALGORITHM = "RS256"


@dataclass(frozen=True)
class KeyRing:
    """The key that signs now, and every key whose tokens may still be verified."""

    current: RSAKey
    verifying: KeySet

    @property
    def kid(self) -> str:
        return str(self.current.kid)

    def public_jwks(self) -> dict[str, object]:
        return self.verifying.as_dict(private=False)


def _with_kid(key: RSAKey) -> RSAKey:
    return RSAKey.import_key(
        key.as_dict(private=True),
        parameters={"kid": key.thumbprint(), "use": "sig", "alg": ALGORITHM},
    )


def generate_key() -> RSAKey:
    return _with_kid(RSAKey.generate_key(2048, private=True))


def load_key_ring(*, pem: str | None, key_file: Path) -> KeyRing:
    """Use the PEM from settings if given; otherwise the key file, creating it when absent."""
    if pem:
        key = _with_kid(RSAKey.import_key(pem))
    elif key_file.exists():
        key = _with_kid(RSAKey.import_key(key_file.read_bytes()))
    else:
        key = generate_key()
        key_file.parent.mkdir(parents=True, exist_ok=True)
        # A temporary name of its own (mkstemp: mode 0600), so concurrent first starts
        # cannot write into, link or unlink each other's half-written key.
        fd, tmp_name = tempfile.mkstemp(dir=key_file.parent, prefix=f".{key_file.name}.")
        tmp = Path(tmp_name)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.as_pem(private=True))
        try:
            # Another process may have made one meanwhile; keep whichever landed first.
            os.link(tmp, key_file)
        except FileExistsError:
            key = _with_kid(RSAKey.import_key(key_file.read_bytes()))
        finally:
            tmp.unlink(missing_ok=True)
    if not key.is_private:
        raise ValueError("the signing key must be a private key")
    return KeyRing(current=key, verifying=KeySet([key]))
