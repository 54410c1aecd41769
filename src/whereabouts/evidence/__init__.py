"""Evidence the other side can check: a sealed, signed bundle of a case (BagIt + in-toto),
an offline verifier that re-runs it, and the method-validation report.

    from whereabouts.evidence import make_bundle, BundleOptions, verify_bundle, new_key
"""

from whereabouts.evidence.bundle import BundleOptions, BundleResult, make_bundle
from whereabouts.evidence.keys import load_private, load_public, new_key
from whereabouts.evidence.verify import Verification, verify_bundle

__all__ = [
    "BundleOptions",
    "BundleResult",
    "Verification",
    "load_private",
    "load_public",
    "make_bundle",
    "new_key",
    "verify_bundle",
]
