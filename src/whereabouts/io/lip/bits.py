"""Hex strings <-> nibble matrices, and bit fields read or written over whole columns.

A column of PDUs of one hex length becomes an (n, L) uint8 matrix of nibbles; a field of
`width` bits at bit offset `off` (a scalar, or one offset per row) is gathered from the few
nibble columns that hold it and shifted into place. No Python loop runs per PDU or per bit.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

BAD_NIBBLE = 255
PAD_NIBBLES = 10  # zero columns appended so fields read past a short PDU stay in bounds

_LUT = np.full(256, BAD_NIBBLE, np.uint8)
for _i, _c in enumerate(b"0123456789ABCDEF"):
    _LUT[_c] = _i
for _i, _c in enumerate(b"abcdef"):
    _LUT[_c] = 10 + _i
_HEX = np.frombuffer(b"0123456789ABCDEF", np.uint8)


def string_bytes(strings: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes and int64 offsets (n + 1) of a string array, without copying rows."""
    arr = strings.cast(pa.large_string()) if strings.type != pa.large_string() else strings
    _, offs_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offs_buf, np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(data_buf, np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    return data, offsets


def nibble_matrix(data: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """Rows of `length` hex characters starting at `starts` in `data`, as nibbles.

    Returned transposed, shape (length + pad, n): nibble j of every PDU is one contiguous
    row, so fields are read with contiguous vector operations. Characters that are not hex
    digits become BAD_NIBBLE.
    """
    n = len(starts)
    out = np.zeros((length + PAD_NIBBLES, n), np.uint8)
    if n == 0 or length == 0:
        return out
    if n == 1 or bool(np.all(np.diff(starts) == length)):  # one run of equal-length PDUs
        rows = data[starts[0] : starts[0] + n * length].reshape(n, length)
    else:  # every window of `length` bytes as a view; picking rows copies `length` bytes each
        rows = np.lib.stride_tricks.sliding_window_view(data, length)[starts]
    out[:length] = _LUT[rows].T
    return out


def read_bits(nib: np.ndarray, off: int | np.ndarray, width: int) -> np.ndarray:
    """The unsigned `width`-bit field (width <= 25) at bit offset `off` of every PDU.

    `nib` is a transposed nibble matrix (see `nibble_matrix`); `off` a scalar or one offset
    per PDU. At most 7 nibbles hold a field, so a uint32 accumulator suffices.
    """
    cols, n = nib.shape
    mask = np.uint32((1 << width) - 1)
    if not isinstance(off, np.ndarray) or off.ndim == 0:
        o = int(off)
        q, r = divmod(o, 4)
        k = (r + width + 3) // 4
        acc = np.zeros(n, np.uint32)
        for j in range(k):  # at most 7 nibble rows, never a loop over PDUs
            acc <<= np.uint32(4)
            acc |= nib[min(q + j, cols - 1)]
        return ((acc >> np.uint32(4 * k - r - width)) & mask).astype(np.int32)
    offs: np.ndarray = np.asarray(off, np.int64)
    if n and offs.min() == offs.max():
        return read_bits(nib, int(offs[0]), width)
    qa = offs >> 2
    ra = offs & 3
    k = (3 + width + 3) // 4
    cols_idx = np.arange(n)
    acc = np.zeros(n, np.uint32)
    for j in range(k):
        acc <<= np.uint32(4)
        acc |= nib[np.minimum(qa + j, cols - 1), cols_idx]
    shifts = (4 * k - ra - width).astype(np.uint32)
    return ((acc >> shifts) & mask).astype(np.int32)


def pack_hex(fields: list[tuple[np.ndarray, int]], n: int) -> np.ndarray:
    """Concatenate (values, width) fields MSB first and write them as hex, zero-padded to a
    whole hex digit. Returns an (n,) array of str (numpy unicode, built without conversion).
    """
    total = sum(w for _, w in fields)
    length = (total + 3) // 4
    chars = np.empty((length, n), np.uint32)
    acc = np.zeros(n, np.uint64)
    bits = 0
    j = 0
    for values, width in [*fields, (np.zeros(1, np.int64), -total % 4)]:
        if width == 0:
            continue
        v = np.broadcast_to(np.asarray(values, np.int64), (n,)).astype(np.uint64)
        acc = (acc << np.uint64(width)) | v
        bits += width
        while bits >= 4:  # emit whole nibbles; at most 28 bits stay in the accumulator
            bits -= 4
            chars[j] = _HEX[(acc >> np.uint64(bits)) & np.uint64(15)]
            j += 1
        acc &= np.uint64((1 << bits) - 1)
    return np.ascontiguousarray(chars.T).view(f"<U{length}").ravel()


__all__ = ["BAD_NIBBLE", "nibble_matrix", "pack_hex", "read_bits", "string_bytes"]
