"""ccm.audit: the append-only, hash-chained, Ed25519-signed audit log.

Usage (``store`` open)::

    from ccm.audit import AuditLog, load_signer
    log = AuditLog(store, load_signer())   # key from CCM_AUDIT_KEY / CCM_AUDIT_KEY_FILE
"""

from ccm.audit.canonical import canonical_json, digest
from ccm.audit.export import export_file, export_jsonl
from ccm.audit.keys import KEY_ENV, KEY_FILE_ENV, Signer, load_signer, read_public_key
from ccm.audit.log import SYSTEM, Actor, AuditLog, entries_about
from ccm.audit.redact import Redactor, looks_secret
from ccm.audit.verify import VerifyReport, verify_entries, verify_file, verify_store

__all__ = [
    "KEY_ENV", "KEY_FILE_ENV", "SYSTEM", "Actor", "AuditLog", "Redactor", "Signer",
    "VerifyReport", "canonical_json", "digest", "entries_about", "export_file", "export_jsonl",
    "load_signer", "looks_secret", "read_public_key", "verify_entries", "verify_file",
    "verify_store",
]
