/* The engine's candidate search compiled: the same grid as engine/candidates.py, so the
 * same set of segment pairs (the set is exact: the pairs whose padded boxes and time spans
 * meet; the grid only decides which are compared). Plain C functions loaded with
 * ctypes by engine/native.py (the module below is empty: it only makes the library an
 * importable extension), built at install as an optional extension (setup.py); the
 * numpy path stays the reference and is used when this library is missing or
 * WHEREABOUTS_NATIVE=0.
 *
 * Each segment's padded box is put in every (cell x, cell y, time bucket) it touches; the
 * copies are sorted by cell (a stable radix sort, so each cell lists its segments in index
 * order); in each cell every two segments of different devices whose boxes and spans meet
 * are a pair, kept only in the cell holding the low corner of their intersection (so once).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DIGIT_BITS 11
#define DIGITS (1 << DIGIT_BITS)

static int64_t cell_floor(double v) { return (int64_t)floor(v); }

/* Pairs (out_a[k], out_b[k]) with dev[a] < dev[b]. Returns the number of pairs (only the
 * first `cap` are written: call again with cap >= the number returned), -1 when memory
 * runs out, -2 when the grid is too large for 64-bit cell keys (use the numpy path). */
int64_t wa_candidate_pairs(int64_t n, const int64_t *dev, const int64_t *t0, const int64_t *t1,
                           const double *xmin, const double *ymin, const double *xmax,
                           const double *ymax, double cell, double bucket, int64_t *out_a,
                           int64_t *out_b, int64_t cap) {
    if (n < 2) return 0;
    double ox = xmin[0], oy = ymin[0];
    int64_t ot = t0[0];
    for (int64_t i = 1; i < n; i++) {
        if (xmin[i] < ox) ox = xmin[i];
        if (ymin[i] < oy) oy = ymin[i];
        if (t0[i] < ot) ot = t0[i];
    }
    int64_t *lo = malloc(sizeof(int64_t) * 3 * (size_t)n);  /* cx0, cy0, tb0 per segment */
    int64_t *hi = malloc(sizeof(int64_t) * 3 * (size_t)n);  /* cx1, cy1, tb1 */
    if (!lo || !hi) { free(lo); free(hi); return -1; }
    int64_t nx = 1, ny = 1, nt = 1;
    int64_t copies = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t *l = lo + 3 * i, *h = hi + 3 * i;
        l[0] = cell_floor((xmin[i] - ox) / cell);
        h[0] = cell_floor((xmax[i] - ox) / cell);
        l[1] = cell_floor((ymin[i] - oy) / cell);
        h[1] = cell_floor((ymax[i] - oy) / cell);
        l[2] = cell_floor((double)(t0[i] - ot) / bucket);
        h[2] = cell_floor((double)(t1[i] - ot) / bucket);
        if (h[0] + 1 > nx) nx = h[0] + 1;
        if (h[1] + 1 > ny) ny = h[1] + 1;
        if (h[2] + 1 > nt) nt = h[2] + 1;
        copies += (h[0] - l[0] + 1) * (h[1] - l[1] + 1) * (h[2] - l[2] + 1);
    }
    if ((double)nx * (double)ny * (double)nt >= 9.0e18) { free(lo); free(hi); return -2; }
    int64_t *key = malloc(sizeof(int64_t) * 2 * (size_t)copies);
    int64_t *seg = malloc(sizeof(int64_t) * 2 * (size_t)copies);
    size_t *count = malloc(sizeof(size_t) * DIGITS);
    if (!key || !seg || !count) {
        free(lo); free(hi); free(key); free(seg); free(count);
        return -1;
    }
    int64_t k = 0, kmax = 0;
    for (int64_t i = 0; i < n; i++) {
        const int64_t *l = lo + 3 * i, *h = hi + 3 * i;
        for (int64_t tb = l[2]; tb <= h[2]; tb++)
            for (int64_t cy = l[1]; cy <= h[1]; cy++)
                for (int64_t cx = l[0]; cx <= h[0]; cx++) {
                    int64_t v = (tb * ny + cy) * nx + cx;
                    key[k] = v;
                    seg[k] = i;
                    if (v > kmax) kmax = v;
                    k++;
                }
    }
    /* stable LSD radix sort of the copies by key: segments stay in index order per cell */
    int64_t *key2 = key + copies, *seg2 = seg + copies;
    for (int shift = 0; shift < 64 && (kmax >> shift) > 0; shift += DIGIT_BITS) {
        memset(count, 0, sizeof(size_t) * DIGITS);
        for (int64_t c = 0; c < copies; c++) count[(key[c] >> shift) & (DIGITS - 1)]++;
        size_t at = 0;
        for (int d = 0; d < DIGITS; d++) { size_t m = count[d]; count[d] = at; at += m; }
        for (int64_t c = 0; c < copies; c++) {
            size_t to = count[(key[c] >> shift) & (DIGITS - 1)]++;
            key2[to] = key[c];
            seg2[to] = seg[c];
        }
        int64_t *swap = key; key = key2; key2 = swap;
        swap = seg; seg = seg2; seg2 = swap;
    }
    int64_t found = 0;
    for (int64_t g = 0; g < copies;) {
        int64_t e = g + 1;
        while (e < copies && key[e] == key[g]) e++;
        if (e - g > 1) {
            int64_t v = key[g];
            int64_t cx = v % nx, cy = (v / nx) % ny, tb = v / nx / ny;
            for (int64_t p = g; p < e - 1; p++) {
                int64_t a = seg[p];
                int64_t da = dev[a], ta0 = t0[a], ta1 = t1[a];
                double ax0 = xmin[a], ax1 = xmax[a], ay0 = ymin[a], ay1 = ymax[a];
                const int64_t *la = lo + 3 * a;
                for (int64_t q = p + 1; q < e; q++) {
                    int64_t b = seg[q];
                    if (dev[b] == da) continue;
                    if ((ta0 > t0[b] ? ta0 : t0[b]) > (ta1 < t1[b] ? ta1 : t1[b])) continue;
                    if ((ax0 > xmin[b] ? ax0 : xmin[b]) > (ax1 < xmax[b] ? ax1 : xmax[b]))
                        continue;
                    if ((ay0 > ymin[b] ? ay0 : ymin[b]) > (ay1 < ymax[b] ? ay1 : ymax[b]))
                        continue;
                    const int64_t *lb = lo + 3 * b;
                    if ((la[0] > lb[0] ? la[0] : lb[0]) != cx) continue;
                    if ((la[1] > lb[1] ? la[1] : lb[1]) != cy) continue;
                    if ((la[2] > lb[2] ? la[2] : lb[2]) != tb) continue;
                    if (found < cap) {
                        int swap = da > dev[b];
                        out_a[found] = swap ? b : a;
                        out_b[found] = swap ? a : b;
                    }
                    found++;
                }
            }
        }
        g = e;
    }
    /* key/seg may point at the second halves after an odd number of passes */
    free(key < key2 ? key : key2);
    free(seg < seg2 ? seg : seg2);
    free(lo); free(hi); free(count);
    return found;
}

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, "_native",
    "The engine's compiled candidate search; called through ctypes (whereabouts.engine.native).",
    -1, NULL, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&native_module); }
