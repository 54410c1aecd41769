/* The engine's candidate search, kernel and periods' union compiled (each below says what
 * numpy code it mirrors). The candidate search: the same grid as engine/candidates.py, so the
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

/* The SHA-256 of this file, given by the build (setup.py): engine/native.py loads the
 * library only if it was built from the source beside it. */
#ifndef WA_SOURCE_SHA256
#define WA_SOURCE_SHA256 ""
#endif
const char *wa_source_sha256(void) { return WA_SOURCE_SHA256; }

#define DIGIT_BITS 11
#define DIGITS (1 << DIGIT_BITS)

static int64_t cell_floor(double v) { return (int64_t)floor(v); }

/* one segment's copy in a cell: what the pairwise tests read */
typedef struct {
    int64_t seg, dev, t0, t1, l0, l1, l2;
    double x0, x1, y0, y1;
} cell_box;

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
    /* each cell's segments gathered once into a small buffer, so the pairwise tests read
     * neighbouring memory rather than every segment's columns again for every partner */
    size_t room = 64;
    cell_box *box = malloc(sizeof(cell_box) * room);
    if (!box) {
        free(key < key2 ? key : key2); free(seg < seg2 ? seg : seg2);
        free(lo); free(hi); free(count);
        return -1;
    }
    int64_t found = 0;
    for (int64_t g = 0; g < copies;) {
        int64_t e = g + 1;
        while (e < copies && key[e] == key[g]) e++;
        if (e - g > 1) {
            if ((size_t)(e - g) > room) {
                while ((size_t)(e - g) > room) room *= 2;
                cell_box *grown = realloc(box, sizeof(cell_box) * room);
                if (!grown) {
                    free(box); free(key < key2 ? key : key2); free(seg < seg2 ? seg : seg2);
                    free(lo); free(hi); free(count);
                    return -1;
                }
                box = grown;
            }
            for (int64_t p = g; p < e; p++) {
                int64_t i = seg[p];
                cell_box *c = box + (p - g);
                c->seg = i; c->dev = dev[i]; c->t0 = t0[i]; c->t1 = t1[i];
                c->x0 = xmin[i]; c->x1 = xmax[i]; c->y0 = ymin[i]; c->y1 = ymax[i];
                c->l0 = lo[3 * i]; c->l1 = lo[3 * i + 1]; c->l2 = lo[3 * i + 2];
            }
            int64_t v = key[g];
            int64_t cx = v % nx, cy = (v / nx) % ny, tb = v / nx / ny;
            int64_t size = e - g;
            for (int64_t p = 0; p < size - 1; p++) {
                const cell_box *A = box + p;
                for (int64_t q = p + 1; q < size; q++) {
                    const cell_box *B = box + q;
                    if (B->dev == A->dev) continue;
                    if ((A->t0 > B->t0 ? A->t0 : B->t0) > (A->t1 < B->t1 ? A->t1 : B->t1)) continue;
                    if ((A->x0 > B->x0 ? A->x0 : B->x0) > (A->x1 < B->x1 ? A->x1 : B->x1))
                        continue;
                    if ((A->y0 > B->y0 ? A->y0 : B->y0) > (A->y1 < B->y1 ? A->y1 : B->y1))
                        continue;
                    if ((A->l0 > B->l0 ? A->l0 : B->l0) != cx) continue;
                    if ((A->l1 > B->l1 ? A->l1 : B->l1) != cy) continue;
                    if ((A->l2 > B->l2 ? A->l2 : B->l2) != tb) continue;
                    if (found < cap) {
                        int swap = A->dev > B->dev;
                        out_a[found] = swap ? B->seg : A->seg;
                        out_b[found] = swap ? A->seg : B->seg;
                    }
                    found++;
                }
            }
        }
        g = e;
    }
    free(box);
    /* key/seg may point at the second halves after an odd number of passes */
    free(key < key2 ? key : key2);
    free(seg < seg2 ? seg : seg2);
    free(lo); free(hi); free(count);
    return found;
}

/* ---- the kernel: each candidate pair's periods, as engine/partition.py and engine/motion.py
 * compute them with numpy, operation for operation (the same IEEE operations in the same
 * order, no fused multiply-add: setup.py compiles with -ffp-contract=off), so the same
 * bits. NaN-propagating max/min as numpy's maximum/minimum; fmin/fmax as numpy's. */

static double np_max(double a, double b) { return (a >= b || isnan(a)) ? a : b; }
static double np_min(double a, double b) { return (a <= b || isnan(a)) ? a : b; }

#define FLAT_M2 1e-9

/* motion.solve_le_zero for one pair: where a·s² + b·s + c ≤ 0 on [lo, hi]. */
static int solve_le_zero(double a, double b, double c, double lo, double hi, double *start,
                         double *end) {
    double span = np_max(hi - lo, 1e-300);
    int flat = fabs(a) * (span * span) <= FLAT_M2;
    double disc = b * b - 4.0 * a * c;
    double root = sqrt(np_max(disc, 0.0));
    double q = -0.5 * (b + copysign(root, b));
    double r_a = (a != 0) ? q / a : NAN;
    double r_b = (q != 0) ? c / q : r_a;
    double r1 = fmin(r_a, r_b), r2 = fmax(r_a, r_b);
    double cut = -c / b;
    double s = INFINITY, e = -INFINITY;
    if (!flat && a > 0 && disc >= 0) {
        s = np_max(r1, lo);
        e = np_min(r2, hi);
    }
    if (!flat && a < 0) {
        if (disc < 0) {
            s = lo;
            e = hi;
        } else if (disc >= 0) {  /* not NaN */
            int left = lo <= r1, right = hi >= r2;
            if (left) s = lo; else if (right) s = np_max(r2, lo);
            if (right) e = hi; else if (left) e = np_min(r1, hi);
        }
    }
    if (flat) {
        if (b > 0) {
            s = lo;
            e = np_min(cut, hi);
        } else if (b < 0) {
            s = np_max(cut, lo);
            e = hi;
        } else if (b == 0 && c <= 0) {  /* not NaN */
            s = lo;
            e = hi;
        }
    }
    *start = s;
    *end = e;
    return s <= e;
}

