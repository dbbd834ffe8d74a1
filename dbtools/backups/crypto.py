"""Streamed encryption of backup files: AES-256-GCM in 1 MiB chunks, never the whole file in memory.

File layout: MAGIC | salt (16) | key check (16) | nonce prefix (8) | chunks. Each chunk is a 4-byte big-endian
length and the sealed bytes; its nonce is the prefix plus a 4-byte counter, and its associated data says
whether it is the last chunk, so a truncated or reordered file fails authentication instead of restoring short.
The file key is scrypt(BACKUP_ENCRYPTION_KEY, salt); the key check is an HMAC of it, so a wrong key is named as
such before any data is touched.
"""

import hashlib
import hmac
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from dbtools.backups.errors import BackupError

MAGIC = b"PGDKENC1"
CHUNK = 1 << 20
HEADER_LEN = len(MAGIC) + 16 + 16 + 8
LAST, MORE = b"pgdeck-last", b"pgdeck-more"


def _file_key(secret, salt):
    if not secret:
        raise BackupError("BACKUP_ENCRYPTION_KEY is not set: it is needed to encrypt or decrypt backups")
    return Scrypt(salt=salt, length=32, n=2**14, r=8, p=1).derive(secret.encode())


def _key_check(key):
    return hmac.new(key, b"pgdeck-backup-key-check", hashlib.sha256).digest()[:16]


def is_encrypted(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(len(MAGIC)) == MAGIC
    except (IsADirectoryError, FileNotFoundError):
        return False


class Encryptor:
    """enc = Encryptor(secret); out = enc.header + enc.update(b) + … + enc.finalize()."""

    def __init__(self, secret):
        salt = os.urandom(16)
        key = _file_key(secret, salt)
        self._aead = AESGCM(key)
        self._prefix = os.urandom(8)
        self._counter = 0
        self._buffer = bytearray()
        self.header = MAGIC + salt + _key_check(key) + self._prefix

    def _seal(self, data, last):
        nonce = self._prefix + struct.pack(">I", self._counter)
        self._counter += 1
        sealed = self._aead.encrypt(nonce, bytes(data), LAST if last else MORE)
        return struct.pack(">I", len(sealed)) + sealed

    def update(self, data):
        self._buffer += data
        out = []
        while len(self._buffer) > CHUNK:  # keep at least one byte back so the last chunk is never empty-and-late
            out.append(self._seal(self._buffer[:CHUNK], last=False))
            del self._buffer[:CHUNK]
        return b"".join(out)

    def finalize(self):
        data, self._buffer = self._buffer, bytearray()
        return self._seal(data, last=True)


def decrypt_chunks(handle, secret):
    """Yield the plaintext of an encrypted file object chunk by chunk; BackupError on a wrong key or damage."""
    header = handle.read(HEADER_LEN)
    if len(header) < HEADER_LEN or not header.startswith(MAGIC):
        raise BackupError("not a pgdeck encrypted backup (bad header)")
    salt, check, prefix = header[8:24], header[24:40], header[40:48]
    key = _file_key(secret, salt)
    if not hmac.compare_digest(_key_check(key), check):
        raise BackupError("wrong encryption key: this backup was encrypted with a different BACKUP_ENCRYPTION_KEY")
    aead, counter = AESGCM(key), 0
    while True:
        size = handle.read(4)
        if len(size) < 4:
            raise BackupError("encrypted backup is truncated (its last chunk is missing)")
        (length,) = struct.unpack(">I", size)
        sealed = handle.read(length)
        nonce = prefix + struct.pack(">I", counter)
        counter += 1
        try:
            yield aead.decrypt(nonce, sealed, MORE)
            continue
        except InvalidTag:
            pass
        try:
            yield aead.decrypt(nonce, sealed, LAST)
        except InvalidTag:
            raise BackupError("encrypted backup is corrupted or truncated (chunk authentication failed)") from None
        if handle.read(1):
            raise BackupError("encrypted backup has data after its last chunk (corrupted)")
        return
