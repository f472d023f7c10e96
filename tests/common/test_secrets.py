"""Secrets at rest: Fernet round trips, key rotation, wrong keys, derived keys, and masking."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet

from engine.common.secrets import Redacted, SecretBox, SecretError, box_for, key_from_secret, mask, new_key

API_SECRET = "s3cr3t-API-value-0123456789abcdef"


def test_round_trip_and_the_token_hides_the_plaintext() -> None:
    box = SecretBox([new_key()])
    token = box.encrypt(API_SECRET)
    assert box.decrypt(token) == API_SECRET
    assert API_SECRET not in token
    assert "s3cr3t" not in token
    assert box.encrypt(API_SECRET) != token  # a fresh IV each time: equal secrets do not show as equal
    assert box.decrypt(box.encrypt("ünïcode ✓")) == "ünïcode ✓"


def test_rotation_new_key_encrypts_old_key_still_decrypts() -> None:
    old, new = new_key(), new_key()
    old_token = SecretBox([old]).encrypt(API_SECRET)
    rotated = SecretBox([new, old])
    assert rotated.decrypt(old_token) == API_SECRET
    new_token = rotated.encrypt(API_SECRET)
    assert SecretBox([new]).decrypt(new_token) == API_SECRET
    with pytest.raises(SecretError):
        SecretBox([old]).decrypt(new_token)
    # Re-keying a stored token makes it readable without the old key.
    assert SecretBox([new]).decrypt(rotated.rotate(old_token)) == API_SECRET


@pytest.mark.parametrize("token", ["made-with-another-key", "garbage", "", "gAAAAA"])
def test_a_wrong_key_or_damaged_token_raises_secret_error(token: str) -> None:
    if token == "made-with-another-key":
        token = SecretBox([new_key()]).encrypt(API_SECRET)
    with pytest.raises(SecretError, match="another key"):
        SecretBox([new_key()]).decrypt(token)


def test_tampered_token_is_refused() -> None:
    box = SecretBox([new_key()])
    token = box.encrypt(API_SECRET)
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(SecretError):
        box.decrypt(tampered)


@pytest.mark.parametrize("keys", [[], ["not-a-key"], "a-single-string"])
def test_bad_keys_are_refused(keys: object) -> None:
    with pytest.raises(SecretError):
        SecretBox(keys)  # type: ignore[arg-type]


def test_key_from_secret_is_deterministic_and_a_valid_fernet_key() -> None:
    key = key_from_secret("test-secret-key-that-is-long-enough")
    assert key == key_from_secret("test-secret-key-that-is-long-enough")
    assert key != key_from_secret("test-secret-key-that-is-long-enougH")
    Fernet(key)  # raises if malformed
    token = SecretBox([key]).encrypt(API_SECRET)
    assert SecretBox([key_from_secret("test-secret-key-that-is-long-enough")]).decrypt(token) == API_SECRET
    assert "test-secret-key" not in key
    with pytest.raises(SecretError):
        key_from_secret("")


def test_box_for_prefers_configured_keys_over_the_derived_one() -> None:
    configured = new_key()
    token = box_for([configured], "app-secret").encrypt(API_SECRET)
    assert SecretBox([configured]).decrypt(token) == API_SECRET
    derived_token = box_for(None, "app-secret").encrypt(API_SECRET)
    assert SecretBox([key_from_secret("app-secret")]).decrypt(derived_token) == API_SECRET


def test_new_keys_differ() -> None:
    assert new_key() != new_key()


def test_mask_and_redacted_show_only_the_last_four(caplog: pytest.LogCaptureFixture) -> None:
    assert mask(API_SECRET) == "****cdef"
    assert mask("short") == "****"
    assert mask("") == ""
    assert mask(None) == ""
    secret = Redacted(API_SECRET)
    assert secret.value == API_SECRET
    assert secret == API_SECRET
    assert str(secret) == "****cdef"
    assert f"{secret}" == "****cdef"
    assert "s3cr3t" not in repr(secret)
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("api secret %s", secret)
    assert "s3cr3t" not in caplog.text
    assert "****cdef" in caplog.text
