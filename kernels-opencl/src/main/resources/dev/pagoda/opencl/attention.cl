// Fused multi-head attention, flash style: one work-item per (batch row, head, query) walks the
// keys once with an online softmax (running max m, running sum l, rescaled accumulator), so no
// score matrix exists anywhere. The output columns of a head are produced ATT_DV at a time (the
// private accumulator); a head wider than that (the VAE's single 512-wide head) repeats the walk
// per column chunk. The work-items of a group are neighbouring queries of one head: they read
// the same key and value elements at the same time, which caches (or broadcasts) well.
//
// q, k, v are [B, L, heads·D] views whose last dimension is unit-stride: element (b, i, c) sits at
// offset + b·batchStride + i·rowStride + c. The additive mask is read through four strides over
// [B, heads, Lq, Lk] (zero on broadcast dimensions). identity[b] != 0 marks PAG's perturbed rows:
// they return v itself (Lq == Lk) without touching q or k.

__kernel void attention(const int lq, const int lk, const int heads, const int d, const int dv,
                        const float scale,
                        __global const float* q, const long qOffset, const long qBatch, const long qRow,
                        __global const float* k, const long kOffset, const long kBatch, const long kRow,
                        __global const float* v, const long vOffset, const long vBatch, const long vRow,
                        __global const float* mask, const long mOffset, const long4 mStride, const int hasMask,
                        __global const int* identity, __global float* out) {
    const int i = get_global_id(0);
    const int h = get_global_id(1);
    const int b = get_global_id(2);
    if (i >= lq) {
        return;
    }
    __global float* o = out + ((long) b * lq + i) * heads * dv + (long) h * dv;
    __global const float* vb = v + vOffset + b * vBatch + (long) h * dv;
    if (identity[b]) {
        for (int c = 0; c < dv; c++) {
            o[c] = vb[i * vRow + c];
        }
        return;
    }
    __global const float* qi = q + qOffset + b * qBatch + i * qRow + (long) h * d;
    __global const float* kb = k + kOffset + b * kBatch + (long) h * d;
    __global const float* mrow = mask + mOffset + b * mStride.x + h * mStride.y + i * mStride.z;
    // Heads up to ATT_DV wide (SDXL's 64) keep their query row in registers for the whole walk.
    float qp[ATT_DV];
    for (int t = 0; t < ATT_DV; t++) {
        qp[t] = t < d ? qi[t] : 0.0f;
    }
    for (int c0 = 0; c0 < dv; c0 += ATT_DV) {
        const int cn = min(ATT_DV, dv - c0);
        float acc[ATT_DV];
        for (int c = 0; c < ATT_DV; c++) {
            acc[c] = 0.0f;
        }
        float m = -INFINITY;
        float l = 0.0f;
        for (int j = 0; j < lk; j++) {
            __global const float* kj = kb + j * kRow;
            float s = 0.0f;
            if (d <= ATT_DV) {
                for (int t = 0; t < d; t++) {
                    s = fma(qp[t], kj[t], s);
                }
            } else {
                for (int t = 0; t < d; t++) {
                    s = fma(qi[t], kj[t], s);
                }
            }
            s *= scale;
            if (hasMask) {
                s += mrow[j * mStride.w];
            }
            if (s == -INFINITY) {
                continue;
            }
            float mNew = fmax(m, s);
            float correction = exp(m - mNew);
            float p = exp(s - mNew);
            l = l * correction + p;
            __global const float* vj = vb + j * vRow + c0;
            for (int c = 0; c < ATT_DV; c++) {
                if (c < cn) {
                    acc[c] = fma(p, vj[c], acc[c] * correction);
                }
            }
            m = mNew;
        }
        // A row whose keys are all masked out gives zeros, as torch's fused attention does.
        float inv = l > 0.0f ? 1.0f / l : 0.0f;
        for (int c = 0; c < cn; c++) {
            o[c0 + c] = acc[c] * inv;
        }
    }
}