/* partition._pieces for one found interval: seconds from t_lo → µs, clipped to the window. */
static int piece(int64_t t_lo, int64_t clip_lo, int64_t clip_hi, double start, double end,
                 int64_t *s, int64_t *e) {
    int64_t a = t_lo + (int64_t)nearbyint(start * 1e6);
    int64_t b = t_lo + (int64_t)nearbyint(end * 1e6);
    *s = a > clip_lo ? a : clip_lo;
    *e = b < clip_hi ? b : clip_hi;
    return *s <= *e;
}

/* For each candidate pair k, its pieces of the kinds asked for (bit 0 within, 1 certain,
 * 2 possible) inside the window, written one after another (kind, pair k, start and end µs,
 * the within interval's smallest distance, NaN for the other kinds): at most three per
 * pair, so the outputs hold 3n. `copy`: kinds that take the within piece as it is (no
 * position error: certain = possible = within), with a NaN distance. vx, vy, ve: each
 * segment's velocity and error rate (numpy's, per segment). Returns the number written. */
int64_t wa_kernel(int64_t n, const int64_t *ia, const int64_t *ib, const int64_t *t0,
                  const int64_t *t1, const double *x0, const double *y0, const double *e0,
                  const double *vx, const double *vy, const double *ve, int64_t w0, int64_t w1,
                  double d, int kinds, int copy, int8_t *out_kind, int64_t *out_pair,
                  int64_t *out_s, int64_t *out_e, double *out_mind) {
    int64_t m = 0;
    for (int64_t k = 0; k < n; k++) {
        int64_t a = ia[k], b = ib[k];
        int64_t t_lo = t0[a] > t0[b] ? t0[a] : t0[b];
        int64_t t_hi = t1[a] < t1[b] ? t1[a] : t1[b];
        int64_t clip_lo = t_lo > w0 ? t_lo : w0, clip_hi = t_hi < w1 ? t_hi : w1;
        if (clip_lo > clip_hi) continue;
        double sa = (double)(t_lo - t0[a]) / 1e6, sb = (double)(t_lo - t0[b]) / 1e6;
        double length = (double)(t_hi - t_lo) / 1e6;
        double rx = (x0[a] - x0[b]) + (vx[a] * sa - vx[b] * sb);
        double ry = (y0[a] - y0[b]) + (vy[a] * sa - vy[b] * sb);
        double rvx = vx[a] - vx[b], rvy = vy[a] - vy[b];
        double err0 = (e0[a] + ve[a] * sa) + (e0[b] + ve[b] * sb);
        double rate = ve[a] + ve[b];
        double rr = rx * rx + ry * ry, rv = rx * rvx + ry * rvy, vv = rvx * rvx + rvy * rvy;
        double start, end;
        int64_t s, e;
        if ((kinds & 1) || copy) {  /* motion.within and motion.min_distance */
            double c = rr - d * d;
            int found = solve_le_zero(vv, 2.0 * rv, c, 0.0, length, &start, &end);
            if (found && piece(t_lo, clip_lo, clip_hi, start, end, &s, &e)) {
                for (int kind = 0; kind < 3; kind++) {
                    if (!(((kind == 0 ? kinds : copy) >> kind) & 1)) continue;
                    double dist = NAN;
                    if (kind == 0) {
                        double sm = vv > 0 ? -rv / vv : 0.0;
                        sm = np_min(np_max(sm, start), end);
                        dist = hypot(rx + rvx * sm, ry + rvy * sm);
                    }
                    out_kind[m] = (int8_t)kind;
                    out_pair[m] = k;
                    out_s[m] = s;
                    out_e[m] = e;
                    out_mind[m] = dist;
                    m++;
                }
            }
        }
        double aa = vv - rate * rate;
        if (kinds & 2 && !(copy & 2)) {  /* motion.certainly_within */
            double slack = d - err0;
            double limit = slack / rate;
            double lo = rate < 0 ? np_max(limit, 0.0) : 0.0;
            double hi = rate > 0 ? np_min(limit, length) : length;
            if (rate == 0 && slack < 0) hi = -INFINITY;
            int found = solve_le_zero(aa, 2.0 * rv + 2.0 * slack * rate, rr - slack * slack,
                                      lo, hi, &start, &end);
            if (found && lo <= hi && piece(t_lo, clip_lo, clip_hi, start, end, &s, &e)) {
                out_kind[m] = 1;
                out_pair[m] = k;
                out_s[m] = s;
                out_e[m] = e;
                out_mind[m] = NAN;
                m++;
            }
        }
        if (kinds & 4 && !(copy & 4)) {  /* motion.possibly_within */
            double reach = d + err0;
            int found = solve_le_zero(aa, 2.0 * rv - 2.0 * reach * rate, rr - reach * reach,
                                      0.0, length, &start, &end);
            if (found && piece(t_lo, clip_lo, clip_hi, start, end, &s, &e)) {
                out_kind[m] = 2;
                out_pair[m] = k;
                out_s[m] = s;
                out_e[m] = e;
                out_mind[m] = NAN;
                m++;
            }
        }
    }
    return m;
}

/* Sort (key, index) pairs by key, then index: a stable sort's order when the indexes
 * come increasing. */
typedef struct { uint64_t key; int64_t idx; } keyed;
static int keyed_cmp(const void *p, const void *q) {
    const keyed *x = p, *y = q;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}
static void sort_keyed(uint64_t *key, int64_t *idx, size_t n) {
    keyed *tmp = malloc(sizeof(keyed) * n);
    if (!tmp) {  /* out of memory: an insertion sort, slow but right */
        for (size_t r = 1; r < n; r++)
            for (size_t q = r; q > 0 && (key[q - 1] > key[q] ||
                                         (key[q - 1] == key[q] && idx[q - 1] > idx[q])); q--) {
                uint64_t k = key[q]; key[q] = key[q - 1]; key[q - 1] = k;
                int64_t i = idx[q]; idx[q] = idx[q - 1]; idx[q - 1] = i;
            }
        return;
    }
    for (size_t r = 0; r < n; r++) { tmp[r].key = key[r]; tmp[r].idx = idx[r]; }
    qsort(tmp, n, sizeof(keyed), keyed_cmp);
    for (size_t r = 0; r < n; r++) { key[r] = tmp[r].key; idx[r] = tmp[r].idx; }
    free(tmp);
}

