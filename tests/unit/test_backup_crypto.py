"""dbtools/backups/crypto.py: the file format, a wrong key, truncation and tampering (no database)."""

import io
import struct

import pytest

from dbtools.backups import crypto
from dbtools.backups.crypto import CHUNK, HEADER_LEN, MAGIC, Encryptor, decrypt_chunks, is_encrypted
from dbtools.backups.errors import BackupError

KEY = "correct horse battery staple"


def encrypt(data, key=KEY, pieces=1):
    enc = Encryptor(key)
    out = bytearray(enc.header)
    step = max(1, len(data) // pieces)
    for start in range(0, len(data), step):
        out += enc.update(data[start:start + step])
    out += enc.finalize()
    return bytes(out)


def decrypt(blob, key=KEY):
    return b"".join(decrypt_chunks(io.BytesIO(blob), key))


def chunk_lengths(blob):
    lengths, at = [], HEADER_LEN
    while at < len(blob):
        (length,) = struct.unpack(">I", blob[at:at + 4])
        lengths.append(length)
        at += 4 + length
    assert at == len(blob)
    return lengths


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 17])
def test_round_trip_at_chunk_edges(size):
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    blob = encrypt(data, pieces=3)
    assert decrypt(blob) == data


def test_format_magic_header_and_chunks():
    blob = encrypt(b"x" * (CHUNK + 5))
    assert blob.startswith(MAGIC) and len(MAGIC) == 8 and HEADER_LEN == 48
    # chunks of at most 1 MiB of plaintext, each sealed with a 16-byte GCM tag; the last one is never empty-late
    assert chunk_lengths(blob) == [CHUNK + 16, 5 + 16]
    assert chunk_lengths(encrypt(b"")) == [16]
    assert b"x" * 64 not in blob


def test_each_file_has_its_own_salt_and_nonces():
    first, second = encrypt(b"same"), encrypt(b"same")
    assert first[8:24] != second[8:24] and first[40:48] != second[40:48] and first != second


def test_is_encrypted(tmp_path):
    sealed, plain = tmp_path / "a.enc", tmp_path / "a.dump"
    sealed.write_bytes(encrypt(b"data"))
    plain.write_bytes(b"PGDMP...")
    assert is_encrypted(sealed) and not is_encrypted(plain)
    assert not is_encrypted(tmp_path) and not is_encrypted(tmp_path / "missing")


def test_wrong_key_is_named_before_any_data():
    blob = encrypt(b"secret rows")
    with pytest.raises(BackupError, match="wrong encryption key"):
        next(decrypt_chunks(io.BytesIO(blob), "another key"))


def test_no_key_is_refused_both_ways():
    with pytest.raises(BackupError, match="BACKUP_ENCRYPTION_KEY is not set"):
        Encryptor("")
    with pytest.raises(BackupError, match="BACKUP_ENCRYPTION_KEY is not set"):
        decrypt(encrypt(b"data"), key="")


def test_bad_header():
    with pytest.raises(BackupError, match="bad header"):
        decrypt(b"PGDMP" + b"\0" * 100)
    with pytest.raises(BackupError, match="bad header"):
        decrypt(MAGIC + b"\0" * 10)


def test_truncation_at_a_chunk_boundary_is_detected():
    """A file cut after a whole chunk would otherwise restore short: the missing last chunk is an error."""
    blob = encrypt(b"y" * (2 * CHUNK + 3))
    first = chunk_lengths(blob)[0]
    cut = blob[:HEADER_LEN + 4 + first]
    with pytest.raises(BackupError, match="truncated"):
        decrypt(cut)
    with pytest.raises(BackupError, match="truncated"):
        decrypt(blob[:HEADER_LEN])


@pytest.mark.parametrize("cut", [1, 17, 1000])
def test_truncation_inside_a_chunk_is_detected(cut):
    blob = encrypt(b"z" * (CHUNK + 100))
    with pytest.raises(BackupError, match="corrupted or truncated"):
        decrypt(blob[:-cut])


def test_flipped_bit_reordered_chunks_and_trailing_data_are_detected():
    blob = bytearray(encrypt(b"w" * (2 * CHUNK + 1)))
    flipped = bytearray(blob)
    flipped[HEADER_LEN + 10] ^= 1
    with pytest.raises(BackupError, match="corrupted"):
        decrypt(bytes(flipped))
    lengths = chunk_lengths(bytes(blob))
    first_end = HEADER_LEN + 4 + lengths[0]
    second_end = first_end + 4 + lengths[1]
    swapped = blob[:HEADER_LEN] + blob[first_end:second_end] + blob[HEADER_LEN:first_end] + blob[second_end:]
    with pytest.raises(BackupError, match="corrupted"):
        decrypt(bytes(swapped))
    with pytest.raises(BackupError, match="data after its last chunk"):
        decrypt(bytes(blob) + b"extra")


def test_key_derivation_is_scrypt_of_the_setting_and_the_salt():
    blob = encrypt(b"k")
    salt, check = blob[8:24], blob[24:40]
    assert crypto._key_check(crypto._file_key(KEY, salt)) == check
    assert crypto._key_check(crypto._file_key(KEY + "x", salt)) != check
