/* supernav OpenCL platform: the kernels (OpenCL C 1.2). Embedded in the host code at build
 * time (Makefile: build/gen/sn_opencl_kernels.inc) and compiled at run time for the device.
 *
 * Each convolution has the exact contract of its reference kernel (engine/kernels/): the
 * same accumulation order (kernel rows, kernel columns, input channels), the scale and bias
 * applied as a separate multiply and add, the same clamp; contraction into fused
 * multiply-adds is off, so fp32 results match the reference to rounding (bit for bit on an
 * IEEE device that honours the pragma). int8 uses the reference's integer arithmetic
 * (sn_quant.c: 64-bit Q31 products, rounding shifts) and is bit-exact.
 *
 * Convolutions: one work-item per 8 output channels of one output pixel (dimension 0 the
 * channel group, dimension 1 the pixel). Sizes are padded to the work-group; the excess
 * returns.
 *
 * Weights are packed by the host: dense [tap][input][output] with W_LD elements between
 * inputs and W_TAP between taps (tap = ky * kernel_w + kx); depthwise [tap][channel] with
 * W_LD between taps; W_LD is the output (channel) count rounded up to 8, zero-padded. W_OFF is the view's first element in the buffer (a resident SubGraph
 * shares one buffer). VEC holds the per-channel vectors from element V_OFF: fp32 scale then
 * bias (out_c each); int8 bias, multiplier, shift (out_c each). */
#pragma OPENCL FP_CONTRACT OFF

#define INT32_MIN_ (-2147483647 - 1)
#define INT32_MAX_ 2147483647

/* sn_q31_mul: round(a * b / 2^31), TFLite's rounding and saturation */
static int q31_mul(int a, int b)
{
    long ab, nudge;
    if (a == INT32_MIN_ && b == INT32_MIN_)
        return INT32_MAX_;
    ab = (long)a * (long)b;
    nudge = ab >= 0 ? (1L << 30) : (1L - (1L << 30));
    return (int)((ab + nudge) / (1L << 31));
}