/* ---- periods.union compiled. numpy sorts the periods by (kind, a, b, start) and joins
 * them into runs (spans.run_starts): a run ends where the pair changes or a start lies
 * more than `gap` µs after the latest end of the pair so far; per run the first period's
 * kind and pair, its start, the largest end and the smallest distance (fmin). The runs are
 * a property of the set of periods, so here, when the pairs are few (a time window's) and
 * no period ends before it starts, the periods are first taken in the order they come (the kernel's: nearly in time) and each
 * pair's one open interval absorbs every period that chains with it (a later start at most
 * `gap` after its end, or an earlier end at most `gap` before its start): two periods that
 * chain lie in one run, and one interval spanning them (the smaller start, the larger end,
 * fmin of the distances) leaves every run as it was. What is left (a few per run) is
 * sorted by pair (counting sort) and start (each pair's nearly in order), or, with many
 * pairs, by the whole key (an LSD radix sort), and joined as numpy does.
 * Writes per run the index of one of its periods (for its kind and pair), its start, end
 * and smallest distance; returns the number of runs, -1 when memory runs out, -2 when the
 * key does not pack into 62 bits (numpy's lexsort path then). */
int64_t wa_union(int64_t n, const int8_t *kind, const int64_t *a, const int64_t *b,
                 const int64_t *start, const int64_t *end, const double *mind, int64_t gap,
                 int64_t *out_first, int64_t *out_s, int64_t *out_e, double *out_mind) {
    if (n == 0) return 0;
    int64_t lo[4] = {kind[0], a[0], b[0], start[0]}, hi[4] = {kind[0], a[0], b[0], start[0]};
    int valid = end[0] >= start[0];  /* no period ends before it starts (the engine's never) */
    for (int64_t i = 1; i < n; i++) {
        int64_t v[4] = {kind[i], a[i], b[i], start[i]};
        if (end[i] < start[i]) valid = 0;
        for (int c = 0; c < 4; c++) {
            if (v[c] < lo[c]) lo[c] = v[c];
            if (v[c] > hi[c]) hi[c] = v[c];
        }
    }
    unsigned __int128 span[4], product = 1;
    for (int c = 0; c < 4; c++) {
        span[c] = (unsigned __int128)((__int128)hi[c] - lo[c] + 1);
        product *= span[c];
        if (product >= ((unsigned __int128)1 << 62)) return -2;
    }
    uint64_t span3 = (uint64_t)span[3];
    uint64_t pairs = (uint64_t)(span[0] * span[1] * span[2]);
    int by_pair = pairs <= ((uint64_t)1 << 24) && pairs <= 4 * (uint64_t)n + 4096;
    /* absorbing needs valid periods: one ending before its start may break a run at a
     * start it shares with another, depending on their order */
    int absorb = by_pair && valid;
    /* the records to sort: (key, end, distance, a period's index) */
    uint64_t *key = malloc(sizeof(uint64_t) * 2 * (size_t)n);
    int64_t *idx = malloc(sizeof(int64_t) * 2 * (size_t)n);
    int64_t *rend = malloc(sizeof(int64_t) * (size_t)n);
    double *rmind = malloc(sizeof(double) * (size_t)n);
    int64_t *rfirst = malloc(sizeof(int64_t) * (size_t)n);
    size_t buckets = by_pair ? (size_t)pairs + 1 : DIGITS;
    size_t *count = malloc(sizeof(size_t) * buckets);
    int64_t *open = absorb ? malloc(sizeof(int64_t) * (size_t)pairs) : NULL;
    if (!key || !idx || !rend || !rmind || !rfirst || !count || (absorb && !open)) {
        free(key); free(idx); free(rend); free(rmind); free(rfirst); free(count); free(open);
        return -1;
    }
    for (uint64_t g = 0; absorb && g < pairs; g++) open[g] = -1;  /* each pair's open record */
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t pair = ((uint64_t)(kind[i] - lo[0]) * (uint64_t)span[1] + (uint64_t)(a[i] - lo[1]))
                        * (uint64_t)span[2] + (uint64_t)(b[i] - lo[2]);
        uint64_t k = pair * span3 + (uint64_t)(start[i] - lo[3]);
        if (absorb) {
            int64_t r = open[pair];
            if (r >= 0) {
                int64_t s0 = (int64_t)(key[r] % span3) + lo[3];
                int64_t e0 = rend[r];
                if (start[i] >= s0 ? start[i] <= e0 + gap : s0 <= end[i] + gap) {
                    if (start[i] < s0) key[r] = k;
                    if (end[i] > e0) rend[r] = end[i];
                    rmind[r] = fmin(rmind[r], mind[i]);
                    continue;
                }
            }
            open[pair] = m;
        }
        key[m] = k;
        rend[m] = end[i];
        rmind[m] = mind[i];
        rfirst[m] = i;
        m++;
    }
    for (int64_t r = 0; r < m; r++) idx[r] = r;
    uint64_t *key2 = key + n;
    int64_t *idx2 = idx + n;
    if (by_pair) {
        memset(count, 0, sizeof(size_t) * buckets);
        for (int64_t c = 0; c < m; c++) count[key[c] / span3 + 1]++;
        for (size_t g = 1; g < buckets; g++) count[g] += count[g - 1];
        for (int64_t c = 0; c < m; c++) {
            size_t to = count[key[c] / span3]++;
            key2[to] = key[c];
            idx2[to] = c;
        }
        /* count[g] is now the end of pair g; each pair's records by (key, index): the
         * order of a stable sort of the whole key */
        size_t from = 0;
        for (size_t g = 0; g + 1 < buckets; g++) {
            size_t to = count[g];
            int64_t moves = 0, budget = 16 * (int64_t)(to - from) + 64;
            for (size_t r = from + 1; r < to && moves <= budget; r++) {
                uint64_t kv = key2[r];
                int64_t iv = idx2[r];
                size_t q = r;
                while (q > from && key2[q - 1] > kv) {
                    key2[q] = key2[q - 1];
                    idx2[q] = idx2[q - 1];
                    q--;
                    moves++;
                }
                key2[q] = kv;
                idx2[q] = iv;
            }
            if (moves > budget) sort_keyed(key2 + from, idx2 + from, to - from);
            from = to;
        }
        uint64_t *sk = key; key = key2; key2 = sk;
        int64_t *si = idx; idx = idx2; idx2 = si;
    } else {
        uint64_t kmax = 0;
        for (int64_t c = 0; c < m; c++) if (key[c] > kmax) kmax = key[c];
        for (int shift = 0; shift < 64 && (kmax >> shift) > 0; shift += DIGIT_BITS) {
            memset(count, 0, sizeof(size_t) * DIGITS);
            for (int64_t c = 0; c < m; c++) count[(key[c] >> shift) & (DIGITS - 1)]++;
            size_t at = 0;
            for (int dgt = 0; dgt < DIGITS; dgt++) { size_t t = count[dgt]; count[dgt] = at; at += t; }
            for (int64_t c = 0; c < m; c++) {
                size_t to = count[(key[c] >> shift) & (DIGITS - 1)]++;
                key2[to] = key[c];
                idx2[to] = idx[c];
            }
            uint64_t *sk = key; key = key2; key2 = sk;
            int64_t *si = idx; idx = idx2; idx2 = si;
        }
    }
    int64_t runs = -1, reach = 0;
    uint64_t group = 0;
    for (int64_t q = 0; q < m; q++) {
        int64_t r = idx[q];
        uint64_t g = key[q] / span3;
        int64_t s = (int64_t)(key[q] % span3) + lo[3];
        int fresh = q == 0 || g != group;  /* reach: the latest end of the pair so far */
        if (fresh || s > reach + gap) {
            runs++;
            out_first[runs] = rfirst[r];
            out_s[runs] = s;
            out_e[runs] = rend[r];
            out_mind[runs] = rmind[r];
            if (fresh || rend[r] > reach) reach = rend[r];
            group = g;
        } else {
            if (rend[r] > reach) reach = rend[r];
            if (rend[r] > out_e[runs]) out_e[runs] = rend[r];
            out_mind[runs] = fmin(out_mind[runs], rmind[r]);
        }
    }
    free(key < key2 ? key : key2);
    free(idx < idx2 ? idx : idx2);
    free(rend); free(rmind); free(rfirst); free(count); free(open);
    return runs + 1;
}
/* intervals.overlapping's pairs (analysis/intervals.py) in two passes. The rows are sorted
 * by (key, start s0), `first[g]` is key g's first row (first[g + 1] past its last), `reach`
 * the running maximum of the rows' ends within a key; query i asks key g[i] (-1: none).
 * wa_overlap_ranges: per query, the rows that may overlap it, [lo, hi): from the first whose
 * reach passes q0 to the last that starts before q1 (two binary searches, as numpy's
 * searchsorted of the packed keys finds them); returns their total. wa_overlap_pairs: the
 * (query, row) of those rows that end after q0, query by query, rows in order; returns
 * how many. */
