"""A TLS cluster with certificates made here: remnant runs on it byte for byte as locally; strangers are refused.

Everything listens and connects on 127.0.0.1 only.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from pathlib import Path

import dask
import distributed
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from distributed.security import Security

from simulator.errors import InputError
from simulator.pipeline.dask_backend import scheduler_security
from tests.conftest import write_tiny

COMPARED_SUFFIXES = (".tif", ".csv")
CONNECT_TIMEOUT = "5s"


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _builder(subject: str, issuer: str, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer)).public_key(public_key)
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))


def _write(folder: Path, stem: str, cert: x509.Certificate, key) -> tuple[Path, Path]:
    cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def make_ca(folder: Path, stem: str):
    """A self-signed CA: (certificate, key, certificate path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False)
    cert = (_builder(stem, stem, key.public_key()).add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
            .add_extension(usage, critical=True).sign(key, hashes.SHA256()))
    return cert, key, _write(folder, stem, cert, key)[0]


def make_leaf(folder: Path, stem: str, ca) -> tuple[Path, Path]:
    """A certificate for ``stem`` (server and client use, 127.0.0.1) signed by ``ca``: (cert path, key path)."""
    ca_cert, ca_key, _ = ca
    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    issuer = ca_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    cert = (_builder(stem, issuer, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return _write(folder, stem, cert, key)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """The cluster's CA with certificates for the cluster and for remnant, and a stranger's CA and certificate."""
    folder = tmp_path_factory.mktemp("pki")
    ca = make_ca(folder, "cluster-ca")
    stranger_ca = make_ca(folder, "stranger-ca")
    return {"ca": ca[2], "cluster": make_leaf(folder, "cluster", ca), "client": make_leaf(folder, "client", ca),
            "stranger": make_leaf(folder, "stranger", stranger_ca)}


@pytest.fixture(scope="module")
def tls_cluster(pki):
    cert, key = pki["cluster"]
    security = Security(tls_ca_file=str(pki["ca"]), tls_scheduler_cert=str(cert), tls_scheduler_key=str(key),
                        tls_worker_cert=str(cert), tls_worker_key=str(key), tls_client_cert=str(cert),
                        tls_client_key=str(key), require_encryption=True)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  protocol="tls://", security=security, dashboard_address="127.0.0.1:0",
                                  scheduler_kwargs={"dashboard": False}) as cluster:
        yield cluster


@pytest.mark.slow
def test_a_run_on_a_tls_cluster_is_byte_identical_to_a_local_run(tls_cluster, pki, tmp_path, remnant):
    address = tls_cluster.scheduler_address
    assert address.startswith("tls://127.0.0.1:")
    scenario = write_tiny(tmp_path)
    cert, key = pki["client"]
    code, _, err = remnant("run", scenario, "--out", tmp_path / "tls", "--quiet", "--scheduler", address,
                           "--tls-ca-file", pki["ca"], "--tls-cert", cert, "--tls-key", key)
    assert code == 0, err
    code, _, err = remnant("run", scenario, "--out", tmp_path / "local", "--quiet")
    assert code == 0, err
    compared = sorted(p.name for p in (tmp_path / "local").iterdir() if p.suffix in COMPARED_SUFFIXES)
    assert {"density.tif", "p_contaminated.tif", "hazardous_area.csv"} <= set(compared)
    for name in compared:
        assert (tmp_path / "tls" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name


@pytest.mark.slow
def test_a_client_without_the_clusters_certificate_is_refused(tls_cluster, pki):
    address = tls_cluster.scheduler_address
    host, port = address.removeprefix("tls://").rsplit(":", 1)
    # a TLS client that trusts the cluster's CA but shows no certificate: the scheduler ends the handshake
    context = ssl.create_default_context(cafile=str(pki["ca"]))
    context.check_hostname = False
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            with context.wrap_socket(raw) as tls:
                tls.sendall(b"\0" * 8)
                if not tls.recv(1):  # TLS 1.3 reports a refused client certificate on the first read
                    raise ConnectionError("closed by the scheduler")
    # a Dask client with a certificate from another CA, and one speaking plain TCP
    cert, key = pki["stranger"]
    stranger = Security(tls_ca_file=str(pki["ca"]), tls_client_cert=str(cert), tls_client_key=str(key),
                        require_encryption=True)
    with pytest.raises(OSError):
        distributed.Client(address, security=stranger, timeout=CONNECT_TIMEOUT)
    with pytest.raises(OSError):
        distributed.Client(f"tcp://{host}:{port}", timeout=CONNECT_TIMEOUT)


def test_a_certificate_with_the_wrong_key_is_one_line_before_connecting(pki, tmp_path, remnant):
    scenario = write_tiny(tmp_path)
    cert, _ = pki["client"]
    _, stranger_key = pki["stranger"]
    code, out, err = remnant("run", scenario, "--out", tmp_path / "o", "--scheduler", "tls://127.0.0.1:9",
                             "--tls-ca-file", pki["ca"], "--tls-cert", cert, "--tls-key", stranger_key)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--tls-cert" in err and "cannot be loaded with its key" in err
    assert not (tmp_path / "o").exists()


def test_certificates_may_come_from_dasks_configuration(pki):
    cert, key = pki["client"]
    config = {"distributed.comm.tls.ca-file": str(pki["ca"]), "distributed.comm.tls.client.cert": str(cert),
              "distributed.comm.tls.client.key": str(key)}
    with dask.config.set(config):
        security = scheduler_security("tls://127.0.0.1:9", dict.fromkeys(("tls_ca_file", "tls_client_cert",
                                                                         "tls_client_key")), insecure=False)
        assert security.require_encryption
        assert (security.tls_ca_file, security.tls_client_cert) == (str(pki["ca"]), str(cert))
        with pytest.raises(InputError, match=r"distributed\.comm\.tls\.client\.cert \(Dask configuration\)"):
            with dask.config.set({"distributed.comm.tls.client.cert": str(pki["ca"].parent / "missing.pem")}):
                scheduler_security("tls://127.0.0.1:9", {}, insecure=False)