/* sn_rounding_shift_right: round half away from zero */
static int rounding_shift_right(int x, int exponent)
{
    int mask, remainder, threshold;
    if (exponent <= 0)
        return x;
    mask = (int)((1L << exponent) - 1);
    remainder = x & mask;
    threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* sn_requantize */
static int requantize(int acc, int multiplier, int shift)
{
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    long x;
    if (multiplier < 0) {
        multiplier = multiplier == INT32_MIN_ ? INT32_MAX_ : -multiplier;
        acc = acc == INT32_MIN_ ? INT32_MAX_ : -acc;
    }
    x = (long)acc * (1L << left);
    if (x > INT32_MAX_)
        x = INT32_MAX_;
    if (x < INT32_MIN_)
        x = INT32_MIN_;
    return rounding_shift_right(q31_mul((int)x, multiplier), right);
}

static float clamp_ref(float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static char finish_s8(int acc, int multiplier, int shift, int output_offset, int act_min,
                      int act_max)
{
    int v = requantize(acc, multiplier, shift) + output_offset;
    if (v < act_min)
        v = act_min;
    if (v > act_max)
        v = act_max;
    return (char)v;
}

/* geometry: g0 = in_h, in_w, in_c, out_h; g1 = out_w, out_c, kernel_h, kernel_w;
 * g2 = stride_h, stride_w, pad_top, pad_left; wv = w_off, w_ld, w_tap, v_off.
 * Each work-item computes 8 neighbouring output channels of one pixel as a vector (W_LD is a
 * multiple of 8 and the packed weights are zero beyond out_c); lanes past out_c are not
 * stored. Every lane accumulates in the reference's order, so vectors change no result. */

__kernel void conv2d_f32(__global const float *restrict in, __global const float *restrict w,
                         __global const float *restrict vec, __global float *restrict out,
                         int4 g0, int4 g1, int4 g2, int4 wv, int has_scale, int has_bias,
                         float act_min, float act_max)
{
    const int o8 = (int)get_global_id(0) * 8, px = (int)get_global_id(1);
    const int in_h = g0.s0, in_w = g0.s1, in_c = g0.s2, out_h = g0.s3;
    const int out_w = g1.s0, out_c = g1.s1, kh = g1.s2, kw = g1.s3;
    int oy, ox, ky, kx, i, j;
    float8 acc = (float8)(0.0f);
    float r[8];
    if (o8 >= out_c || px >= out_h * out_w)
        return;
    oy = px / out_w;
    ox = px - oy * out_w;
    for (ky = 0; ky < kh; ++ky) {
        const int iy = oy * g2.s0 + ky - g2.s2;
        if (iy < 0 || iy >= in_h)
            continue;
        for (kx = 0; kx < kw; ++kx) {
            const int ix = ox * g2.s1 + kx - g2.s3;
            __global const float *ip, *wp;
            if (ix < 0 || ix >= in_w)
                continue;
            ip = in + (iy * in_w + ix) * in_c;
            wp = w + wv.s0 + (ky * kw + kx) * wv.s2 + o8;
            for (i = 0; i < in_c; ++i)
                acc += (float8)(ip[i]) * vload8(0, wp + i * wv.s1);
        }
    }
    vstore8(acc, 0, r);
    for (j = 0; j < 8 && o8 + j < out_c; ++j) {
        float v = r[j];
        if (has_scale)
            v *= vec[wv.s3 + o8 + j];
        if (has_bias)
            v += vec[wv.s3 + out_c + o8 + j];
        out[px * out_c + o8 + j] = clamp_ref(v, act_min, act_max);
    }
}

/* Depthwise: the input's channels are read 8 at a time too; the activation buffers carry
 * 64 bytes of slack past the tensor for the last pixel's vector. */
__kernel void depthwise_conv2d_f32(__global const float *restrict in,
                                   __global const float *restrict w,
                                   __global const float *restrict vec, __global float *restrict out,
                                   int4 g0, int4 g1, int4 g2, int4 wv, int has_scale, int has_bias,
                                   float act_min, float act_max)
{
    const int c8 = (int)get_global_id(0) * 8, px = (int)get_global_id(1);
    const int in_h = g0.s0, in_w = g0.s1, in_c = g0.s2, out_h = g0.s3;
    const int out_w = g1.s0, out_c = g1.s1, kh = g1.s2, kw = g1.s3;
    int oy, ox, ky, kx, j;
    float8 acc = (float8)(0.0f);
    float r[8];
    if (c8 >= out_c || px >= out_h * out_w)
        return;
    oy = px / out_w;
    ox = px - oy * out_w;
    for (ky = 0; ky < kh; ++ky) {
        const int iy = oy * g2.s0 + ky - g2.s2;
        if (iy < 0 || iy >= in_h)
            continue;
        for (kx = 0; kx < kw; ++kx) {
            const int ix = ox * g2.s1 + kx - g2.s3;
            if (ix < 0 || ix >= in_w)
                continue;
            acc += vload8(0, in + (iy * in_w + ix) * in_c + c8) *
                   vload8(0, w + wv.s0 + (ky * kw + kx) * wv.s1 + c8);
        }
    }
    vstore8(acc, 0, r);
    for (j = 0; j < 8 && c8 + j < out_c; ++j) {
        float v = r[j];
        if (has_scale)
            v *= vec[wv.s3 + c8 + j];
        if (has_bias)
            v += vec[wv.s3 + out_c + c8 + j];
        out[px * out_c + c8 + j] = clamp_ref(v, act_min, act_max);
    }
}

/* q = input_offset, output_offset, act_min, act_max */
__kernel void conv2d_s8(__global const char *restrict in, __global const char *restrict w,
                        __global const int *restrict vec, __global char *restrict out, int4 g0,
                        int4 g1, int4 g2, int4 wv, int has_bias, int4 q)
{
    const int o8 = (int)get_global_id(0) * 8, px = (int)get_global_id(1);
    const int in_h = g0.s0, in_w = g0.s1, in_c = g0.s2, out_h = g0.s3;
    const int out_w = g1.s0, out_c = g1.s1, kh = g1.s2, kw = g1.s3;
    int oy, ox, ky, kx, i, j;
    int8 acc = (int8)(0);
    int r[8];
    if (o8 >= out_c || px >= out_h * out_w)
        return;
    oy = px / out_w;
    ox = px - oy * out_w;
    for (ky = 0; ky < kh; ++ky) {
        const int iy = oy * g2.s0 + ky - g2.s2;
        if (iy < 0 || iy >= in_h)
            continue;
        for (kx = 0; kx < kw; ++kx) {
            const int ix = ox * g2.s1 + kx - g2.s3;
            __global const char *ip, *wp;
            if (ix < 0 || ix >= in_w)
                continue;
            ip = in + (iy * in_w + ix) * in_c;
            wp = w + wv.s0 + (ky * kw + kx) * wv.s2 + o8;
            for (i = 0; i < in_c; ++i)
                acc += (int8)((int)ip[i] + q.s0) * convert_int8(vload8(0, wp + i * wv.s1));
        }
    }
    vstore8(acc, 0, r);
    for (j = 0; j < 8 && o8 + j < out_c; ++j) {
        const int o = o8 + j;
        out[px * out_c + o] = finish_s8((has_bias ? vec[wv.s3 + o] : 0) + r[j], vec[wv.s3 + out_c + o],
                                        vec[wv.s3 + 2 * out_c + o], q.s1, q.s2, q.s3);
    }
}

__kernel void depthwise_conv2d_s8(__global const char *restrict in,
                                  __global const char *restrict w,
                                  __global const int *restrict vec, __global char *restrict out,
                                  int4 g0, int4 g1, int4 g2, int4 wv, int has_bias, int4 q)
{
    const int c8 = (int)get_global_id(0) * 8, px = (int)get_global_id(1);
    const int in_h = g0.s0, in_w = g0.s1, in_c = g0.s2, out_h = g0.s3;
    const int out_w = g1.s0, out_c = g1.s1, kh = g1.s2, kw = g1.s3;
    int oy, ox, ky, kx, j;
    int8 acc = (int8)(0);
    int r[8];
    if (c8 >= out_c || px >= out_h * out_w)
        return;
    oy = px / out_w;
    ox = px - oy * out_w;
    for (ky = 0; ky < kh; ++ky) {
        const int iy = oy * g2.s0 + ky - g2.s2;
        if (iy < 0 || iy >= in_h)
            continue;
        for (kx = 0; kx < kw; ++kx) {
            const int ix = ox * g2.s1 + kx - g2.s3;
            if (ix < 0 || ix >= in_w)
                continue;
            acc += (convert_int8(vload8(0, in + (iy * in_w + ix) * in_c + c8)) + (int8)(q.s0)) *
                   convert_int8(vload8(0, w + wv.s0 + (ky * kw + kx) * wv.s1 + c8));
        }
    }
    vstore8(acc, 0, r);
    for (j = 0; j < 8 && c8 + j < out_c; ++j) {
        const int c = c8 + j;
        out[px * out_c + c] = finish_s8((has_bias ? vec[wv.s3 + c] : 0) + r[j], vec[wv.s3 + out_c + c],
                                        vec[wv.s3 + 2 * out_c + c], q.s1, q.s2, q.s3);
    }
}

/* ---- ARAC micro-flows (the engine's run_tile, on the device) ---------------------------- */

/* The tile's canvas region into its input buffer: pixel / 255 (fp32) or pixel - 128 (int8).
 * r = r0, c0, rows, columns of the region; side = the canvas side. One work-item per pixel. */
__kernel void tile_input_f32(__global const uchar *restrict canvas, int side, int4 r,
                             __global float *restrict out)
{
    const int i = (int)get_global_id(0), y = i / r.s3, x = i - (i / r.s3) * r.s3;
    if (i >= r.s2 * r.s3)
        return;
    out[i] = (float)canvas[(r.s0 + y) * side + r.s1 + x] * 0x1.010102p-8f; /* 1.0f / 255.0f */
}

__kernel void tile_input_s8(__global const uchar *restrict canvas, int side, int4 r,
                            __global char *restrict out)
{
    const int i = (int)get_global_id(0), y = i / r.s3, x = i - (i / r.s3) * r.s3;
    if (i >= r.s2 * r.s3)
        return;
    out[i] = (char)((int)canvas[(r.s0 + y) * side + r.s1 + x] - 128);
}

/* Residual add over a region: out[y][x][c] += res[y + dy][x + dx][c], out OH x OW x C and
 * res of row width RW. s = OH, OW, C, RW; d = dy, dx. One work-item per element. */
__kernel void tile_add_f32(__global float *restrict out, __global const float *restrict res,
                           int4 s, int2 d)
{
    const int i = (int)get_global_id(0), c = i % s.s2, px = i / s.s2, y = px / s.s1,
              x = px - (px / s.s1) * s.s1;
    if (i >= s.s0 * s.s1 * s.s2)
        return;
    out[i] += res[((y + d.s0) * s.s3 + x + d.s1) * s.s2 + c];
}

/* sn_add_ref_s8 (TFLite int8 ADD). a = add.offset[0..2], m = add.multiplier[0..2],
 * sh = add.shift[0..2] (.s3 unused). */
__kernel void tile_add_s8(__global char *restrict out, __global const char *restrict res, int4 s,
                          int2 d, int4 a, int4 m, int4 sh)
{
    const int i = (int)get_global_id(0), c = i % s.s2, px = i / s.s2, y = px / s.s1,
              x = px - (px / s.s1) * s.s1;
    int u, v, t;
    if (i >= s.s0 * s.s1 * s.s2)
        return;
    u = requantize(((int)out[i] + a.s0) * (1 << 20), m.s0, sh.s0);
    v = requantize(((int)res[((y + d.s0) * s.s3 + x + d.s1) * s.s2 + c] + a.s1) * (1 << 20), m.s1,
                   sh.s1);
    t = requantize(u + v, m.s2, sh.s2) + a.s2;
    out[i] = (char)(t < -128 ? -128 : (t > 127 ? 127 : t));
}

/* The tile's output (OH x OW x C) into the stitched map (SIDE x SIDE x FC) at (r0, c0).
 * s = OH, OW, C, FC; p = r0, c0, side. One work-item per element. */
__kernel void tile_stitch_f32(__global const float *restrict src, __global float *restrict dst,
                              int4 s, int4 p)
{
    const int i = (int)get_global_id(0), c = i % s.s2, px = i / s.s2, y = px / s.s1,
              x = px - (px / s.s1) * s.s1;
    if (i >= s.s0 * s.s1 * s.s2)
        return;
    dst[((y + p.s0) * p.s2 + x + p.s1) * s.s3 + c] = src[i];
}

__kernel void tile_stitch_s8(__global const char *restrict src, __global char *restrict dst,
                             int4 s, int4 p)
{
    const int i = (int)get_global_id(0), c = i % s.s2, px = i / s.s2, y = px / s.s1,
              x = px - (px / s.s1) * s.s1;
    if (i >= s.s0 * s.s1 * s.s2)
        return;
    dst[((y + p.s0) * p.s2 + x + p.s1) * s.s3 + c] = src[i];
}
