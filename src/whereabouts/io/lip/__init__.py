"""TETRA Location Information Protocol (ETSI TS 100 392-18-1): codec and log reader.

`encode_short` / `encode_long` write PDUs, `decode_pdus` reads every field of a column of
PDUs, `read_lip` reads a log (issi, received_at, pdu_hex) into canonical fixes. See
`whereabouts.io.lip.decode` for where public decoders disagree and what we follow.
"""

from whereabouts.io.lip.decode import decode_pdus
from whereabouts.io.lip.encode import encode_long, encode_short
from whereabouts.io.lip.reader import read_lip

__all__ = ["decode_pdus", "encode_long", "encode_short", "read_lip"]
