"""The token: sent as a bearer token when given or in LOOM_TOKEN; refusals without one or with a wrong one."""
import pytest

from loom_client import Client, LoomError


def test_no_token_and_a_wrong_token_are_refused(server_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOOM_TOKEN", raising=False)
    for token in (None, "loom_pat_not-a-real-token"):
        with pytest.raises(LoomError) as error:
            Client(server_url, token=token).models()
        assert (error.value.status, error.value.code) == (401, "UNAUTHENTICATED")
        assert error.value.fix


def test_the_token_from_the_environment(server_url: str, token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOM_TOKEN", token)
    assert list(Client(server_url).models().name) == ["flights"]


def test_an_unreachable_server_and_a_bad_url(server_url: str) -> None:
    with pytest.raises(LoomError) as down:
        Client("http://127.0.0.1:9", timeout=5).models()
    assert down.value.code == "UNAVAILABLE" and down.value.status is None
    with pytest.raises(LoomError) as bad:
        Client("127.0.0.1:5000")
    assert bad.value.code == "INVALID_ARGUMENT"
