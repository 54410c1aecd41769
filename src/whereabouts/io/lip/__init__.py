"""TETRA Location Information Protocol (ETSI TS 100 392-18-1): codec and log reader.

See `decode` for the decoder and its notes on where public decoders disagree.
"""

from whereabouts.io.lip.encode import encode_long, encode_short

__all__ = ["encode_long", "encode_short"]