int64_t wa_overlap_ranges(int64_t nq, const int64_t *g, const int64_t *q0, const int64_t *q1,
                          const int64_t *first, const int64_t *s0, const int64_t *reach,
                          int64_t *out_lo, int64_t *out_hi) {
    int64_t total = 0;
    for (int64_t i = 0; i < nq; i++) {
        int64_t lo = 0, hi = 0;
        if (g[i] >= 0) {
            int64_t a = first[g[i]], b = first[g[i] + 1];
            while (a < b) {  /* the first row starting at or after q1 */
                int64_t m = a + ((b - a) >> 1);
                if (s0[m] < q1[i]) a = m + 1; else b = m;
            }
            hi = a;
            a = first[g[i]];
            b = hi;
            while (a < b) {  /* the first row whose reach passes q0 */
                int64_t m = a + ((b - a) >> 1);
                if (reach[m] <= q0[i]) a = m + 1; else b = m;
            }
            lo = a;
        }
        out_lo[i] = lo;
        out_hi[i] = hi;
        total += hi - lo;
    }
    return total;
}

int64_t wa_overlap_pairs(int64_t nq, const int64_t *q0, const int64_t *lo, const int64_t *hi,
                         const int64_t *s1, int64_t *out_q, int64_t *out_r) {
    int64_t n = 0;
    for (int64_t i = 0; i < nq; i++)
        for (int64_t r = lo[i]; r < hi[i]; r++)
            if (s1[r] > q0[i]) {
                out_q[n] = i;
                out_r[n] = r;
                n++;
            }
    return n;
}

/* The labelling's samples (analysis/occasions.py: sample_pieces, instants and the
 * describe step's per-occasion aggregates), occasion by occasion in one pass.
 *
 * Per piece (occasion, devices a and b, first instant, count instants `step` apart): each
 * device's position at each instant as sample_pieces interpolates it (its fix then, or a
 * straight line between the fixes either side when at most the device's gap apart; else
 * unknown); a sample where both are known: distance apart (hypot, see CLOSE) and midpoint. Per
 * occasion: its samples' count, smallest and median distance (DuckDB's median: the middle
 * value, or lo * 0.5 + hi * 0.5); its instants (`instants`: the mean midpoint of the
 * samples within `distance` at each instant, summed as numpy's add.reduceat sums in the
 * samples' order; dt to the next instant at most the occasion's gap, 0 for the last;
 * stopped when the midpoint moves slower than `stop_speed`), the median x and y of its
 * instants, and their dt summed (all, and the stopped ones). Floating point operations in
 * numpy's order, so the same bits.
 *
 * dev_t, dev_x, dev_y: addresses of each device's fix arrays (time-sorted), dev_n their
 * lengths; pieces sorted by occasion (each occasion's in the samples' order). Returns the
 * number of instants written (at most `cap`), -1 when memory runs out, -2 when cap is too
 * small. */

static int d_less(double a, double b) { return a < b || (isnan(b) && !isnan(a)); }

