"""RFC 3161 timestamps from a real local authority (`openssl ts -reply` over HTTP), checked
offline: the token holds for the data it was made over, and fails for changed data, a
changed token, or a root the authority does not chain to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tsa import Authority, local_tsa
from whereabouts.evidence.timestamp import TimestampError, request_timestamp, verify_timestamp


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Authority]:
    with local_tsa(tmp_path_factory.mktemp("tsa")) as authority:
        yield authority


DATA = b"0123abcd  data/outputs/run/occasions.parquet\n"


def test_token_from_a_local_authority_verifies_offline(tsa: Authority) -> None:
    token = request_timestamp(tsa.url, DATA)
    info = verify_timestamp(token, DATA, [tsa.root.read_bytes()])
    assert "Test Timestamp Authority" in info.authority
    assert info.time.year >= 2024
    with pytest.raises(TimestampError, match="no root certificate"):
        verify_timestamp(token, DATA)


def test_changed_data_or_token_or_wrong_root_fails(tsa: Authority) -> None:
    token = request_timestamp(tsa.url, DATA)
    with pytest.raises(TimestampError, match="not over this tag manifest"):
        verify_timestamp(token, DATA.replace(b"0", b"1", 1), [tsa.root.read_bytes()])
    with pytest.raises(TimestampError):
        verify_timestamp(token, DATA, [tsa.other_root.read_bytes()])
    damaged = bytearray(token)
    damaged[len(damaged) // 2] ^= 0x01
    with pytest.raises(TimestampError):
        verify_timestamp(bytes(damaged), DATA, [tsa.root.read_bytes()])


def test_an_authority_that_does_not_answer_is_named(tmp_path: Path) -> None:
    with pytest.raises(TimestampError, match="did not answer"):
        request_timestamp("http://127.0.0.1:9/", DATA)
    with pytest.raises(TimestampError, match="http"):
        request_timestamp("ftp://tsa.example/", DATA)
