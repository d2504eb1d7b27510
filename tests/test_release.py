"""Signed model releases: keygen, release, the trust policy in the app and trainer, the config file."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest

from credit_tui.cli import DEMO_MODEL, trusted_keys_for
from trainer.bundle import MANIFEST_FILE, Bundle, _content_id
from trainer.errors import BundleError, UserError
from trainer.release import SIGNATURE_FILE, check_release, keygen, read_public_key, release
from trainer.scoring import Scorer
from trainer.settings import ConfigError, load_settings


@pytest.fixture
def bundle(fitted_bundle: Bundle, tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(fitted_bundle.path, copy)
    return copy


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, bytes]:
    private, public, _ = keygen(tmp_path / "keys")
    return private, read_public_key(public)


def _config(tmp_path: Path, *keys: bytes, extra: str = "") -> Path:
    listed = ", ".join(f'"{base64.b64encode(k).decode()}"' for k in keys)
    path = tmp_path / "config.toml"
    path.write_text(f"[release]\ntrusted_keys = [{listed}]\n{extra}", encoding="utf-8")
    return path


def test_keygen_writes_a_private_and_a_public_key_and_never_replaces_them(tmp_path: Path) -> None:
    private, public, kid = keygen(tmp_path / "k")
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert os.stat(private).st_mode & 0o777 == 0o600
    assert len(read_public_key(public)) == 32 and len(kid) == 16
    before = private.read_bytes()
    with pytest.raises(UserError, match="already holds a release key"):
        keygen(tmp_path / "k")
    assert private.read_bytes() == before


def test_released_bundle_is_verified_and_says_who_released_it(bundle: Path, keys: tuple[Path, bytes]) -> None:
    private, public = keys
    done = release(bundle, private, releaser="Model Risk (Jane)")
    found = check_release(bundle, (public,))
    assert found == done and found.releaser == "Model Risk (Jane)"
    scorer = Scorer.load(bundle, (public,))
    assert scorer.release == done
    assert Scorer.load(bundle).release is None  # no trusted keys: unreleased, whatever it carries


def test_unsigned_bundle_is_refused_only_when_keys_are_trusted(
    bundle: Path, keys: tuple[Path, bytes]
) -> None:
    assert check_release(bundle, ()) is None
    with pytest.raises(BundleError, match="is not released"):
        check_release(bundle, (keys[1],))


def test_manifest_edited_with_recomputed_model_id_is_refused(bundle: Path, keys: tuple[Path, bytes]) -> None:
    private, public = keys
    release(bundle, private, releaser="jane")
    manifest = json.loads((bundle / MANIFEST_FILE).read_text())
    manifest["threshold"]["value"] = 0.99  # nearly everyone accepted
    manifest["threshold"]["review_band"] = None
    manifest["model_id"] = _content_id(manifest)
    (bundle / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="has changed since the bundle was released"):
        Scorer.load(bundle, (public,))


def test_untrusted_or_forged_signatures_are_refused(
    bundle: Path, keys: tuple[Path, bytes], tmp_path: Path
) -> None:
    private, public = keys
    other_private, _, _ = keygen(tmp_path / "other")
    release(bundle, other_private, releaser="someone else")
    with pytest.raises(BundleError, match="not a trusted release key"):
        check_release(bundle, (public,))
    release(bundle, private, releaser="jane")
    signature = json.loads((bundle / SIGNATURE_FILE).read_text())
    signature["releaser"] = "the CEO"
    (bundle / SIGNATURE_FILE).write_text(json.dumps(signature))
    with pytest.raises(BundleError, match="does not verify"):
        check_release(bundle, (public,))
    (bundle / SIGNATURE_FILE).write_text("{not json")
    with pytest.raises(BundleError, match="not a credit-tui release signature"):
        check_release(bundle, (public,))


def test_tampered_bundle_is_never_signed(bundle: Path, keys: tuple[Path, bytes]) -> None:
    (bundle / "model.ubj").write_bytes(b"x" + (bundle / "model.ubj").read_bytes()[1:])
    with pytest.raises(BundleError, match="changed"):
        release(bundle, keys[0])
    assert not (bundle / SIGNATURE_FILE).exists()


def test_config_file_values_are_checked(tmp_path: Path) -> None:
    ok = _config(tmp_path, b"k" * 32, extra='[audit]\ndb = "postgresql://a@h/db"\nfour_eyes_pd = 0.35\n')
    settings = load_settings(ok)
    assert settings.trusted_keys == (b"k" * 32,) and settings.four_eyes_pd == 0.35
    assert settings.audit_db == "postgresql://a@h/db"
    bad = {
        "[release]\ntrusted_keys = ['c2hvcnQ=']\n": "not an Ed25519 public key",
        "[audit]\nfour_eyes_pd = 1.5\n": "between 0 and 1",
        '[audit]\ndb = "a\\u001b[2Jb"\n': "control characters",
        "[release\n": "cannot be read as TOML",
    }
    for text, message in bad.items():
        path = tmp_path / "bad.toml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=message) as info:
            load_settings(path)
        assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")


def test_demo_key_is_trusted_for_the_bundled_demo_only(bundle: Path) -> None:
    demo_keys = trusted_keys_for(DEMO_MODEL, ())
    assert len(demo_keys) == 1
    found = check_release(DEMO_MODEL, demo_keys)
    assert found is not None and "DEMO-ONLY" in found.releaser
    assert trusted_keys_for(bundle, ()) == ()
    demo_private = (
        Path(__file__).resolve().parent.parent / "scripts" / "DEMO-ONLY-release-key" / "release-key.pem"
    )
    release(bundle, demo_private)  # anyone can sign with the committed demo key...
    other = (b"o" * 32,)
    with pytest.raises(BundleError, match="not a trusted release key"):  # ...which a bank never trusts
        check_release(bundle, trusted_keys_for(bundle, other))


def _trainer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str]:
    """Run ``trainer ARGS`` in this process; return the exit code and what it printed (stderr, stdout)."""
    from trainer.cli import main

    capsys.readouterr()
    monkeypatch.setattr("sys.argv", ["trainer", *args])
    try:
        main()
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def test_trainer_cli_keygen_release_and_predict_policy(
    bundle: Path,
    synth_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _trainer(capsys, monkeypatch, "keygen", "--out", str(tmp_path / "mr"))[0] == 0
    public = read_public_key(tmp_path / "mr" / "release-key.pub")
    monkeypatch.setenv("CREDIT_TUI_CONFIG", str(_config(tmp_path, public)))
    out = tmp_path / "pred.csv"
    predict = ("predict", "--model", str(bundle), "--data", str(synth_dir), "--out", str(out))
    code, err = _trainer(capsys, monkeypatch, *predict)
    assert code == 2 and "is not released" in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()
    key = str(tmp_path / "mr" / "release-key.pem")
    assert _trainer(capsys, monkeypatch, "release", "--model", str(bundle), "--key", key)[0] == 0
    code, err = _trainer(capsys, monkeypatch, *predict)
    assert code == 0 and out.is_file() and "UNRELEASED" not in err
    monkeypatch.setenv("CREDIT_TUI_CONFIG", str(_config(tmp_path)))  # no trusted keys
    (bundle / SIGNATURE_FILE).unlink()
    client = (synth_dir / "application_test.csv").read_text().splitlines()[1].split(",")[0]
    code, text = _trainer(
        capsys, monkeypatch, "explain", "--model", str(bundle), "--data", str(synth_dir), "--client", client
    )
    assert code == 0 and "UNRELEASED MODEL" in text, text


def test_letter_command_marks_a_model_no_trusted_key_released(
    bundle: Path,
    keys: tuple[Path, bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from credit_tui.audit import AuditStore, input_row_hash
    from credit_tui.letter_cli import letter_main
    from trainer.bundle import verify_bundle

    db = tmp_path / "audit.sqlite3"
    with AuditStore(db) as store:
        store.record(
            advisor="alice",
            client_id=100001,
            bundle_id=verify_bundle(bundle).model_id,
            threshold=0.3,
            pd=0.1,
            model_decision="ACCEPT",
            final_decision="ACCEPT",
            input_hash=input_row_hash({"SK_ID_CURR": 100001}),
        )

    def letter(*extra: str) -> tuple[str, str]:
        out = tmp_path / f"letters{len(list(tmp_path.glob('letters*')))}"
        out.mkdir()
        capsys.readouterr()
        argv = ["--client", "100001", "--audit-db", str(db), "--out", str(out), *extra]
        assert letter_main(argv) == 0, capsys.readouterr().err
        return next(out.glob("*.md")).read_text(encoding="utf-8"), capsys.readouterr().out

    monkeypatch.setenv("CREDIT_TUI_CONFIG", str(_config(tmp_path)))  # no trusted keys
    text, said = letter("--model", str(bundle))
    assert "UNRELEASED MODEL" in text and "not signed by a trusted release key" in said
    text, said = letter()  # the demo is not the record's bundle: its release cannot be checked
    assert "UNRELEASED MODEL" in text and "was not checked" in said
    private, public = keys
    release(bundle, private)
    monkeypatch.setenv("CREDIT_TUI_CONFIG", str(_config(tmp_path, public)))
    text, said = letter("--model", str(bundle))
    assert "UNRELEASED" not in text and "UNRELEASED" not in said