/* numpy's pairwise sum (loops_utils.h: 8 accumulators from 8 values, halves above 128) */
static double pairwise_sum(const double *a, int64_t n) {
    if (n < 8) {
        double res = -0.0;
        for (int64_t i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        int64_t i;
        for (int k = 0; k < 8; k++) r[k] = a[k];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int k = 0; k < 8; k++) r[k] += a[i + k];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    int64_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

/* The k-th smallest of a[0..n), a partitioned around it, by the order LESS: one
   quickselect, made twice — with NaN largest (d_less), and with plain comparisons for
   values none of which is NaN (the hot path). */
#define WA_QUICKSELECT(NAME, LESS)                                              \
    static double NAME(double *a, int64_t n, int64_t k) {                       \
        int64_t l = 0, ir = n - 1;                                              \
        double t;                                                               \
        for (;;) {                                                              \
            if (ir <= l + 1) {                                                  \
                if (ir == l + 1 && LESS(a[ir], a[l])) SWAPD(a[l], a[ir]);       \
                return a[k];                                                    \
            }                                                                   \
            int64_t mid = (l + ir) >> 1;                                        \
            SWAPD(a[mid], a[l + 1]);                                            \
            if (LESS(a[ir], a[l])) SWAPD(a[l], a[ir]);                          \
            if (LESS(a[ir], a[l + 1])) SWAPD(a[l + 1], a[ir]);                  \
            if (LESS(a[l + 1], a[l])) SWAPD(a[l], a[l + 1]);                    \
            int64_t i = l + 1, j = ir;                                          \
            double p = a[l + 1];                                                \
            for (;;) {                                                          \
                do i++; while (LESS(a[i], p));                                  \
                do j--; while (LESS(p, a[j]));                                  \
                if (j < i) break;                                               \
                SWAPD(a[i], a[j]);                                              \
            }                                                                   \
            a[l + 1] = a[j];                                                    \
            a[j] = p;                                                           \
            if (j >= k) ir = j - 1;                                             \
            if (j <= k) l = i;                                                  \
        }                                                                       \
    }
#define SWAPD(u, v) do { t = (u); (u) = (v); (v) = t; } while (0)
#define PLAIN_LESS(u, v) ((u) < (v))
WA_QUICKSELECT(nth_smallest, d_less)
WA_QUICKSELECT(nth_number, PLAIN_LESS)
#undef PLAIN_LESS
#undef SWAPD
#undef WA_QUICKSELECT

/* the k-th and (k+1)-th smallest (k+1 < n) of a[0..n) (a reordered) */
static void two_smallest(double *a, int64_t n, int64_t k, double *lo, double *hi) {
    int nan = 0;
    for (int64_t i = 0; i < n; i++) nan |= isnan(a[i]);
    *lo = nan ? nth_smallest(a, n, k) : nth_number(a, n, k);
    *hi = a[k + 1];
    for (int64_t i = k + 2; i < n; i++)
        if (d_less(a[i], *hi)) *hi = a[i];
}

/* DuckDB's median of a[0..n), n > 0 (a reordered): the middle value, or the two middle
 * ones' lo * (1 - 0.5) + hi * 0.5 (quantile_cont's interpolation) */
static double median_of(double *a, int64_t n) {
    int64_t k = (n - 1) / 2;
    if (n % 2) {
        int nan = 0;
        for (int64_t i = 0; i < n; i++) nan |= isnan(a[i]);
        return nan ? nth_smallest(a, n, k) : nth_number(a, n, k);
    }
    double lo, hi;
    two_smallest(a, n, k, &lo, &hi);
    return lo * 0.5 + hi * 0.5;
}

/* Distances are taken as sqrt(dx * dx + dy * dy), within a few units in the last place of
 * hypot(dx, dy) (which the numpy path and DuckDB's aggregates see), and hypot is called
 * only where that could change a result: near `distance`, and for the samples that could
 * be the smallest or a middle one (below: every order statistic moves at most as far as
 * the values it orders). */
#define CLOSE 1e-13  /* a bound on sqrt's relative error against hypot, with a wide margin */

/* the exact smallest and median of the hypot of (dx[i], dy[i]), i < n, given `d` their
 * distances within CLOSE (relatively) of it, none NaN; sel, band: scratch of n */
static void exact_min_median(const double *d, const double *dx, const double *dy, int64_t n,
                             double *sel, double *band, double *lowest, double *median) {
    int64_t k = (n - 1) / 2;
    double vk, vk1, v0 = d[0];
    memcpy(sel, d, sizeof(double) * (size_t)n);
    if (n % 2) {
        vk = vk1 = nth_number(sel, n, k);
    } else {
        two_smallest(sel, n, k, &vk, &vk1);
    }
    for (int64_t i = 1; i < n; i++)
        if (d[i] < v0) v0 = d[i];
    /* below lo: exactly below the k-th exact value; above hi: above the (k+1)-th */
    double lo = vk * (1 - 3 * CLOSE), hi = vk1 * (1 + 3 * CLOSE), top0 = v0 * (1 + 3 * CLOSE);
    int64_t below = 0, b = 0;
    double m0 = INFINITY;
    for (int64_t i = 0; i < n; i++) {
        if (d[i] <= top0) {
            double e = hypot(dx[i], dy[i]);
            if (e < m0) m0 = e;
        }
        if (d[i] < lo) below++;
        else if (d[i] <= hi) band[b++] = hypot(dx[i], dy[i]);
    }
    *lowest = m0;
    if (n % 2) {
        *median = nth_number(band, b, k - below);
    } else {
        double elo, ehi;
        two_smallest(band, b, k - below, &elo, &ehi);
        *median = elo * 0.5 + ehi * 0.5;
    }
}

/* one device's position at t: i is the walker (last fix at or before the last instant
 * asked, -1 before its first fix), moved forward to the last fix at or before t */
static void position(const int64_t *ft, const double *fx, const double *fy, int64_t n,
                     int64_t gap, int64_t *walker, int64_t t, double *x, double *y) {
    int64_t i = *walker;
    while (i + 1 < n && ft[i + 1] <= t) i++;
    *walker = i;
    if (i < 0) { *x = NAN; *y = NAN; return; }
    int64_t ti = ft[i];
    if (ti == t) { *x = fx[i]; *y = fy[i]; return; }
    if (i + 1 < n) {
        int64_t dt = ft[i + 1] - ti;
        if (dt > 0 && dt <= gap) {
            double w = (double)(t - ti) / (double)dt;
            *x = fx[i] + (fx[i + 1] - fx[i]) * w;
            *y = fy[i] + (fy[i + 1] - fy[i]) * w;
            return;
        }
    }
    *x = NAN;
    *y = NAN;
}

/* how many of ft[0..n) are at or before t (sorted) */
static int64_t count_upto(const int64_t *ft, int64_t n, int64_t t) {
    int64_t lo = 0, hi = n;  /* first index with ft > t */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (ft[mid] <= t) lo = mid + 1; else hi = mid;
    }
    return lo;
}

#define COARSE 64  /* a device's fixes searched first by every 64th's time (fits in cache) */

/* the last fix at or before t (-1: none); coarse: the time of every COARSE-th fix */
static int64_t last_at_or_before(const int64_t *ft, int64_t n, const int64_t *coarse, int64_t t) {
    int64_t j = count_upto(coarse, (n + COARSE - 1) / COARSE, t);
    if (j == 0) return -1;
    int64_t from = (j - 1) * COARSE, to = j * COARSE < n ? j * COARSE : n;
    return from + count_upto(ft + from, to - from, t) - 1;
}

int64_t wa_sample_occasions(
    const int64_t *dev_t, const int64_t *dev_x, const int64_t *dev_y, const int64_t *dev_n,
    const int64_t *dev_gap, int64_t n_pieces, const int64_t *occ, const int64_t *code_a,
    const int64_t *code_b, const int64_t *first, const int64_t *count, int64_t step,
    double distance, double stop_speed, const int64_t *occ_gap, int64_t cap, int64_t *out_occ,
    int64_t *out_t, double *out_mx, double *out_my, int64_t *out_dt, int8_t *out_stopped,
    int64_t *n_samples, double *min_dist, double *med_dist, int64_t *n_points, double *med_x,
    double *med_y, int64_t *sum_dt, int64_t *stopped_dt, int64_t *n_stopped) {
    /* the largest occasion: its samples and its instants' slots bound the scratch */
    int64_t most = 1, widest = 1;
    for (int64_t p0 = 0, p1; p0 < n_pieces; p0 = p1) {
        int64_t total = 0, lo = INT64_MAX, hi = INT64_MIN;
        for (p1 = p0; p1 < n_pieces && occ[p1] == occ[p0]; p1++) {
            if (count[p1] <= 0) continue;
            total += count[p1];
            if (first[p1] < lo) lo = first[p1];
            if (first[p1] + (count[p1] - 1) * step > hi) hi = first[p1] + (count[p1] - 1) * step;
        }
        if (total > most) most = total;
        if (total > 0 && (hi - lo) / step + 1 > widest) widest = (hi - lo) / step + 1;
    }
    int64_t written = 0, status = 0;
    double *dist = malloc(sizeof(double) * (size_t)most);
    double *ddx = malloc(sizeof(double) * (size_t)most);
    double *ddy = malloc(sizeof(double) * (size_t)most);
    double *sel = malloc(sizeof(double) * (size_t)most);
    double *band = malloc(sizeof(double) * (size_t)most);
    double *nx = malloc(sizeof(double) * (size_t)most);
    double *ny = malloc(sizeof(double) * (size_t)most);
    double *sx = malloc(sizeof(double) * (size_t)most);
    double *sy = malloc(sizeof(double) * (size_t)most);
    int64_t *nslot = malloc(sizeof(int64_t) * (size_t)most);
    int64_t *at = malloc(sizeof(int64_t) * (size_t)(widest + 1));
    double *scratch = malloc(sizeof(double) * (size_t)widest);
    if (!dist || !ddx || !ddy || !sel || !band || !nx || !ny || !sx || !sy || !nslot || !at ||
        !scratch) {
        free(dist); free(ddx); free(ddy); free(sel); free(band); free(nx); free(ny); free(sx);
        free(sy); free(nslot); free(at); free(scratch);
        return -1;
    }
    double near_lo = distance * (1 - CLOSE), near_hi = distance * (1 + CLOSE);
    int64_t n_dev = 0;
    for (int64_t p = 0; p < n_pieces; p++) {
        if (code_a[p] + 1 > n_dev) n_dev = code_a[p] + 1;
        if (code_b[p] + 1 > n_dev) n_dev = code_b[p] + 1;
    }
    int64_t *coarse_at = malloc(sizeof(int64_t) * (size_t)(n_dev + 1));
    if (!coarse_at) { status = -1; n_dev = 0; }
    for (int64_t d = 0; d < n_dev; d++) coarse_at[d + 1] = (dev_n[d] + COARSE - 1) / COARSE;
    if (n_dev) coarse_at[0] = 0;
    for (int64_t d = 0; d < n_dev; d++) coarse_at[d + 1] += coarse_at[d];
    int64_t *coarse = n_dev ? malloc(sizeof(int64_t) * (size_t)(coarse_at[n_dev] + 1)) : NULL;
    if (n_dev && !coarse) status = -1;
    for (int64_t d = 0; coarse && d < n_dev; d++) {
        const int64_t *ft = (const int64_t *)(intptr_t)dev_t[d];
        for (int64_t i = 0; i < dev_n[d]; i += COARSE) coarse[coarse_at[d] + i / COARSE] = ft[i];
    }
    for (int64_t p0 = 0, p1; p0 < n_pieces && status == 0; p0 = p1) {
        int64_t o = occ[p0], lo = INT64_MAX, hi = INT64_MIN;
        for (p1 = p0; p1 < n_pieces && occ[p1] == o; p1++) {
            if (count[p1] <= 0) continue;
            if (first[p1] < lo) lo = first[p1];
            if (first[p1] + (count[p1] - 1) * step > hi) hi = first[p1] + (count[p1] - 1) * step;
        }
        int64_t m = 0, near = 0;
        int odd = 0;  /* a distance not from sqrt (NaN, infinite or tiny): hypot for all */
        for (int64_t p = p0; p < p1; p++) {
            if (count[p] <= 0) continue;
            int64_t a = code_a[p], b = code_b[p];
            const int64_t *ta = (const int64_t *)(intptr_t)dev_t[a];
            const int64_t *tb = (const int64_t *)(intptr_t)dev_t[b];
            const double *xa = (const double *)(intptr_t)dev_x[a];
            const double *ya = (const double *)(intptr_t)dev_y[a];
            const double *xb = (const double *)(intptr_t)dev_x[b];
            const double *yb = (const double *)(intptr_t)dev_y[b];
            int64_t wa = last_at_or_before(ta, dev_n[a], coarse + coarse_at[a], first[p]);
            int64_t wb = last_at_or_before(tb, dev_n[b], coarse + coarse_at[b], first[p]);
            for (int64_t k = 0; k < count[p]; k++) {
                int64_t t = first[p] + k * step;
                double ax, ay, bx, by;
                position(ta, xa, ya, dev_n[a], dev_gap[a], &wa, t, &ax, &ay);
                position(tb, xb, yb, dev_n[b], dev_gap[b], &wb, t, &bx, &by);
                if (!isfinite(ax) || !isfinite(bx)) continue;
                double dx = ax - bx, dy = ay - by, s2 = dx * dx + dy * dy, d;
                if (s2 > 1e-290 && s2 < 1e290) {
                    d = sqrt(s2);
                    if (d >= near_lo && d <= near_hi) d = hypot(dx, dy);
                } else if (dx == 0 && dy == 0) {
                    d = 0;  /* (hypot's too) */
                } else {
                    d = hypot(dx, dy);
                    odd = 1;
                }
                ddx[m] = dx;
                ddy[m] = dy;
                dist[m++] = d;
                if (d <= distance) {
                    nx[near] = (ax + bx) / 2;
                    ny[near] = (ay + by) / 2;
                    nslot[near++] = (t - lo) / step;
                }
            }
        }
        n_samples[o] = m;
        n_points[o] = sum_dt[o] = stopped_dt[o] = n_stopped[o] = 0;
        min_dist[o] = med_dist[o] = med_x[o] = med_y[o] = NAN;
        if (m == 0) continue;
        if (odd) {
            for (int64_t i = 0; i < m; i++) dist[i] = hypot(ddx[i], ddy[i]);
            double mn = dist[0];
            for (int64_t i = 1; i < m; i++)
                if (d_less(dist[i], mn)) mn = dist[i];
            min_dist[o] = mn;
            med_dist[o] = median_of(dist, m);
        } else {
            exact_min_median(dist, ddx, ddy, m, sel, band, min_dist + o, med_dist + o);
        }
        if (near == 0) continue;
        /* the near samples by instant, each instant's in the samples' order */
        int64_t slots = (hi - lo) / step + 1;
        memset(at, 0, sizeof(int64_t) * (size_t)(slots + 1));
        for (int64_t i = 0; i < near; i++) at[nslot[i] + 1]++;
        for (int64_t s = 0; s < slots; s++) at[s + 1] += at[s];
        for (int64_t i = 0; i < near; i++) {
            int64_t to = at[nslot[i]]++;
            sx[to] = nx[i];
            sy[to] = ny[i];
        }
        /* at[s] is now the end of slot s */
        int64_t from = 0, w0 = written;
        for (int64_t s = 0; s < slots; s++) {
            int64_t c = at[s] - from;
            if (c == 0) continue;
            if (written >= cap) { status = -2; break; }
            out_occ[written] = o;
            out_t[written] = lo + s * step;
            out_mx[written] = (sx[from] + pairwise_sum(sx + from + 1, c - 1)) / (double)c;
            out_my[written] = (sy[from] + pairwise_sum(sy + from + 1, c - 1)) / (double)c;
            written++;
            from = at[s];
        }
        if (status) break;
        for (int64_t i = w0; i < written; i++) {
            if (i + 1 < written) {
                int64_t st = out_t[i + 1] - out_t[i];
                double dx = out_mx[i + 1] - out_mx[i], dy = out_my[i + 1] - out_my[i];
                out_dt[i] = st < occ_gap[o] ? st : occ_gap[o];
                out_stopped[i] = sqrt(dx * dx + dy * dy) * 1e6 / (double)st < stop_speed;
            } else {
                out_dt[i] = 0;
                out_stopped[i] = 0;
            }
            sum_dt[o] += out_dt[i];
            if (out_stopped[i]) {
                stopped_dt[o] += out_dt[i];
                n_stopped[o]++;
            }
        }
        int64_t np_ = written - w0;
        n_points[o] = np_;
        memcpy(scratch, out_mx + w0, sizeof(double) * (size_t)np_);
        med_x[o] = median_of(scratch, np_);
        memcpy(scratch, out_my + w0, sizeof(double) * (size_t)np_);
        med_y[o] = median_of(scratch, np_);
    }
    free(dist); free(ddx); free(ddy); free(sel); free(band); free(nx); free(ny); free(sx);
    free(sy); free(nslot); free(at); free(scratch); free(coarse_at); free(coarse);
    return status ? status : written;
}

/* The premises reason's finding (analysis/reasons.py, `premises_found`, whose numpy path this
 * mirrors): the instants (occ, t, dt, x, y; in (occ, t) order, read as `n_chunks` chunks
 * one after another: chunk_n[c] rows at the addresses occ_at[c], ...) within reach of
 * police places. A point looks up its cell, floor(x / size) and floor(y / size), among the
 * listed cells (cell_x, cell_y, cell_place: each place in its own cell and the eight
 * around it, sorted by cell then place), and is at each listed place whose distance
 * sqrt(dx * dx + dy * dy) is within its reach (numpy's bits: no fused multiply-add).
 * Writes the runs of the instants at some place with dt > 0, per occasion (a run goes on
 * while the next instant starts where the last ended or before: run_occ, run0, run1),
 * and per occasion and group (places' `group`, nondecreasing in place order) the visit:
 * the first (instant, place) pair's place, the smallest t, the largest t + dt, dt summed
 * over the pairs and the largest distance. counts[0], counts[1]: how many runs, visits.
 * Returns 0; -1 when memory runs out; -2 when more than `cap` visits (call again with
 * cap = the instants times the longest list of a cell); -3 when the instants are not in
 * that order (each t + dt at or before the next t: numpy's general join decides then). */
int64_t wa_premises(int64_t n_chunks, const int64_t *chunk_n, const int64_t *occ_at,
                    const int64_t *t_at, const int64_t *dt_at, const int64_t *x_at,
                    const int64_t *y_at, const double *px, const double *py,
                    const double *reach, const int64_t *group, int64_t n_groups, double size,
                    int64_t n_cells, const int64_t *cell_x, const int64_t *cell_y,
                    const int64_t *cell_place, int64_t *counts, int64_t *run_occ,
                    int64_t *run0, int64_t *run1, int64_t cap, int64_t *v_occ,
                    int64_t *v_place, int64_t *v_t0, int64_t *v_t1, int64_t *v_sum,
                    double *v_max) {
    counts[0] = counts[1] = 0;
    if (n_cells == 0) return 0;
    /* each group's visit in the occasion at hand, and the groups it has met */
    int64_t *first = malloc(sizeof(int64_t) * (size_t)n_groups);
    int64_t *met = malloc(sizeof(int64_t) * (size_t)n_groups);
    int64_t *g0 = malloc(sizeof(int64_t) * (size_t)n_groups);
    int64_t *g1 = malloc(sizeof(int64_t) * (size_t)n_groups);
    int64_t *gsum = malloc(sizeof(int64_t) * (size_t)n_groups);
    double *gmax = malloc(sizeof(double) * (size_t)n_groups);
    if (!first || !met || !g0 || !g1 || !gsum || !gmax) {
        free(first); free(met); free(g0); free(g1); free(gsum); free(gmax);
        return -1;
    }
    for (int64_t g = 0; g < n_groups; g++) first[g] = -1;
    double lo_x = (double)cell_x[0], hi_x = (double)cell_x[n_cells - 1];
    int64_t runs = 0, visits = 0, n_met = 0, status = 0, seen = 0;
    int64_t at_occ = 0, at_t = 0;     /* the instant before (when seen) */
    int64_t hit_end = 0;              /* the last hit's t + dt in this occasion, if any */
    int has_hit = 0;
    for (int64_t c = 0; c <= n_chunks && status == 0; c++) {
        int64_t n = c < n_chunks ? chunk_n[c] : 0;
        const int64_t *occ = c < n_chunks ? (const int64_t *)(intptr_t)occ_at[c] : NULL;
        const int64_t *t = c < n_chunks ? (const int64_t *)(intptr_t)t_at[c] : NULL;
        const int64_t *dt = c < n_chunks ? (const int64_t *)(intptr_t)dt_at[c] : NULL;
        const double *x = c < n_chunks ? (const double *)(intptr_t)x_at[c] : NULL;
        const double *y = c < n_chunks ? (const double *)(intptr_t)y_at[c] : NULL;
        for (int64_t i = 0; i <= n; i++) {
            int last = c == n_chunks;  /* (past the last instant: the last occasion ends) */
            if (i == n && !last) break;
            if (seen && (last || occ[i] != at_occ)) {
                /* the occasion ends: its visits in group order */
                for (int64_t a = 1; a < n_met; a++)
                    for (int64_t b = a; b > 0 && met[b - 1] > met[b]; b--) {
                        int64_t u = met[b]; met[b] = met[b - 1]; met[b - 1] = u;
                    }
                if (visits + n_met > cap) { status = -2; break; }
                for (int64_t k = 0; k < n_met; k++) {
                    int64_t g = met[k];
                    v_occ[visits] = at_occ;
                    v_place[visits] = first[g];
                    v_t0[visits] = g0[g];
                    v_t1[visits] = g1[g];
                    v_sum[visits] = gsum[g];
                    v_max[visits++] = gmax[g];
                    first[g] = -1;
                }
                n_met = 0;
                has_hit = 0;
            }
            if (last) break;
            if (seen && (occ[i] < at_occ || (occ[i] == at_occ && t[i] <= at_t))) {
                status = -3;
                break;
            }
            seen = 1;
            at_occ = occ[i];
            at_t = t[i];
            double cxd = floor(x[i] / size), cyd = floor(y[i] / size);
            if (!(cxd >= lo_x && cxd <= hi_x) || !(cyd >= -9.2e18 && cyd <= 9.2e18)) continue;
            int64_t cx = (int64_t)cxd, cy = (int64_t)cyd;
            int64_t lo = 0, hi = n_cells; /* the first listed cell at or after (cx, cy) */
            while (lo < hi) {
                int64_t mid = lo + (hi - lo) / 2;
                if (cell_x[mid] < cx || (cell_x[mid] == cx && cell_y[mid] < cy)) lo = mid + 1;
                else hi = mid;
            }
            int hit = 0;
            for (int64_t k = lo; k < n_cells && cell_x[k] == cx && cell_y[k] == cy; k++) {
                int64_t p = cell_place[k];
                double dx = px[p] - x[i], dy = py[p] - y[i];
                double d = sqrt(dx * dx + dy * dy);
                if (!(d <= reach[p])) continue;
                hit = 1;
                int64_t g = group[p];
                if (first[g] < 0) {
                    first[g] = p;
                    met[n_met++] = g;
                    g0[g] = t[i];
                    g1[g] = t[i] + dt[i];
                    gsum[g] = dt[i];
                    gmax[g] = d;
                } else {
                    if (t[i] < g0[g]) g0[g] = t[i];
                    if (t[i] + dt[i] > g1[g]) g1[g] = t[i] + dt[i];
                    gsum[g] += dt[i];
                    if (d > gmax[g]) gmax[g] = d;
                }
            }
            if (!hit || dt[i] <= 0) continue;
            if (has_hit && hit_end > t[i]) { status = -3; break; }  /* (overlapping instants) */
            if (has_hit && t[i] <= run1[runs - 1]) {
                run1[runs - 1] = t[i] + dt[i];
            } else {
                run_occ[runs] = occ[i];
                run0[runs] = t[i];
                run1[runs++] = t[i] + dt[i];
            }
            hit_end = t[i] + dt[i];
            has_hit = 1;
        }
    }
    free(first); free(met); free(g0); free(g1); free(gsum); free(gmax);
    counts[0] = runs;
    counts[1] = visits;
    return status;
}

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, "_native",
    "The engine's compiled candidate search; called through ctypes (whereabouts.engine.native).",
    -1, NULL, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&native_module); }
