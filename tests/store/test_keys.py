"""store/: API keys — made once, stored as digests, verified without ever raising."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

import content_engine.store.credentials as credentials_module
from content_engine.core.errors import InputError, NotFound
from content_engine.store import ROLES, KeyInfo, Repository, keys
from content_engine.store.tables import ApiKey

KEY_FORMAT = re.compile(r"ce_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    repository = Repository(db_url)
    yield repository
    repository.close()


def test_roles_in_order_of_privilege() -> None:
    assert ROLES == ("reader", "agent", "editor", "admin")


def test_create_then_verify(repo: Repository) -> None:
    info, plaintext = repo.create_key("editor", "Anna's laptop")

    assert KEY_FORMAT.fullmatch(plaintext)
    assert plaintext.startswith(f"ce_{info.id}_")
    assert (info.role, info.name, info.revoked_at, info.revoked) == (
        "editor",
        "Anna's laptop",
        None,
        False,
    )
    assert repo.verify_key(plaintext) == info
    assert repo.list_keys() == [info]
    assert repo.revision() == 0  # keys are not library content


@pytest.mark.parametrize("role", ROLES)
def test_every_role_can_have_keys(repo: Repository, role: str) -> None:
    info, plaintext = repo.create_key(role)
    assert info.role == role
    assert info.name == ""
    assert repo.verify_key(plaintext) == info


def test_unknown_role_is_refused(repo: Repository) -> None:
    with pytest.raises(InputError) as info:
        repo.create_key("root")
    assert info.value.details == {"role": "root", "roles": list(ROLES)}
    assert repo.list_keys() == []


def test_key_info_carries_no_secret() -> None:
    assert set(KeyInfo.model_fields) == {
        "id",
        "name",
        "role",
        "created_at",
        "revoked_at",
        "last_used_at",
    }


def test_the_plaintext_is_never_stored(repo: Repository) -> None:
    info, plaintext = repo.create_key("admin", "ops")
    secret = plaintext.removeprefix(f"ce_{info.id}_")

    with repo.engine.connect() as conn:
        row = conn.execute(select(ApiKey.__table__)).one()

    assert len(row.secret_hash) == 64
    for value in row:
        assert secret not in str(value)
        assert plaintext not in str(value)


def test_keys_list_in_creation_order_across_repositories(db_url: str) -> None:
    with Repository(db_url) as maker, Repository(db_url) as server:
        first, _ = maker.create_key("reader", "one")
        second, plaintext = maker.create_key("agent", "two")

        assert server.list_keys() == [first, second]
        assert server.verify_key(plaintext) == second


def test_wrong_secret_is_refused(repo: Repository) -> None:
    info, plaintext = repo.create_key("editor")
    other_info, other = repo.create_key("editor")
    flipped = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
    # The right id with another key's secret, and an unknown id with a right secret.
    swapped = f"ce_{info.id}_{other.removeprefix(f'ce_{other_info.id}_')}"
    unknown_id = f"ce_{'0' * 12}_{plaintext.removeprefix(f'ce_{info.id}_')}"

    assert repo.verify_key(flipped) is None
    assert repo.verify_key(swapped) is None
    assert repo.verify_key(unknown_id) is None
    assert repo.verify_key(plaintext) == info


MALFORMED = {
    "empty": "",
    "prefix only": "ce_",
    "no underscore": "ce0123456789ab",
    "junk 10 kB": "x" * 10_000,
    "underscores 10 kB": "ce_" + "_" * 10_000,
    "non-ASCII": "ce_äöü_ключ🔑",
    "NUL": "ce_\x00",
    "bearer prefix": "Bearer ce_0123456789ab_" + "a" * 43,
}


@pytest.mark.parametrize("presented", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_keys_are_none_not_errors(repo: Repository, presented: str) -> None:
    repo.create_key("admin")
    assert repo.verify_key(presented) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda k: k + "x",
        lambda k: k[:-1],
        lambda k: k + "\n",
        lambda k: " " + k,
        lambda k: k.upper(),
        lambda k: k[:-1] + "é",  # the right length, one non-ASCII character
        lambda k: k[:-1] + "\u0663",  # ARABIC-INDIC DIGIT THREE: a digit, but not an ASCII one
        lambda k: "CE" + k[2:],
        lambda k: k[:15] + "-" + k[16:],  # the separator after the id replaced
    ],
)
def test_near_misses_of_a_real_key_are_none(repo: Repository, mangle: Callable[[str], str]) -> None:
    _, plaintext = repo.create_key("admin")
    presented = mangle(plaintext)
    assert presented != plaintext
    assert repo.verify_key(presented) is None


def test_revoked_keys_stop_working(repo: Repository) -> None:
    info, plaintext = repo.create_key("agent", "ci")
    kept, kept_plaintext = repo.create_key("agent", "other")

    revoked = repo.revoke_key(info.id)

    assert revoked.revoked_at is not None
    assert revoked.revoked
    assert revoked.model_copy(update={"revoked_at": None}) == info
    assert repo.verify_key(plaintext) is None
    assert repo.verify_key(kept_plaintext) == kept
    assert repo.list_keys() == [revoked, kept]
    assert repo.revoke_key(info.id) == revoked  # idempotent: the first revocation time stays
    assert repo.revision() == 0


def test_revoking_an_unknown_key_is_not_found(repo: Repository) -> None:
    with pytest.raises(NotFound):
        repo.revoke_key("0123456789ab")


def test_a_clashing_key_id_is_retried(repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = repo.create_key("reader")
    ids = iter([first.id, "b" * 12])

    def clashing_new_key() -> tuple[str, str]:
        key_id = next(ids)
        _, plaintext = keys.new_key()
        return key_id, f"ce_{key_id}_{plaintext[16:]}"

    monkeypatch.setattr(credentials_module, "new_key", clashing_new_key)
    second, plaintext = repo.create_key("editor")

    assert second.id == "b" * 12
    assert repo.verify_key(plaintext) == second
    assert [k.id for k in repo.list_keys()] == [first.id, second.id]
