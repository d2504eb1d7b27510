"""Signed model releases: model risk signs a bundle's manifest with an Ed25519 key; the app checks it.

``trainer keygen --out DIR`` writes ``release-key.pem`` (private, PKCS#8, mode 0600: keep it off the
advisors' machines) and ``release-key.pub`` (base64 of the 32-byte public key: what the config file
trusts). ``trainer release --model BUNDLE --key release-key.pem`` writes ``signature.json`` into the bundle:
the SHA-256 of ``manifest.json`` (which holds the model file's SHA-256, so the model is covered too), the
key id, the releaser's name, the time and the signature over all of them.

:func:`check_release` is the one place the policy lives: with trusted keys configured a bundle without a
valid signature by one of them is refused; without any it runs, marked "unreleased model".
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from trainer.atomic import write_text_atomic
from trainer.errors import BundleError, UserError
from trainer.settings import decode_public_key
from trainer.text_safety import has_any_control

SIGNATURE_FILE: Final = "signature.json"
PRIVATE_KEY_FILE: Final = "release-key.pem"
PUBLIC_KEY_FILE: Final = "release-key.pub"
_FORMAT: Final = "credit-tui-release/1"
_SIGNED_FIELDS: Final = ("format", "key_id", "releaser", "released_at", "manifest_sha256", "model_id")


@dataclass(frozen=True)
class Release:
    """A verified release of a bundle.

    Attributes:
        key_id: Id of the key that signed it (:func:`key_id`).
        releaser: Who released it (as written by ``trainer release``).
        released_at: When, UTC ISO 8601.
    """

    key_id: str
    releaser: str
    released_at: str


def key_id(public_key: bytes) -> str:
    """Short id of a raw Ed25519 public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` (never replacing a file) with ``data``, fsynced."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise UserError(
            f"{path} already exists; keygen never replaces a key: choose another --out."
        ) from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def keygen(out: Path) -> tuple[Path, Path, str]:
    """Write a new Ed25519 key pair into the folder ``out`` (created if missing).

    Returns:
        The private key file, the public key file and the key id.

    Raises:
        UserError: When ``out`` is a file or already holds a key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file, not a folder; choose another --out folder.")
    out.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    private_path, public_path = out / PRIVATE_KEY_FILE, out / PUBLIC_KEY_FILE
    if private_path.exists() or public_path.exists():
        raise UserError(
            f"{out} already holds a release key; keygen never replaces one: choose another --out."
        )
    _write_new(private_path, pem, 0o600)
    _write_new(public_path, base64.b64encode(public).decode("ascii").encode("ascii") + b"\n", 0o644)
    return private_path, public_path, key_id(public)


def read_public_key(path: Path) -> bytes:
    """Read a ``.pub`` file written by :func:`keygen` (raises ``UserError`` naming it)."""
    try:
        text = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"Cannot read the public key {path} ({exc}); check the path.") from None
    return decode_public_key(text, f"{path}")


def _load_private_key(path: Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"Cannot read the private key {path} ({exc.strerror or exc}); check --key.") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(
            f"{path} is not an unencrypted Ed25519 private key in PEM form; pass the release-key.pem "
            "written by `trainer keygen`."
        )
    return key


def _message(fields: dict[str, Any]) -> bytes:
    body = {name: fields[name] for name in _SIGNED_FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def release(
    bundle: Path, private_key: Path, releaser: str | None = None, now: datetime | None = None
) -> Release:
    """Sign the verified bundle ``bundle`` with ``private_key``: write its ``signature.json`` atomically.

    Args:
        bundle: A bundle folder (verified first: a tampered bundle is never signed).
        private_key: The ``release-key.pem`` of :func:`keygen`.
        releaser: The releaser's name (default: the OS user name).
        now: The release time (default: now, UTC).

    Returns:
        The release written.

    Raises:
        UserError: When the bundle does not verify, the key cannot be read or the name is unusable.
    """
    from cryptography.hazmat.primitives import serialization

    from trainer.bundle import MANIFEST_FILE, sha256_file, verify_bundle

    bundle = Path(bundle)
    manifest = verify_bundle(bundle)
    key = _load_private_key(private_key)
    name = (releaser if releaser is not None else _user()).strip()
    if not name or has_any_control(name):
        raise UserError("The releaser's name is empty or holds control characters; pass --releaser NAME.")
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    moment = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    fields: dict[str, Any] = {
        "format": _FORMAT,
        "key_id": key_id(public),
        "releaser": name,
        "released_at": moment,
        "manifest_sha256": sha256_file(bundle / MANIFEST_FILE),
        "model_id": manifest.model_id,
    }
    fields["public_key"] = base64.b64encode(public).decode("ascii")
    fields["signature"] = base64.b64encode(key.sign(_message(fields))).decode("ascii")
    write_text_atomic(bundle / SIGNATURE_FILE, json.dumps(fields, indent=2) + "\n")
    return Release(fields["key_id"], name, moment)


def read_release(bundle: Path, trusted_keys: tuple[bytes, ...]) -> Release | None:
    """The bundle's release when ``signature.json`` is signed by one of ``trusted_keys``.

    Returns:
        The release, or None when the bundle has no ``signature.json``.

    Raises:
        BundleError: When the signature file is unreadable, does not match the manifest, is signed by
            a key that is not trusted, or the signature does not verify.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from trainer.bundle import MANIFEST_FILE, sha256_file

    bundle = Path(bundle)
    path = bundle / SIGNATURE_FILE
    if not path.is_file():
        return None
    try:
        fields = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(fields, dict) or fields.get("format") != _FORMAT:
            raise ValueError("unknown format")
        for name in (*_SIGNED_FIELDS, "signature"):
            if not isinstance(fields.get(name), str):
                raise ValueError(f"no {name}")
        signature = base64.b64decode(fields["signature"], validate=True)
        if any(has_any_control(fields[name]) for name in _SIGNED_FIELDS):
            raise ValueError("control characters")
    except (OSError, UnicodeDecodeError, ValueError):
        raise BundleError(
            f"{path} is not a credit-tui release signature; release the bundle again."
        ) from None
    if fields["manifest_sha256"] != sha256_file(bundle / MANIFEST_FILE):
        raise BundleError(
            f"{bundle / MANIFEST_FILE} has changed since the bundle was released (signature of "
            f"{fields['releaser']!r} no longer matches); restore the released bundle."
        )
    by_id = {key_id(key): key for key in trusted_keys}
    public = by_id.get(fields["key_id"])
    if public is None:
        raise BundleError(
            f"{bundle} is signed by key {fields['key_id']!r}, which is not a trusted release key; ask model "
            "risk for a bundle released with a trusted key, or add the key to the config file."
        )
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, _message(fields))
    except InvalidSignature:
        raise BundleError(
            f"{path} does not verify with trusted key {fields['key_id']!r}: the release was forged or "
            "altered; restore the released bundle."
        ) from None
    return Release(fields["key_id"], fields["releaser"], fields["released_at"])


def check_release(bundle: Path, trusted_keys: tuple[bytes, ...]) -> Release | None:
    """Apply the release policy to ``bundle``.

    With ``trusted_keys`` a bundle must carry a valid signature by one of them; without any, a signed
    bundle is not checked against anything and the bundle runs unreleased (None).

    Returns:
        The verified release, or None for an unreleased model (allowed only without trusted keys).

    Raises:
        BundleError: When trusted keys are configured and the bundle is unsigned or wrongly signed.
    """
    if not trusted_keys:
        return None
    found = read_release(bundle, trusted_keys)
    if found is None:
        raise BundleError(
            f"{bundle} is not released (no {SIGNATURE_FILE}) and the config file trusts only released "
            "models; ask model risk to run `trainer release` on it."
        )
    return found


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "model-risk"
